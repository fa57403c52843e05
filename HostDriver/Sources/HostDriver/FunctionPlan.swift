/// What attaching or detaching one function takes, as values: the host
/// commands (vDPA, sysfs), the QEMU arguments that start a guest with the
/// function, and the QMP commands that hot-plug it into a running guest or
/// take it out again. Pure, so the hardware paths that cannot run without
/// a card are checked command by command, and printed by `--dry-run`.
public struct FunctionPlan: Equatable, Sendable {
  /// QEMU ids of the function's parts, made from its name.
  public struct Identifiers: Equatable, Sendable {
    /// The guest-visible device (`device_add`/`device_del`).
    public var device: String
    /// The network back-end (`-netdev`), for NICs.
    public var netdev: String
    /// The vhost-user socket's character device.
    public var chardev: String
    /// The block node (`-blockdev`), for vDPA volumes.
    public var blockNode: String
    /// The vDPA device's name on the host (`vdpa dev add name …`).
    public var vdpaDevice: String

    public init(function name: String) {
      device = "bh-" + name
      netdev = "bh-" + name + "-n"
      chardev = "bh-" + name + "-c"
      blockNode = "bh-" + name + "-b"
      vdpaDevice = "bh-" + name
    }

    /// The function whose device a QEMU device id names, nil for a device
    /// the host agent did not make.
    public static func function(ofDevice id: String) -> String? {
      id.hasPrefix("bh-") && id.count > 3 ? String(id.dropFirst(3)) : nil
    }
  }

  public var function: HostFunction
  public var ids: Identifiers
  /// Run on the host before QEMU sees the function (attach).
  public var hostCommandsBeforeAttach: [[String]]
  /// Run on the host once QEMU let go of it (detach).
  public var hostCommandsAfterDetach: [[String]]
  /// The function at QEMU's start (`bus` is the PCIe root port it sits on,
  /// so that it can be unplugged later).
  public var qemuArguments: [String]
  /// Hot-plug into a running guest, in order.
  public var attach: [QMPCommand]
  /// Asks the guest to release the device; the device is gone when QEMU
  /// reports `DEVICE_DELETED` for `ids.device`.
  public var unplug: QMPCommand
  /// Frees the back-end once the device is gone, in order.
  public var release: [QMPCommand]

  /// The vhost-vdpa character device the kernel made for a vDPA device: the
  /// host driver looks it up in sysfs after `vdpa dev add`, so a plan for
  /// the vDPA path is made with that path (or a placeholder for printing).
  public static func vhostVdpaLookup(_ vdpaDevice: String) -> [String] {
    ["sh", "-c", "ls -d /sys/bus/vdpa/devices/\(vdpaDevice)/vhost-vdpa-* | xargs -n1 basename"]
  }

  /// - Parameters:
  ///   - bus: the PCIe root port (q35) the device goes on; nil for the
  ///     machine's default bus (cold plug only: such a device cannot be
  ///     unplugged).
  ///   - vhostVdpaDevice: for the vDPA path, the `/dev/vhost-vdpa-N` the
  ///     kernel gave the device.
  public init(
    _ function: HostFunction, bus: String?, vhostVdpaDevice: String = "/dev/vhost-vdpa-N"
  ) throws(HostDriverError) {
    try function.validate()
    self.function = function
    let ids = Identifiers(function: function.name)
    self.ids = ids
    var before: [[String]] = []
    var after: [[String]] = []
    var arguments: [String] = []
    var attach: [QMPCommand] = []
    var release: [QMPCommand] = []
    var device: [String: QMPValue] = ["id": .string(ids.device)]
    if let bus { device["bus"] = .string(bus) }

    switch (function.kind, function.path) {
    case (.net(let mac, let pairs), .vhostUser(let socket)):
      arguments += ["-chardev", "socket,id=\(ids.chardev),path=\(socket),reconnect-ms=1000"]
      var netdev = "vhost-user,id=\(ids.netdev),chardev=\(ids.chardev)"
      if pairs > 1 { netdev += ",queues=\(pairs)" }
      arguments += ["-netdev", netdev]
      attach.append(Self.socketChardev(ids.chardev, socket))
      var add: [String: QMPValue] = [
        "type": "vhost-user", "id": .string(ids.netdev), "chardev": .string(ids.chardev),
      ]
      if pairs > 1 { add["queues"] = .integer(pairs) }
      attach.append(QMPCommand("netdev_add", add))
      release = [
        QMPCommand("netdev_del", ["id": .string(ids.netdev)]),
        QMPCommand("chardev-remove", ["id": .string(ids.chardev)]),
      ]
      Self.netDevice(&device, ids: ids, mac: mac, pairs: pairs)

    case (.block, .vhostUser(let socket)):
      arguments += ["-chardev", "socket,id=\(ids.chardev),path=\(socket),reconnect-ms=1000"]
      attach.append(Self.socketChardev(ids.chardev, socket))
      release = [QMPCommand("chardev-remove", ["id": .string(ids.chardev)])]
      device["driver"] = "vhost-user-blk-pci"
      device["chardev"] = .string(ids.chardev)

    case (.net(let mac, let pairs), .vdpa(let managementDevice)):
      before.append([
        "vdpa", "dev", "add", "name", ids.vdpaDevice, "mgmtdev", managementDevice, "mac", mac, "max_vqp",
        String(pairs),
      ])
      after.append(["vdpa", "dev", "del", ids.vdpaDevice])
      var netdev = "vhost-vdpa,id=\(ids.netdev),vhostdev=\(vhostVdpaDevice)"
      if pairs > 1 { netdev += ",queues=\(pairs)" }
      arguments += ["-netdev", netdev]
      var add: [String: QMPValue] = [
        "type": "vhost-vdpa", "id": .string(ids.netdev), "vhostdev": .string(vhostVdpaDevice),
      ]
      if pairs > 1 { add["queues"] = .integer(pairs) }
      attach.append(QMPCommand("netdev_add", add))
      release = [QMPCommand("netdev_del", ["id": .string(ids.netdev)])]
      Self.netDevice(&device, ids: ids, mac: mac, pairs: pairs)

    case (.block, .vdpa(let managementDevice)):
      before.append(["vdpa", "dev", "add", "name", ids.vdpaDevice, "mgmtdev", managementDevice])
      after.append(["vdpa", "dev", "del", ids.vdpaDevice])
      // QEMU's vhost-vdpa block driver (libblkio) needs direct I/O.
      arguments += [
        "-blockdev",
        "driver=virtio-blk-vhost-vdpa,node-name=\(ids.blockNode),path=\(vhostVdpaDevice),cache.direct=on",
      ]
      attach.append(
        QMPCommand(
          "blockdev-add",
          [
            "driver": "virtio-blk-vhost-vdpa", "node-name": .string(ids.blockNode),
            "path": .string(vhostVdpaDevice),
            "cache": .object(["direct": true]),
          ]))
      release = [QMPCommand("blockdev-del", ["node-name": .string(ids.blockNode)])]
      device["driver"] = "virtio-blk-pci"
      device["drive"] = .string(ids.blockNode)

    case (_, .pci(let address)):
      // Bare metal: no hypervisor. The function is the host's own PCI
      // device; the stock virtio-pci driver takes it.
      let sysfs = "/sys/bus/pci/devices/" + address
      before = [
        ["sh", "-c", "echo virtio-pci > \(sysfs)/driver_override"],
        ["sh", "-c", "echo \(address) > /sys/bus/pci/drivers_probe"],
      ]
      after = [
        ["sh", "-c", "[ -e \(sysfs)/driver ] && echo \(address) > \(sysfs)/driver/unbind || true"],
        ["sh", "-c", "echo > \(sysfs)/driver_override"],
      ]
    }
    // Every path but bare metal ends in a guest-visible QEMU device.
    if !function.path.isBareMetal {
      arguments += ["-device", Self.commaList(device)]
      attach.append(QMPCommand("device_add", device))
    }
    self.hostCommandsBeforeAttach = before
    self.hostCommandsAfterDetach = after
    self.qemuArguments = arguments
    self.attach = attach
    self.unplug = QMPCommand("device_del", ["id": .string(ids.device)])
    self.release = release
  }

  static func socketChardev(_ id: String, _ socket: String) -> QMPCommand {
    QMPCommand(
      "chardev-add",
      [
        "id": .string(id),
        "backend": .object([
          "type": "socket",
          "data": .object([
            "addr": .object(["type": "unix", "data": .object(["path": .string(socket)])]),
            "server": false,
            // The card may restart: QEMU reconnects and the guest keeps its NIC.
            "reconnect-ms": 1000,
          ]),
        ]),
      ])
  }

  static func netDevice(_ device: inout [String: QMPValue], ids: Identifiers, mac: String, pairs: Int) {
    device["driver"] = "virtio-net-pci"
    device["netdev"] = .string(ids.netdev)
    device["mac"] = .string(mac)
    if pairs > 1 {
      device["mq"] = true
      // virtio 1.2 §5.1.6.5.5: a vector per queue, plus config and control.
      device["vectors"] = .integer(2 * pairs + 2)
    }
  }

  /// `-device` syntax: the driver first, then key=value in a stable order.
  static func commaList(_ device: [String: QMPValue]) -> String {
    var parts: [String] = []
    if case .string(let driver) = device["driver"] { parts.append(driver) }
    for key in device.keys.sorted() where key != "driver" {
      switch device[key]! {
      case .string(let s): parts.append("\(key)=\(s)")
      case .integer(let i): parts.append("\(key)=\(i)")
      case .boolean(let b): parts.append("\(key)=\(b ? "on" : "off")")
      case .object: continue
      }
    }
    return parts.joined(separator: ",")
  }

  /// PCIe root ports for a q35 guest whose functions come and go: each
  /// holds one device.
  public static func rootPortArguments(count: Int) -> [String] {
    (0..<count).flatMap { i in
      ["-device", "pcie-root-port,id=\(rootPortName(i)),chassis=\(i + 1),slot=\(i + 1)"]
    }
  }

  public static func rootPortName(_ index: Int) -> String { "bh-port\(index)" }
}
