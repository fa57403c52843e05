import Foundation
import HostDriver

/// The command that starts a guest: pure, so that the arguments can be
/// checked without running QEMU.
public struct QemuCommandLine: Equatable, Sendable {
  /// The command and its arguments (`ip netns exec NS` first when the guest
  /// runs in a namespace).
  public var command: [String]
  /// The scenario is too long for the kernel command line: write it to the
  /// file given to `init(_:scenarioFile:)` before starting QEMU.
  public var needsScenarioFile: Bool

  /// The kernel command line holds 2048 bytes on x86 (4096 on arm64);
  /// leave room for the rest.
  public static let maximumInlineScenario = 1200
  /// The fw_cfg file the guest's init reads when the scenario is not inline.
  public static let scenarioFirmwareName = "opt/bulkhead/run"

  public init(_ guest: GuestConfiguration, scenarioFile: String) {
    // Not `cryptomgr.notests`: it would save about 0.3 s of boot under TCG,
    // but then ESP states cannot be made (the IV generators find no RNG).
    var kernelArguments: [String]
    switch guest.architecture {
    case .x86_64:
      kernelArguments = [
        "console=ttyS0", "quiet", "panic=-1",
        // TCG: the TSC is as good as any clock, and calibrating it against
        // the emulated PIT only costs boot time.
        "tsc=reliable", "no_timer_check", "mitigations=off",
      ]
    case .aarch64:
      kernelArguments = ["console=ttyAMA0", "quiet", "panic=-1", "mitigations=off"]
    }
    kernelArguments.append("bulkhead.hostname=\(guest.name)")
    let encoded = Data(guest.scenario.utf8).base64EncodedString()
    needsScenarioFile = encoded.count > Self.maximumInlineScenario
    if !needsScenarioFile { kernelArguments.append("bulkhead.run=\(encoded)") }
    kernelArguments += guest.extraKernelArguments

    var qemu = [
      "qemu-system-\(guest.architecture.rawValue)", "-accel", "tcg", "-machine",
      "\(guest.machine),memory-backend=mem",
      "-cpu", guest.cpu, "-m", "\(guest.memoryMiB)M",
      // vhost-user backends map guest memory: it must be a shareable memfd.
      "-object", "memory-backend-memfd,id=mem,size=\(guest.memoryMiB)M,share=on",
      "-nodefaults", "-no-user-config", "-display", "none",
    ]
    switch guest.console {
    case .standardOutput: qemu += ["-serial", "stdio"]
    case .socket(let path, let log):
      qemu += [
        "-chardev", "socket,id=console,path=\(path),server=on,wait=off,logfile=\(log),logappend=on",
        "-serial", "chardev:console",
      ]
    }
    if let agent = guest.agentSocket {
      qemu += ["-chardev", "socket,id=agent,path=\(agent),server=on,wait=off", "-serial", "chardev:agent"]
    }
    qemu += [
      "-no-reboot", "-kernel", guest.kernel, "-initrd", guest.initrd,
      "-append", kernelArguments.joined(separator: " "),
    ]
    if needsScenarioFile {
      qemu += ["-fw_cfg", "name=\(Self.scenarioFirmwareName),file=\(scenarioFile)"]
    }
    if let monitor = guest.monitorSocket {
      qemu += [
        "-chardev", "socket,id=monitor,path=\(monitor),server=on,wait=off", "-mon",
        "chardev=monitor,mode=control",
      ]
    }
    qemu += FunctionPlan.rootPortArguments(count: guest.hotplugPorts)
    for (index, nic) in guest.nics.enumerated() {
      let port = index < guest.hotplugPorts ? FunctionPlan.rootPortName(index) : nil
      qemu += Self.arguments(for: nic, index: index, bus: port)
    }
    for (index, disk) in guest.disks.enumerated() {
      let portIndex = guest.nics.count + index
      let port = portIndex < guest.hotplugPorts ? FunctionPlan.rootPortName(portIndex) : nil
      qemu += Self.arguments(for: disk, index: index, bus: port)
    }

    if let namespace = guest.namespace {
      command = ["ip", "netns", "exec", namespace] + qemu
    } else {
      command = qemu
    }
  }

  static func arguments(for nic: GuestNIC, index: Int, bus: String? = nil) -> [String] {
    if let name = nic.name, case .vhostUser(let socket) = nic.backend,
      let plan = try? FunctionPlan(
        HostFunction(
          name: name, kind: .net(mac: nic.mac, queuePairs: nic.queuePairs), path: .vhostUser(socket: socket)),
        bus: bus)
    {
      return plan.qemuArguments
    }
    let id = "net\(index)"
    var arguments: [String] = []
    var netdev: String
    switch nic.backend {
    case .vhostUser(let socket):
      arguments += ["-chardev", "socket,id=\(id)c,path=\(socket),reconnect-ms=1000"]
      netdev = "vhost-user,id=\(id),chardev=\(id)c"
    case .tap(let ifname):
      netdev = "tap,id=\(id),ifname=\(ifname),script=no,downscript=no"
    case .streamListen(let socket):
      netdev = "stream,id=\(id),server=on,addr.type=unix,addr.path=\(socket)"
    case .streamConnect(let socket):
      netdev = "stream,id=\(id),server=off,reconnect-ms=200,addr.type=unix,addr.path=\(socket)"
    case .dgram(let local, let remote):
      netdev =
        "dgram,id=\(id),local.type=unix,local.path=\(local),remote.type=unix,remote.path=\(remote)"
    case .userForwards(let forwards):
      // restrict=on: no route out of the guest but the guestfwd ones.
      // `cmd:` runs one socat per guest connection (a `tcp:` chardev would
      // be one stream for the guest's whole life: no reconnects).
      netdev = "user,id=\(id),restrict=on"
      for f in forwards {
        netdev += ",guestfwd=tcp:\(f.guestAddress):\(f.guestPort)-cmd:socat - TCP:127.0.0.1:\(f.hostPort)"
      }
    }
    var device = "virtio-net-pci,netdev=\(id),mac=\(nic.mac)"
    if nic.queuePairs > 1 {
      netdev += ",queues=\(nic.queuePairs)"
      // virtio 1.2 §5.1.6.5.5: one vector per queue, plus config and control.
      device += ",mq=on,vectors=\(2 * nic.queuePairs + 2)"
    }
    return arguments + ["-netdev", netdev, "-device", device]
  }

  static func arguments(for disk: GuestDisk, index: Int, bus: String? = nil) -> [String] {
    if let name = disk.name, case .vhostUserBlk(let socket) = disk.backend,
      let plan = try? FunctionPlan(
        HostFunction(name: name, kind: .block, path: .vhostUser(socket: socket)), bus: bus)
    {
      return plan.qemuArguments
    }
    switch disk.backend {
    case .vhostUserBlk(let socket):
      let id = "disk\(index)"
      return [
        "-chardev", "socket,id=\(id)c,path=\(socket),reconnect-ms=1000",
        "-device", "vhost-user-blk-pci,chardev=\(id)c,id=\(id)",
      ]
    case .rawFile(let path):
      let id = "disk\(index)"
      return [
        "-drive", "file=\(path),format=raw,if=none,id=\(id)",
        "-device", "virtio-blk-pci,drive=\(id),id=\(id)d",
      ]
    }
  }
}
