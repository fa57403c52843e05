import DataPlane
import Wire

/// What happened to one packet of a batch.
public enum EspOutcome: Hashable, Sendable, CustomStringConvertible {
  /// Not ESP business: no policy matched, or a bypass policy did.
  case passedInClear
  case sealed(spi: UInt32)
  case opened(spi: UInt32)
  /// Sealing would exceed the SA's outer MTU: the pipeline should answer
  /// with ICMP "fragmentation needed" / "packet too big" carrying this MTU
  /// for the plain packet (RFC 4301 §8.2.1).
  case tooBig(mtu: Int)
  case dropped(IpsecDrop)

  public var description: String {
    switch self {
    case .passedInClear: return "clear"
    case .sealed(let spi): return "sealed(\(spi))"
    case .opened(let spi): return "opened(\(spi))"
    case .tooBig(let mtu): return "too-big(\(mtu))"
    case .dropped(let reason): return "dropped(" + reason.description + ")"
    }
  }
}

/// The card's ESP stage: the ordered SPD and the SAD, with batch APIs that
/// the run loop calls between the pipeline and the uplink (`sealOutbound`)
/// and between the uplink and the pipeline (`openInbound`).
///
/// Per batch: the outcome of packet `i` is `outcomes[i]`; buffers that
/// must not go further get a `.drop` verdict (the exact reason is the
/// outcome, and is counted per SA or, before an SA is known, in
/// `database.counters`). Nothing is allocated per packet.
public final class IpsecDataPath {
  public let database: SecurityAssociationDatabase
  public private(set) var policies: [SecurityPolicy]
  /// Packets that matched each policy, and clear-text drops per policy.
  public private(set) var policyMatches: [UInt64]
  public private(set) var clearTextDrops: [UInt64]
  /// One entry per packet of the last batch.
  public let outcomes: UnsafeMutablePointer<EspOutcome>

  public init(database: SecurityAssociationDatabase, policies: [SecurityPolicy] = []) {
    self.database = database
    self.policies = policies
    policyMatches = [UInt64](repeating: 0, count: policies.count)
    clearTextDrops = [UInt64](repeating: 0, count: policies.count)
    outcomes = .allocate(capacity: PacketBatch.capacity)
    outcomes.initialize(repeating: .passedInClear, count: PacketBatch.capacity)
  }

  deinit {
    outcomes.deinitialize(count: PacketBatch.capacity)
    outcomes.deallocate()
  }

  /// Replaces the SPD (configuration time; counters restart).
  public func setPolicies(_ policies: [SecurityPolicy]) {
    self.policies = policies
    policyMatches = [UInt64](repeating: 0, count: policies.count)
    clearTextDrops = [UInt64](repeating: 0, count: policies.count)
  }

  /// Per batch: seals every packet a PROTECT policy matches.
  public func sealOutbound(_ batch: inout PacketBatch, now: UInt64) {
    for i in 0..<batch.count {
      outcomes[i] = sealOne(&batch.buffers[i], now: now)
      if case .dropped(let reason) = outcomes[i] {
        batch.buffers[i].verdict = .drop(Self.verdictReason(reason))
      }
      if case .tooBig = outcomes[i] { batch.buffers[i].verdict = .drop(.mtuExceeded) }
    }
  }

  /// Per batch: opens ESP packets; checks clear-text packets against the
  /// SPD (RFC 4301 §5.2).
  public func openInbound(_ batch: inout PacketBatch, now: UInt64) {
    for i in 0..<batch.count {
      outcomes[i] = openOne(&batch.buffers[i], now: now)
      if case .dropped(let reason) = outcomes[i] {
        batch.buffers[i].verdict = .drop(Self.verdictReason(reason))
      }
    }
  }

  /// Per packet.
  public func sealOne(_ buffer: inout PacketBuffer, now: UInt64) -> EspOutcome {
    if case .drop = buffer.verdict { return .passedInClear }
    let frame = buffer.storage + buffer.dataOffset
    let layout: FrameLayout
    do throws(IpsecDrop) {
      layout = try FrameLayout.parse(frame, length: buffer.length)
    } catch {
      // Not IP (ARP, say): no selector can match it.
      return .passedInClear
    }
    guard let index = matchingPolicy(frame: frame, layout: layout, outbound: true) else {
      return .passedInClear
    }
    policyMatches[index] &+= 1
    switch policies[index].action {
    case .bypass: return .passedInClear
    case .discard: return .dropped(.policyDiscard)
    case .protect(let slot):
      guard let sa = database.outboundSA(slot: slot) else { return .dropped(.expired) }
      do throws(IpsecDrop) {
        try sa.seal(&buffer, now: now)
        return .sealed(spi: sa.spi)
      } catch {
        if error == .exceedsPathMTU {
          return .tooBig(mtu: sa.parameters.largestPlainPacket(ipHeaderLength: layout.ipHeaderLength))
        }
        return .dropped(error)
      }
    }
  }

  /// Per packet.
  public func openOne(_ buffer: inout PacketBuffer, now: UInt64) -> EspOutcome {
    var opener: SecurityAssociation?
    return openOne(&buffer, now: now, opener: &opener)
  }

  /// Per packet; `opener` is the SA that opened the packet (for callers
  /// that act on its mode without a second SAD lookup).
  func openOne(_ buffer: inout PacketBuffer, now: UInt64, opener: inout SecurityAssociation?) -> EspOutcome {
    if case .drop = buffer.verdict { return .passedInClear }
    let frame = buffer.storage + buffer.dataOffset
    let layout: FrameLayout
    do throws(IpsecDrop) {
      layout = try FrameLayout.parse(frame, length: buffer.length)
    } catch {
      if error == .truncated { database.counters.count(.truncated) }
      return error == .truncated ? .dropped(.truncated) : .passedInClear
    }
    guard layout.nextProtocol == IPProtocol.esp.rawValue, !layout.needsHeaderWalk else {
      if layout.needsHeaderWalk && layout.nextProtocol == IPProtocol.esp.rawValue {
        database.counters.count(.unsupportedPacket)
        return .dropped(.unsupportedPacket)
      }
      // RFC 4301 §5.2 step 4: clear text that a PROTECT policy covers is dropped.
      if let index = matchingPolicy(frame: frame, layout: layout, outbound: false) {
        policyMatches[index] &+= 1
        if case .protect = policies[index].action {
          clearTextDrops[index] &+= 1
          database.counters.count(.clearTextWhereProtected)
          return .dropped(.clearTextWhereProtected)
        }
        if case .discard = policies[index].action { return .dropped(.policyDiscard) }
      }
      return .passedInClear
    }
    guard layout.payloadLength >= ESPPacket.Field.headerLength else {
      database.counters.count(.truncated)
      return .dropped(.truncated)
    }
    let esp = frame + layout.payloadOffset
    let spi = esp.bigEndian32(at: 0)
    guard let sa = database.inboundSA(spi: spi), destinationMatches(sa, frame: frame, layout: layout) else {
      database.counters.count(.unknownSPI)
      return .dropped(.unknownSPI)
    }
    do throws(IpsecDrop) {
      try sa.open(&buffer, layout: layout, now: now)
      opener = sa
      return .opened(spi: spi)
    } catch {
      return .dropped(error)
    }
  }

  /// RFC 4301 §4.1: a unicast SA may be looked up by SPI alone; tunnel SAs
  /// also check that the packet was sent to their local endpoint.
  private func destinationMatches(
    _ sa: SecurityAssociation, frame: UnsafeMutableRawPointer, layout: FrameLayout
  )
    -> Bool
  {
    guard case .tunnel(let local, _) = sa.parameters.mode else { return true }
    let ip = frame + layout.ipOffset
    switch local {
    case .v4(let a): return !layout.isIPv6 && ip.bigEndian32(at: 16) == a.rawValue
    case .v6(let a):
      return layout.isIPv6 && ip.bigEndian64(at: 24) == a.high && ip.bigEndian64(at: 32) == a.low
    }
  }

  /// First matching policy (RFC 4301 §4.4.1: the SPD is ordered). A linear
  /// scan: a card has a handful of IPsec policies; per packet.
  private func matchingPolicy(frame: UnsafeMutableRawPointer, layout: FrameLayout, outbound: Bool) -> Int? {
    let ip = frame + layout.ipOffset
    let source = ip + (layout.isIPv6 ? 8 : 12)
    let destination = ip + (layout.isIPv6 ? 24 : 16)
    for i in 0..<policies.count
    where policies[i].selector.matches(
      source: source, destination: destination, isIPv6: layout.isIPv6, outbound: outbound)
    {
      return i
    }
    return nil
  }

  /// The data plane's coarser drop reason for a verdict; the precise one is
  /// the outcome and the counters.
  static func verdictReason(_ reason: IpsecDrop) -> DropReason {
    switch reason {
    case .exceedsPathMTU: return .mtuExceeded
    case .noBufferRoom: return .noBufferSpace
    case .unknownSPI: return .notForThisCard
    case .clearTextWhereProtected, .policyDiscard: return .securityGroupDenied
    default: return .wrongEncapsulation
    }
  }
}
