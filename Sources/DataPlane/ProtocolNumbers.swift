import Wire

/// IP protocol numbers as plain constants for per-packet comparisons:
/// `IPProtocol.udp` is a global of another module, reached through an
/// accessor with a once-check on every use, while these fold into the
/// comparison.
@usableFromInline enum ProtocolNumber {
  @usableFromInline static let tcp: UInt8 = 6
  @usableFromInline static let udp: UInt8 = 17
}

extension IPProtocol {

  @inlinable @inline(__always) public var isTCP: Bool { rawValue == ProtocolNumber.tcp }
  @inlinable @inline(__always) public var isUDP: Bool { rawValue == ProtocolNumber.udp }
}
