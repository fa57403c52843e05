import Wire

/// The SAD (RFC 4301 §4.4.2): inbound SAs found by SPI (and, for tunnel
/// SAs, the outer destination), outbound SAs in slots that policies name.
/// A slot indirection is what makes rekeying make-before-break: a new
/// inbound SA is installed beside the old one, then the outbound slot
/// switches to the new SA in one store, and the old inbound SA retires
/// after a grace period (`Rekey` below).
///
/// Sized at configuration time; the per-packet lookup is an open-addressing
/// probe over SPIs (SPI 0 is reserved, RFC 4303 §2.1, so it marks a free
/// bucket).
public final class SecurityAssociationDatabase {
  public let capacity: Int
  private var inbound: [SecurityAssociation?]
  private let bucketSPIs: UnsafeMutablePointer<UInt32>
  private let bucketSlots: UnsafeMutablePointer<Int32>
  private let bucketMask: Int
  /// Outbound SAs by slot number (policies hold the number).
  private var outbound: [SecurityAssociation?]
  /// Inbound SAs that a successor replaced, with the time they go.
  private var retiring: [(spi: UInt32, removeAt: UInt64)] = []
  /// Drops before an SA was known (unknown SPI, truncated header).
  public var counters = SecurityAssociationCounters()

  public init(capacity: Int = 256, outboundSlots: Int = 64) {
    precondition(capacity > 0 && outboundSlots > 0)
    self.capacity = capacity
    inbound = [SecurityAssociation?](repeating: nil, count: capacity)
    outbound = [SecurityAssociation?](repeating: nil, count: outboundSlots)
    var buckets = 1
    while buckets < capacity * 2 { buckets <<= 1 }
    bucketMask = buckets - 1
    bucketSPIs = .allocate(capacity: buckets)
    bucketSPIs.initialize(repeating: 0, count: buckets)
    bucketSlots = .allocate(capacity: buckets)
    bucketSlots.initialize(repeating: -1, count: buckets)
  }

  deinit {
    bucketSPIs.deallocate()
    bucketSlots.deallocate()
  }

  private func bucket(for spi: UInt32) -> Int {
    // SPIs are chosen by peers, maybe sequentially: mix before masking.
    Int(truncatingIfNeeded: (spi &* 0x9e37_79b1) >> 7) & bucketMask
  }

  /// Per packet: the inbound SA for `spi`, or nil.
  public func inboundSA(spi: UInt32) -> SecurityAssociation? {
    var b = bucket(for: spi)
    while true {
      let key = bucketSPIs[b]
      if key == spi && spi != 0 { return inbound[Int(bucketSlots[b])] }
      if key == 0 { return nil }
      b = (b + 1) & bucketMask
    }
  }

  public var inboundCount: Int { inbound.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }

  /// Installs an inbound SA beside any others (the first half of a rekey).
  public func installInbound(_ sa: SecurityAssociation) throws(SecurityAssociationError) {
    guard sa.parameters.direction == .inbound else { throw .wrongDirection(sa.spi) }
    guard inboundSA(spi: sa.spi) == nil else { throw .duplicateSPI(sa.spi) }
    guard let slot = inbound.firstIndex(where: { $0 == nil }) else { throw .tableFull }
    inbound[slot] = sa
    var b = bucket(for: sa.spi)
    while bucketSPIs[b] != 0 { b = (b + 1) & bucketMask }
    bucketSPIs[b] = sa.spi
    bucketSlots[b] = Int32(slot)
  }

  /// Removes an inbound SA now.
  @discardableResult
  public func removeInbound(spi: UInt32) -> SecurityAssociation? {
    var b = bucket(for: spi)
    while bucketSPIs[b] != spi {
      if bucketSPIs[b] == 0 { return nil }
      b = (b + 1) & bucketMask
    }
    let slot = Int(bucketSlots[b])
    let sa = inbound[slot]
    inbound[slot] = nil
    // Linear probing deletion: shift later members of the run back so that
    // no probe stops early at the hole.
    var hole = b
    var next = (b + 1) & bucketMask
    while bucketSPIs[next] != 0 {
      let home = bucket(for: bucketSPIs[next])
      let distanceFromHome = (next - home) & bucketMask
      let distanceToHole = (next - hole) & bucketMask
      if distanceFromHome >= distanceToHole {
        bucketSPIs[hole] = bucketSPIs[next]
        bucketSlots[hole] = bucketSlots[next]
        hole = next
      }
      next = (next + 1) & bucketMask
    }
    bucketSPIs[hole] = 0
    bucketSlots[hole] = -1
    sa?.expire()
    return sa
  }

  /// The outbound SA in `slot`, or nil. Per packet.
  public func outboundSA(slot: Int) -> SecurityAssociation? {
    slot >= 0 && slot < outbound.count ? outbound[slot] : nil
  }

  public var outboundSlotCount: Int { outbound.count }

  /// Puts `sa` in `slot` (the sender's switch in a rekey) and returns the
  /// SA it replaced, which is expired: it seals nothing more.
  @discardableResult
  public func setOutbound(_ sa: SecurityAssociation?, slot: Int) throws(SecurityAssociationError)
    -> SecurityAssociation?
  {
    if let sa, sa.parameters.direction != .outbound { throw .wrongDirection(sa.spi) }
    guard slot >= 0 && slot < outbound.count else { throw .tableFull }
    let previous = outbound[slot]
    outbound[slot] = sa
    previous?.expire()
    return previous
  }

  /// The last step of a rekey: the old inbound SA keeps opening packets
  /// that were in flight until `now + grace`, then `removeRetired` drops it.
  public func retireInbound(spi: UInt32, now: UInt64, grace: UInt64) throws(SecurityAssociationError) {
    guard inboundSA(spi: spi) != nil else { throw .noSuchSPI(spi) }
    retiring.append((spi, now + grace))
  }

  /// Keeps `spi` (a configuration put it back before its grace ended).
  public func cancelRetirement(spi: UInt32) {
    retiring.removeAll { $0.spi == spi }
  }

  /// Removes retired inbound SAs whose grace has passed; returns how many.
  @discardableResult
  public func removeRetired(now: UInt64) -> Int {
    var removed = 0
    retiring.removeAll { entry in
      guard entry.removeAt <= now else { return false }
      removeInbound(spi: entry.spi)
      removed += 1
      return true
    }
    return removed
  }

  /// SAs (both directions) whose soft lifetime passed: the control plane
  /// should negotiate successors (RFC 7296 §2.8).
  public func saNeedingRekey() -> [UInt32] {
    (inbound + outbound).compactMap { sa in sa.flatMap { $0.lifetimeState == .rekeyWanted ? $0.spi : nil } }
  }
}
