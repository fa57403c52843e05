/// Why ESP processing refused a packet. Each reason has a counter per SA
/// (`SecurityAssociationCounters`); reasons found before an SA is known
/// (`unknownSPI`, `truncated` headers, `clearTextWhereProtected`) are
/// counted by the database or policy that saw them.
public enum IpsecDrop: UInt8, Error, CaseIterable, Hashable, Sendable, CustomStringConvertible {
  /// Already seen within the anti-replay window (RFC 4303 §3.4.3).
  case replayed
  /// Older than the anti-replay window (§3.4.3), or sequence number 0.
  case outsideWindow
  /// Shorter than an ESP header, IV, 4-byte aligned trailer and ICV, or an
  /// IP length that disagrees with the frame.
  case truncated
  /// No inbound SA with this SPI (and destination) (§3.4.2).
  case unknownSPI
  /// The ICV did not verify: altered or forged (§3.4.4).
  case authenticationFailed
  /// The decrypted padding is not 1, 2, 3, ... or too long (§2.4).
  case badPadding
  /// The SA passed a hard lifetime (§3.3.3 for the sequence space).
  case expired
  /// Next header 59: a dummy packet (§2.6), dropped by design.
  case dummyPacket
  /// The decrypted packet is not what the SA carries (tunnel: not IPv4 or
  /// IPv6; §5.2 of RFC 4301: inner addresses outside the SA's selectors).
  case selectorMismatch
  /// An IPv4 fragment (RFC 4303 §3.4.1: reassemble before ESP) or IPv6
  /// extension headers, which this path does not walk.
  case unsupportedPacket
  /// The sealed packet would exceed the SA's outer MTU: reported to the
  /// pipeline, which lowers the path MTU (ICMP "fragmentation needed" /
  /// "packet too big").
  case exceedsPathMTU
  /// Not enough headroom or tailroom in the buffer to seal in place.
  case noBufferRoom
  /// The sequence number (and so the IV) would repeat (§3.3.3).
  case sequenceExhausted
  /// A packet a policy says must be protected arrived in clear (RFC 4301
  /// §5.2: inbound policy check).
  case clearTextWhereProtected
  /// A policy says to discard the packet (RFC 4301 §4.4.1 DISCARD).
  case policyDiscard
  /// OpenSSL refused an operation whose sizes were valid (not hostile
  /// input: a broken crypto library).
  case cryptoFailure

  public static let count = IpsecDrop.allCases.count

  public var description: String {
    switch self {
    case .replayed: return "replayed"
    case .outsideWindow: return "outside-window"
    case .truncated: return "truncated"
    case .unknownSPI: return "unknown-spi"
    case .authenticationFailed: return "authentication-failed"
    case .badPadding: return "bad-padding"
    case .expired: return "sa-expired"
    case .dummyPacket: return "dummy-packet"
    case .selectorMismatch: return "selector-mismatch"
    case .unsupportedPacket: return "unsupported-packet"
    case .exceedsPathMTU: return "exceeds-path-mtu"
    case .noBufferRoom: return "no-buffer-room"
    case .sequenceExhausted: return "sequence-exhausted"
    case .clearTextWhereProtected: return "clear-text-where-protected"
    case .policyDiscard: return "policy-discard"
    case .cryptoFailure: return "crypto-failure"
    }
  }
}

/// Packet, byte and drop counters of one SA (or of the database, for drops
/// before an SA is known). Plain integers: one core owns an SA's data path.
public struct SecurityAssociationCounters: ~Copyable {
  public private(set) var packets: UInt64 = 0
  /// Bytes of protected payload (what lifetimes count, RFC 4301 §4.4.2.1).
  public private(set) var bytes: UInt64 = 0
  let drops: UnsafeMutablePointer<UInt64>

  public init() {
    drops = UnsafeMutablePointer<UInt64>.allocate(capacity: IpsecDrop.count)
    drops.initialize(repeating: 0, count: IpsecDrop.count)
  }

  deinit { drops.deallocate() }

  public func dropped(_ reason: IpsecDrop) -> UInt64 { drops[Int(reason.rawValue)] }

  public var totalDrops: UInt64 {
    var total: UInt64 = 0
    for i in 0..<IpsecDrop.count { total &+= drops[i] }
    return total
  }

  mutating func count(_ reason: IpsecDrop) { drops[Int(reason.rawValue)] &+= 1 }

  mutating func countPacket(bytes count: Int) {
    packets &+= 1
    bytes &+= UInt64(count)
  }
}
