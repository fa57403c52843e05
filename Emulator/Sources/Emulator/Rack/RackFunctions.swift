import Foundation
import HostDriver

/// `dpuctl guest attach|detach|list` on a rack: the host agent hot-plugs a
/// card's NIC or volume function into a running guest, or unplugs it (the
/// guest sees a PCIe hot-unplug, the card sees its vhost-user front-end
/// go). A rack NIC is named after the guest the topology gives it to; a
/// volume after its `[[volume]]` table.
extension Rack {
  /// One of a guest's hot-plug slots, for `dpuctl guest list`.
  public struct FunctionSlot: Sendable, Equatable, Encodable {
    public var guest: String
    /// The PCIe root port.
    public var slot: String
    /// The function in the slot (its name), nil when free.
    public var function: String?
    /// "nic" or "volume" (nil when free, or a device the rack did not name).
    public var kind: String?
  }

  /// A card function of the rack, by kind.
  public enum FunctionName: Equatable, Sendable {
    case nic(String)
    case volume(String)

    public var name: String {
      switch self {
      case .nic(let name), .volume(let name): return name
      }
    }
    var option: String {
      switch self {
      case .nic: return "--nic"
      case .volume: return "--volume"
      }
    }
    var kind: String {
      switch self {
      case .nic: return "NIC"
      case .volume: return "volume"
      }
    }
  }

  func hostAgent(_ guestName: String, plan: RackPlan) throws -> HostAgent {
    guard let guest = plan.guest(named: guestName) else {
      throw RackError(
        "no guest '\(guestName)' in this rack (guests with card functions: \(plan.guests.map(\.name).joined(separator: ", ")))"
      )
    }
    return HostAgent(guest: guestName, monitorPath: guest.monitorSocket)
  }

  func nicFunction(_ nic: String, plan: RackPlan) throws -> HostFunction {
    guard let owner = plan.guest(named: nic) else {
      throw RackError(
        "no NIC '\(nic)' in this rack (a rack NIC is named after its guest: \(plan.guests.map(\.name).joined(separator: ", ")))"
      )
    }
    return HostFunction(
      name: nic, kind: .net(mac: owner.mac, queuePairs: 1), path: .vhostUser(socket: owner.netSocket))
  }

  func volumeFunction(_ name: String, plan: RackPlan) throws -> HostFunction {
    guard let volume = plan.volume(named: name) else {
      let known = plan.volumes.map(\.name)
      throw RackError(
        "no volume '\(name)' in this rack ("
          + (known.isEmpty
            ? "its topology has no [[volume]] table; add one and `dpuctl emu down`, `up`"
            : "volumes: " + known.joined(separator: ", ")) + ")")
    }
    return HostFunction(name: name, kind: .block, path: .vhostUser(socket: volume.socket))
  }

  /// The host function a rack NIC or volume is (for `--dry-run` too).
  public func function(_ name: FunctionName, plan: RackPlan) throws -> HostFunction {
    switch name {
    case .nic(let nic): return try nicFunction(nic, plan: plan)
    case .volume(let volume): return try volumeFunction(volume, plan: plan)
    }
  }

  /// Every guest's slots.
  public func functionSlots(guest: String? = nil) throws -> [FunctionSlot] {
    let (_, plan) = try plan()
    let names = guest.map { [$0] } ?? plan.guests.map(\.name)
    var result: [FunctionSlot] = []
    for name in names {
      let agent = try hostAgent(name, plan: plan)
      do {
        for slot in try agent.slots() {
          let function = slot.device.flatMap { FunctionPlan.Identifiers.function(ofDevice: $0) }
          let kind = function.flatMap { function in
            plan.volume(named: function) != nil ? "volume" : plan.guest(named: function) != nil ? "nic" : nil
          }
          result.append(FunctionSlot(guest: name, slot: slot.port, function: function, kind: kind))
        }
      } catch {
        throw RackError("guest \(name): \(error.description)")
      }
    }
    return result
  }

  /// Hot-plugs rack function `function` (a NIC or a volume) into `guest`;
  /// returns the port it took.
  public func attach(guest: String, _ name: FunctionName) throws -> String {
    let (_, plan) = try plan()
    let function = try function(name, plan: plan)
    // One front-end per function: a NIC or volume in use elsewhere is
    // refused here, before QEMU would connect a second front-end to the
    // card's socket.
    let device = FunctionPlan.Identifiers(function: name.name).device
    for other in plan.guests where other.name != guest {
      let slots = (try? hostAgent(other.name, plan: plan).slots()) ?? []
      if slots.contains(where: { $0.device == device }) {
        throw RackError(
          "\(name.kind) \(name.name) is attached to guest \(other.name): `dpuctl guest detach \(other.name) \(name.option) \(name.name)` first"
        )
      }
    }
    let agent = try hostAgent(guest, plan: plan)
    // A guest reaches only its own card's functions (on hardware the card
    // sits in the guest's host).
    if case .volume(let volume) = name, let card = plan.volume(named: volume)?.card,
      let guestCard = plan.guest(named: guest)?.card, card != guestCard
    {
      throw RackError(
        "volume \(volume) is served by card \(card) and guest \(guest) runs on card \(guestCard): attach it to a guest of \(card)"
      )
    }
    do {
      return try agent.attach(function)
    } catch {
      throw RackError("guest \(guest): \(error.description)")
    }
  }

  /// Asks `guest` to give rack function `function` up and waits until it has.
  public func detach(guest: String, _ name: FunctionName, timeoutSeconds: Int = 30) throws {
    let (_, plan) = try plan()
    let function = try function(name, plan: plan)
    var agent = try hostAgent(guest, plan: plan)
    agent.unplugTimeoutSeconds = timeoutSeconds
    do {
      try agent.detach(function)
    } catch {
      throw RackError("guest \(guest): \(error.description)")
    }
  }
}
