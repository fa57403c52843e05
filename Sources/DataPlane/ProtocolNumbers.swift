import Wire

/// IP protocol numbers as plain constants for per-packet comparisons:
/// `IPProtocol.udp` is a global of another module, reached through an
/// accessor with a once-check on every use, while these fold into the
/// comparison.
@usableFromInline enum ProtocolNumber {
  @usableFromInline static let tcp: UInt8 = 6
  @usableFromInline static let udp: UInt8 = 17
}

/// TCP flag bits (RFC 9293 §3.1) as plain constants, for the same reason:
/// `TCPFlags.syn` and its siblings live in Wire and cost a call per use.
@usableFromInline enum TCPFlagBit {
  @usableFromInline static let fin: UInt8 = 0x01
  @usableFromInline static let syn: UInt8 = 0x02
  @usableFromInline static let rst: UInt8 = 0x04
  @usableFromInline static let ack: UInt8 = 0x10
}

extension IPProtocol {

  @inlinable @inline(__always) public var isTCP: Bool { rawValue == ProtocolNumber.tcp }
  @inlinable @inline(__always) public var isUDP: Bool { rawValue == ProtocolNumber.udp }
}
