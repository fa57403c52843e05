import Foundation
import HostDriver

/// `dpuctl guest attach|detach|list` on a rack: the host agent hot-plugs a
/// card's NIC function into a running guest, or unplugs it (the guest sees
/// a PCIe hot-unplug, the card sees its vhost-user front-end go). A rack
/// NIC is named after the guest the topology gives it to.
extension Rack {
  /// One of a guest's hot-plug slots, for `dpuctl guest list`.
  public struct FunctionSlot: Sendable, Equatable, Encodable {
    public var guest: String
    /// The PCIe root port.
    public var slot: String
    /// The function in the slot (its name), nil when free.
    public var function: String?
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

  /// Every guest's slots.
  public func functionSlots(guest: String? = nil) throws -> [FunctionSlot] {
    let (_, plan) = try plan()
    let names = guest.map { [$0] } ?? plan.guests.map(\.name)
    var result: [FunctionSlot] = []
    for name in names {
      let agent = try hostAgent(name, plan: plan)
      do {
        for slot in try agent.slots() {
          result.append(
            FunctionSlot(
              guest: name, slot: slot.port,
              function: slot.device.flatMap { FunctionPlan.Identifiers.function(ofDevice: $0) }))
        }
      } catch {
        throw RackError("guest \(name): \(error.description)")
      }
    }
    return result
  }

  /// Hot-plugs rack NIC `nic` into `guest`; returns the port it took.
  public func attach(guest: String, nic: String) throws -> String {
    let (_, plan) = try plan()
    let function = try nicFunction(nic, plan: plan)
    // One front-end per function: a NIC in use elsewhere is refused here,
    // before QEMU would connect a second front-end to the card's socket.
    for other in plan.guests where other.name != guest {
      let slots = (try? hostAgent(other.name, plan: plan).slots()) ?? []
      if slots.contains(where: { $0.device == "bh-" + nic }) {
        throw RackError(
          "NIC \(nic) is attached to guest \(other.name): `dpuctl guest detach \(other.name) --nic \(nic)` first"
        )
      }
    }
    let agent = try hostAgent(guest, plan: plan)
    do {
      return try agent.attach(function)
    } catch {
      throw RackError("guest \(guest): \(error.description)")
    }
  }

  /// Asks `guest` to give NIC `nic` up and waits until it has.
  public func detach(guest: String, nic: String, timeoutSeconds: Int = 30) throws {
    let (_, plan) = try plan()
    let function = try nicFunction(nic, plan: plan)
    var agent = try hostAgent(guest, plan: plan)
    agent.unplugTimeoutSeconds = timeoutSeconds
    do {
      try agent.detach(function)
    } catch {
      throw RackError("guest \(guest): \(error.description)")
    }
  }
}
