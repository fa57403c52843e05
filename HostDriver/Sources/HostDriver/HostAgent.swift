import Foundation

/// The host's side of a card's functions for one running guest: attaches
/// a function (hot-plug into a free PCIe root port) and detaches it (the
/// guest sees a hot-unplug; the back-end is freed only once the guest let
/// go of the device).
public struct HostAgent {
  /// The guest's name, for messages.
  public var guest: String
  /// Its QEMU monitor (QMP) socket.
  public var monitorPath: String
  /// Seconds the guest has to release a device it is asked to give up
  /// (Linux's PCIe hot-plug driver waits 5 s after the attention button).
  public var unplugTimeoutSeconds = 30
  /// Runs a host command (vDPA, sysfs) and returns its output.
  public var runHostCommand: ([String]) throws(HostDriverError) -> String = HostAgent.run

  public init(guest: String, monitorPath: String) {
    self.guest = guest
    self.monitorPath = monitorPath
  }

  /// A device on one of the guest's hot-plug root ports.
  public struct Slot: Equatable, Sendable {
    public var port: String
    /// The QEMU id of the device in it, nil when free.
    public var device: String?
  }

  /// The guest's hot-plug root ports and what each holds.
  public func slots() throws(HostDriverError) -> [Slot] {
    let monitor = try GuestMonitor(socketPath: monitorPath)
    return try Self.slots(monitor)
  }

  static func slots(_ monitor: GuestMonitor) throws(HostDriverError) -> [Slot] {
    guard let buses = try monitor.execute(QMPCommand("query-pci")) as? [[String: Any]] else {
      throw .monitorProtocol("query-pci did not return a list")
    }
    var slots: [Slot] = []
    func walk(_ devices: [[String: Any]]) {
      for device in devices {
        let id = device["qdev_id"] as? String ?? ""
        guard let bridge = device["pci_bridge"] as? [String: Any] else { continue }
        let inside = bridge["devices"] as? [[String: Any]] ?? []
        if id.hasPrefix("bh-port") {
          let held = inside.compactMap { $0["qdev_id"] as? String }.first { !$0.isEmpty }
          slots.append(Slot(port: id, device: held))
        }
        walk(inside)
      }
    }
    for bus in buses { walk(bus["devices"] as? [[String: Any]] ?? []) }
    return slots.sorted { $0.port < $1.port }
  }

  /// Hot-plugs `function` into the first free root port; returns the port.
  @discardableResult
  public func attach(_ function: HostFunction) throws(HostDriverError) -> String {
    try function.validate()
    let monitor = try GuestMonitor(socketPath: monitorPath)
    let slots = try Self.slots(monitor)
    let ids = FunctionPlan.Identifiers(function: function.name)
    guard !slots.contains(where: { $0.device == ids.device }) else {
      throw .alreadyAttached(function: function.name)
    }
    guard let free = slots.first(where: { $0.device == nil }) else { throw .noFreeSlot(guest: guest) }
    var plan = try FunctionPlan(function, bus: free.port)
    for command in plan.hostCommandsBeforeAttach { _ = try runHostCommand(command) }
    if case .vdpa = function.path {
      let name = try runHostCommand(FunctionPlan.vhostVdpaLookup(ids.vdpaDevice))
        .trimmingCharacters(in: .whitespacesAndNewlines)
      plan = try FunctionPlan(function, bus: free.port, vhostVdpaDevice: "/dev/" + name)
    }
    // On a refusal, undo what was added, newest first, so that a retry
    // starts clean.
    var done: [QMPCommand] = []
    for command in plan.attach {
      do {
        try monitor.execute(command)
        done.append(command)
      } catch {
        for undo in Self.undo(done).reversed() { _ = try? monitor.execute(undo) }
        for command in plan.hostCommandsAfterDetach { _ = try? runHostCommand(command) }
        throw error
      }
    }
    return free.port
  }

  /// The command that takes back what `command` added, if any.
  static func undo(_ commands: [QMPCommand]) -> [QMPCommand] {
    commands.compactMap { command in
      switch command.execute {
      case "chardev-add": return QMPCommand("chardev-remove", ["id": command.arguments["id"]!])
      case "netdev_add": return QMPCommand("netdev_del", ["id": command.arguments["id"]!])
      case "blockdev-add": return QMPCommand("blockdev-del", ["node-name": command.arguments["node-name"]!])
      default: return nil
      }
    }
  }

  /// Asks the guest to give `function` up, waits until it has, then frees
  /// the back-end (the card's socket sees the front-end go) and the host's
  /// side (the vDPA device).
  public func detach(_ function: HostFunction) throws(HostDriverError) {
    let plan = try FunctionPlan(function, bus: nil)
    let monitor = try GuestMonitor(socketPath: monitorPath)
    let slots = try Self.slots(monitor)
    guard slots.contains(where: { $0.device == plan.ids.device }) else {
      throw .notAttached(function: function.name)
    }
    try monitor.execute(plan.unplug)
    let deleted = try monitor.waitForEvent("DEVICE_DELETED", timeoutSeconds: Double(unplugTimeoutSeconds)) {
      ($0["device"] as? String) == plan.ids.device
    }
    guard deleted != nil else {
      throw .unplugTimedOut(device: plan.ids.device, seconds: unplugTimeoutSeconds)
    }
    for command in plan.release {
      do {
        try monitor.execute(command)
      } catch .commandFailed(_, let error)
        where command.execute == "chardev-remove" && error.contains("not found")
      {
        // QEMU deletes a vhost-user netdev's character device with it.
        continue
      }
    }
    for command in plan.hostCommandsAfterDetach { _ = try runHostCommand(command) }
  }

  /// Runs a command, its output returned; a failure carries the output.
  public static func run(_ command: [String]) throws(HostDriverError) -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = command
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    do { try process.run() } catch {
      throw .hostCommandFailed(command: command.joined(separator: " "), status: -1, output: "\(error)")
    }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let output = String(decoding: data, as: UTF8.self)
    guard process.terminationStatus == 0 else {
      throw .hostCommandFailed(
        command: command.joined(separator: " "), status: process.terminationStatus,
        output: output.trimmingCharacters(in: .whitespacesAndNewlines))
    }
    return output
  }
}
