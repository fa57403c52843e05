import Wire

/// An IPv4 or IPv6 address as 128 bits, for flow and connection keys:
/// IPv4 is held IPv4-mapped (RFC 4291 §2.5.5.2, ::ffff:a.b.c.d), which
/// the classifier never accepts as a real IPv6 source or destination.
public struct FlowAddress: Hashable, Sendable, CustomStringConvertible {
  public var high: UInt64
  public var low: UInt64

  @usableFromInline static let mappedTag: UInt64 = 0xffff_0000_0000

  @inlinable public init(high: UInt64, low: UInt64) {
    self.high = high
    self.low = low
  }

  @inlinable public init(_ v4: IPv4Address) {
    high = 0
    low = Self.mappedTag | UInt64(v4.rawValue)
  }

  @inlinable public init(_ v6: IPv6Address) {
    high = v6.high
    low = v6.low
  }

  @inlinable public init(_ address: IPAddress) {
    switch address {
    case .v4(let a): self.init(a)
    case .v6(let a): self.init(a)
    }
  }

  public static let zero = FlowAddress(high: 0, low: 0)

  /// Both halves in one word, for `Hasher` (which then mixes it with
  /// SipHash): a rotation keeps `high` and `low` from cancelling.
  @inlinable public var foldedWord: UInt64 { low ^ (high << 29 | high >> 35) }

  /// One word into the hasher instead of two (slow-path `Set` and
  /// `Dictionary` lookups).
  @inlinable public func hash(into hasher: inout Hasher) { hasher.combine(foldedWord) }

  @inlinable public var isIPv4: Bool { high == 0 && low >> 32 == 0xffff }
  @inlinable public var ipv4: IPv4Address { IPv4Address(rawValue: UInt32(truncatingIfNeeded: low)) }
  @inlinable public var ipv6: IPv6Address { IPv6Address(high: high, low: low) }
  public var ipAddress: IPAddress { isIPv4 ? .v4(ipv4) : .v6(ipv6) }

  public var description: String { ipAddress.description }
}
