import Wire

/// Everything that defines one ESP SA except its key: the value a control
/// plane (the management channel today, IKEv2 later: RFC 7296 §3.3 transforms,
/// §3.13 traffic selectors, §2.8 rekeying) fills in. One direction per SA
/// (RFC 4301 §4.1).
public struct SecurityAssociationParameters: Hashable, Sendable {
  public enum Direction: UInt8, Hashable, Sendable {
    case inbound = 1
    case outbound = 2
  }

  /// RFC 4301 §4.1.
  public enum Mode: Hashable, Sendable {
    /// Between cards: ESP goes between the underlay IP header and its
    /// payload (UDP/Geneve).
    case transport
    /// To a gateway: the whole inner IP packet is wrapped in a new outer
    /// header from `local` to `remote` (same family).
    case tunnel(local: IPAddress, remote: IPAddress)
  }

  /// RFC 4303 §2.1: the receiver's choice; 1-255 are reserved.
  public var spi: UInt32
  public var direction: Direction
  public var mode: Mode
  public var suite: CipherSuite
  /// RFC 4303 §2.2.1: 64-bit sequence numbers, the high half implicit.
  public var extendedSequenceNumbers: Bool
  /// Anti-replay window in packets (inbound), rounded up to a multiple of 64.
  public var replayWindowSize: UInt64
  public var lifetime: Lifetime
  /// Largest outer IP packet the SA may send (outbound).
  public var outerMTU: Int
  /// Inner addresses the SA carries (tunnel mode): checked on open
  /// (RFC 4301 §5.2), nil for any.
  public var innerSelector: TrafficSelector?
  /// Hop limit of the outer header in tunnel mode.
  public var outerHopLimit: UInt8 = 64

  public init(
    spi: UInt32, direction: Direction, mode: Mode, suite: CipherSuite, extendedSequenceNumbers: Bool = true,
    replayWindowSize: UInt64 = 1024, lifetime: Lifetime = .unlimited, outerMTU: Int = 1500,
    innerSelector: TrafficSelector? = nil
  ) {
    self.spi = spi
    self.direction = direction
    self.mode = mode
    self.suite = suite
    self.extendedSequenceNumbers = extendedSequenceNumbers
    self.replayWindowSize = replayWindowSize
    self.lifetime = lifetime
    self.outerMTU = outerMTU
    self.innerSelector = innerSelector
  }

  /// Checks what a control plane could get wrong; the error names the field.
  public func validate() throws(SecurityAssociationError) {
    guard spi >= 256 else { throw .reservedSPI(spi) }
    guard replayWindowSize >= ReplayWindow.minimumSize && replayWindowSize <= ReplayWindow.maximumSize else {
      throw .replayWindowSize(replayWindowSize)
    }
    guard lifetime.isConsistent else { throw .lifetimeSoftAfterHard }
    // RFC 791 and RFC 8200 §5: every link carries 576 / 1280 bytes.
    guard outerMTU >= 576 && outerMTU <= 65535 else { throw .outerMTU(outerMTU) }
    if case .tunnel(let local, let remote) = mode {
      switch (local, remote) {
      case (.v4, .v4): break
      case (.v6, .v6): guard outerMTU >= 1280 else { throw .outerMTU(outerMTU) }
      default: throw .tunnelFamiliesDiffer
      }
    }
  }
}

/// Why an SA could not be built or installed.
public enum SecurityAssociationError: Error, Equatable, CustomStringConvertible {
  case reservedSPI(UInt32)
  case replayWindowSize(UInt64)
  case lifetimeSoftAfterHard
  case outerMTU(Int)
  case tunnelFamiliesDiffer
  /// Key material must be the AES key plus the 4-byte salt (RFC 4106 §8.1).
  case keyMaterialLength(expected: Int, got: Int)
  case crypto(CryptoFailure)
  case duplicateSPI(UInt32)
  case tableFull
  case noSuchSPI(UInt32)
  case wrongDirection(UInt32)

  /// A `CryptoError`'s description, kept as text so that this enum stays
  /// independent of CardCrypto's cases.
  public struct CryptoFailure: Equatable, Sendable {
    public let text: String
    public init(text: String) { self.text = text }
  }

  public var description: String {
    switch self {
    case .reservedSPI(let s): return "ipsec: SPI \(s) is reserved (RFC 4303 §2.1): use 256 or more"
    case .replayWindowSize(let w):
      return
        "ipsec: replay window \(w) outside \(ReplayWindow.minimumSize)...\(ReplayWindow.maximumSize) packets"
    case .lifetimeSoftAfterHard: return "ipsec: a soft lifetime is above its hard lifetime: lower it"
    case .outerMTU(let m): return "ipsec: outer MTU \(m) is below 576 (IPv4) / 1280 (IPv6) or above 65535"
    case .tunnelFamiliesDiffer: return "ipsec: tunnel endpoints must both be IPv4 or both IPv6"
    case .keyMaterialLength(let e, let g):
      return "ipsec: key material of \(g) bytes; this suite needs \(e) (key then 4-byte salt, RFC 4106 §8.1)"
    case .crypto(let f): return "ipsec: " + f.text
    case .duplicateSPI(let s): return "ipsec: an SA with SPI \(s) is already installed: pick another SPI"
    case .tableFull: return "ipsec: the SA table is full: remove retired SAs first"
    case .noSuchSPI(let s): return "ipsec: no SA with SPI \(s)"
    case .wrongDirection(let s): return "ipsec: SA \(s) has the other direction"
    }
  }
}
