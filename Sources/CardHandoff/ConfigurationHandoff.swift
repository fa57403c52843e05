import CardTLS
import DataPlane
import Ipsec
import Synchronization

/// Carries a translated configuration from the management channel's thread
/// to the run loop, which puts it in force between batches (so no packet
/// sees a mix of two generations). Only the newest pending one matters: a
/// generation that arrives before the loop took the previous replaces it.
///
/// The waker is an eventfd in the run loop's epoll set, so an idle loop
/// wakes for a new generation at once.
///
/// Generic over what a generation carries besides its network and SAs
/// (the card's slice volumes, whose types live above this module).
public final class ConfigurationHandoff<Volumes: Sendable>: @unchecked Sendable {
  // @unchecked: `pending` is only touched while `isLocked` is held (a spin
  // lock: taken once per generation by two threads, never contended long).
  private let isLocked = Atomic<Bool>(false)
  private let hasPending = Atomic<Bool>(false)
  private var pending: PendingGeneration?
  public let waker: Waker
  /// The generation the run loop last put in force (0: none).
  public let generationInForce = Atomic<UInt64>(0)

  /// From the run loop: `generation` is now in force.
  public func markInForce(_ generation: UInt64) {
    generationInForce.store(generation, ordering: .releasing)
  }

  public struct PendingGeneration: Sendable {
    public var generation: UInt64
    public var network: NetworkConfiguration
    /// The card-pair SAs the slice holds (keys unwrapped), in force with
    /// `network`: a new peer's mappings and its SAs arrive together.
    public var esp: [EspAssociation]
    /// The tunnels to outside sites among them.
    public var sites: [EspSite]
    /// The slice's volumes, for the run loop to attach, detach or resize.
    public var volumes: Volumes
  }

  public init() throws(TLSError) { waker = try Waker() }

  /// The run loop's descriptor to watch.
  public var descriptor: Int32 { waker.fileDescriptor }

  /// From the channel's thread: `network` replaces whatever was pending.
  /// `carryOver` runs under the lock when it replaces a generation the loop
  /// had not taken yet, with that generation's volumes: what was prepared
  /// for them (and is still wanted) can be moved into the new one.
  public func publish(
    generation: UInt64, network: NetworkConfiguration, esp: [EspAssociation] = [], sites: [EspSite] = [],
    volumes: Volumes, carryOver: (inout Volumes, Volumes) -> Void = { _, _ in }
  ) {
    var volumes = volumes
    lock()
    if let replaced = pending { carryOver(&volumes, replaced.volumes) }
    pending = PendingGeneration(
      generation: generation, network: network, esp: esp, sites: sites, volumes: volumes)
    unlock()
    hasPending.store(true, ordering: .releasing)
    waker.signal()
  }

  /// From the run loop: the pending generation, if any. Cheap when there
  /// is none (one atomic load, no system call), so the loop may ask often.
  public func take() -> PendingGeneration? {
    guard hasPending.exchange(false, ordering: .acquiring) else { return nil }
    waker.drain()
    lock()
    let taken = pending
    pending = nil
    unlock()
    return taken
  }

  private func lock() {
    while !isLocked.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {}
  }

  private func unlock() { isLocked.store(false, ordering: .releasing) }
}
