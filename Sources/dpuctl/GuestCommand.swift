import ArgumentParser
import Emulator
import Foundation
import HostDriver

/// `dpuctl guest`: the host agent. Attaches a card's functions to guests
/// and detaches them (Docs/host-driver.md).
struct GuestCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "guest",
    abstract: "Attach a card's NICs and volumes to guests, and detach them, while the guests run.",
    discussion: """
      In the emulated rack (`dpuctl emu up`) a guest's NIC is a card function
      served over vhost-user; `attach` hot-plugs it into a free PCIe slot of the
      running guest through QEMU's monitor, `detach` asks the guest to release
      it (a PCIe hot-unplug the guest's OS answers), then frees it on the host.
      A rack NIC is named after the guest the topology gives it to. A rack
      volume (a [[volume]] table: an encrypted disk the card serves over
      vhost-user-blk) is hot-plugged the same way and is the guest's next
      /dev/vdX; one guest at a time has it.

      On hardware the same functions come from the card's virtio PCI functions:
      --vdpa MGMTDEV makes a vDPA device (`vdpa dev add`) and hot-plugs it as
      vhost-vdpa; --pci BDF hands a function to the host's own virtio-pci driver
      (bare metal, no hypervisor). Without a card, --dry-run prints the commands
      those paths run.

      Examples:
        dpuctl guest list
        dpuctl guest detach a1 --nic a1
        dpuctl guest attach a1 --nic a1
        dpuctl guest detach a1 --volume v1
        dpuctl guest attach a2 --volume v1
        dpuctl guest attach vm7 --nic web0 --mac 02:ca:00:00:02:20 --vdpa pci/0000:03:00.2 \\
            --monitor /run/vm7/qmp.sock --dry-run
        dpuctl guest attach host --volume data --pci 0000:03:00.5 --dry-run
      """,
    subcommands: [GuestList.self, GuestAttach.self, GuestDetach.self])
}

/// Which function, and where it comes from.
struct FunctionOptions: ParsableArguments {
  @Option(help: "The NIC function to attach (in a rack: the name of the guest the topology gives it to).")
  var nic: String?
  @Option(help: "The volume function to attach (in a rack: the name of its [[volume]] table).")
  var volume: String?
  @Option(help: "Hardware: the card's vDPA management device (`vdpa mgmtdev show`), e.g. pci/0000:03:00.2.")
  var vdpa: String?
  @Option(
    help: "Hardware, bare metal: the card's PCI function for the host's virtio-pci driver, e.g. 0000:03:00.4."
  )
  var pci: String?
  @Option(help: "Hardware: the NIC's MAC address (the card assigns it in the rack).") var mac: String?
  @Option(help: "Hardware: the NIC's queue pairs.") var queues: Int = 1
  @Option(help: "Hardware: the running guest's QEMU monitor (QMP) socket.") var monitor: String?
  @Flag(help: "Print what would be run (host commands, QEMU arguments, QMP commands) and change nothing.")
  var dryRun = false

  func validate() throws {
    guard (nic == nil) != (volume == nil) else {
      throw ValidationError("give one of --nic NAME or --volume NAME")
    }
    guard vdpa == nil || pci == nil else { throw ValidationError("give --vdpa or --pci, not both") }
  }

  var isHardware: Bool { vdpa != nil || pci != nil }

  /// The rack function these options name.
  var rackFunction: Rack.FunctionName { nic.map { .nic($0) } ?? .volume(volume!) }

  /// The hardware function these options describe.
  func hardwareFunction() throws -> HostFunction {
    let path: HostFunction.Path = vdpa.map { .vdpa(managementDevice: $0) } ?? .pci(address: pci!)
    if let nic {
      guard let mac else {
        throw ValidationError("a hardware NIC needs --mac (the address the card gave it)")
      }
      return HostFunction(name: nic, kind: .net(mac: mac, queuePairs: queues), path: path)
    }
    return HostFunction(name: volume!, kind: .block, path: path)
  }

  /// `--dry-run` on a hardware path: every step, as it would run.
  func printPlan(_ function: HostFunction, attaching: Bool) throws {
    let plan: FunctionPlan
    do {
      plan = try FunctionPlan(
        function, bus: FunctionPlan.rootPortName(0), vhostVdpaDevice: "/dev/vhost-vdpa-N")
    } catch {
      throw HostDriverFailure(error)
    }
    print("# hardware path, not run (--dry-run)")
    if attaching {
      for command in plan.hostCommandsBeforeAttach { print("host: " + command.joined(separator: " ")) }
      if case .vdpa = function.path {
        print("host: " + FunctionPlan.vhostVdpaLookup(plan.ids.vdpaDevice).joined(separator: " ") + "   # N")
      }
      if !plan.qemuArguments.isEmpty {
        print("qemu (at start): " + plan.qemuArguments.joined(separator: " "))
      }
      for command in plan.attach { print("qmp (hot-plug): " + command.json) }
    } else {
      if !plan.attach.isEmpty {
        print("qmp: " + plan.unplug.json + "   # then wait for DEVICE_DELETED")
        for command in plan.release { print("qmp: " + command.json) }
      }
      for command in plan.hostCommandsAfterDetach { print("host: " + command.joined(separator: " ")) }
    }
  }
}

struct HostDriverFailure: Error, CustomStringConvertible {
  var description: String
  init(_ error: HostDriverError) { description = error.description }
}

func hostAction<T>(_ body: () throws -> T) throws -> T {
  do {
    return try body()
  } catch let error as HostDriverError {
    FileHandle.standardError.write(Data(("dpuctl guest: " + error.description + "\n").utf8))
    throw ExitCode(1)
  } catch let error as HostDriverFailure {
    FileHandle.standardError.write(Data(("dpuctl guest: " + error.description + "\n").utf8))
    throw ExitCode(1)
  } catch let error as RackError {
    FileHandle.standardError.write(Data(("dpuctl guest: " + error.description + "\n").utf8))
    throw ExitCode(1)
  }
}

struct GuestAttach: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "attach", abstract: "Hot-plug a card function into a running guest.",
    discussion: """
      In the rack, --nic NAME is the NIC the topology gives guest NAME, and
      --volume NAME a [[volume]] table's volume: it takes a free PCIe slot of
      the guest and is its next /dev/vdX (stock virtio_blk). A function
      another guest has is refused until that guest detaches it; a volume
      attaches only to a guest of its own card.

      Examples:
        dpuctl guest attach a1 --volume data1
        dpuctl guest attach a1 --nic a1
        dpuctl guest attach a1 --volume data1 --dry-run    # the QMP commands, not run
      """)
  @Argument(help: "Guest name.") var guest: String
  @OptionGroup var function: FunctionOptions
  @OptionGroup var emu: EmuOptions

  func run() throws {
    if function.isHardware {
      let hardware = try function.hardwareFunction()
      if function.dryRun { return try hostAction { try function.printPlan(hardware, attaching: true) } }
      guard let monitor = function.monitor else {
        throw ValidationError("a hardware attach needs the guest's --monitor socket (or --dry-run)")
      }
      let port = try hostAction { try HostAgent(guest: guest, monitorPath: monitor).attach(hardware) }
      print("\(guest): \(hardware.name) attached on \(port)")
      return
    }
    let name = function.rackFunction
    if function.dryRun {
      let (_, plan) = try rackAction { try emu.rack.plan() }
      let hostFunction = try hostAction { try emu.rack.function(name, plan: plan) }
      return try function.printPlan(hostFunction, attaching: true)
    }
    EmuOptions.progress("attaching \(name.name) to \(guest)")
    let port = try hostAction { try emu.rack.attach(guest: guest, name) }
    print("\(guest): \(name.name) attached on \(port)")
  }
}

struct GuestDetach: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "detach",
    abstract:
      "Take a card function out of a running guest: the guest sees a hot-unplug, then the host frees it.",
    discussion: """
      Examples:
        dpuctl guest detach a1 --volume data1    # a1's vda goes, the data stays
        dpuctl guest detach a1 --nic a1          # a1's eth0 goes
      """)
  @Argument(help: "Guest name.") var guest: String
  @OptionGroup var function: FunctionOptions
  @OptionGroup var emu: EmuOptions
  @Option(help: "Seconds the guest has to release the device.") var timeout: Int = 30

  func run() throws {
    if function.isHardware {
      let hardware = try function.hardwareFunction()
      if function.dryRun { return try hostAction { try function.printPlan(hardware, attaching: false) } }
      guard let monitor = function.monitor else {
        throw ValidationError("a hardware detach needs the guest's --monitor socket (or --dry-run)")
      }
      var agent = HostAgent(guest: guest, monitorPath: monitor)
      agent.unplugTimeoutSeconds = timeout
      try hostAction { try agent.detach(hardware) }
      print("\(guest): \(hardware.name) detached")
      return
    }
    let name = function.rackFunction
    EmuOptions.progress("asking \(guest) to release \(name.name) (up to \(timeout) s)")
    try hostAction { try emu.rack.detach(guest: guest, name, timeoutSeconds: timeout) }
    print("\(guest): \(name.name) detached")
  }
}

struct GuestList: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list", abstract: "Show each rack guest's hot-plug slots and the function in each.")
  @Argument(help: "Only this guest.") var guest: String?
  @OptionGroup var emu: EmuOptions
  @Option(name: .shortAndLong, help: "Output format: table or json.") var output: OutputFormat = .table

  func run() throws {
    let slots = try hostAction { try emu.rack.functionSlots(guest: guest) }
    try Printer(format: output).rows(slots, headers: ["GUEST", "SLOT", "FUNCTION", "KIND"]) {
      [$0.guest, $0.slot, $0.function ?? "-", $0.kind ?? "-"]
    }
  }
}
