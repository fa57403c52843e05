import Wire

/// Where the IP header and its payload sit in an Ethernet frame, checked
/// once against the frame's length (hostile input: every length read from
/// the packet is bounded here before anything uses it).
struct FrameLayout {
  static let ethernetLength = 14
  static let etherTypeOffset = 12
  static let ipv4MinimumHeader = 20
  static let ipv6Header = 40

  let ipHeaderLength: Int
  let isIPv6: Bool
  /// IP payload bytes according to the IP header (Ethernet padding after
  /// them is ignored).
  let payloadLength: Int
  /// IPv4 protocol or IPv6 base header's next header.
  let nextProtocol: UInt8
  /// IPv4 fragment, or IPv6 with extension headers before the payload.
  let needsHeaderWalk: Bool

  var ipOffset: Int { Self.ethernetLength }
  var payloadOffset: Int { Self.ethernetLength + ipHeaderLength }

  /// Per packet.
  static func parse(_ frame: UnsafeMutableRawPointer, length: Int) throws(IpsecDrop) -> FrameLayout {
    guard length >= ethernetLength + ipv4MinimumHeader else { throw .truncated }
    let ip = frame + ethernetLength
    switch frame.bigEndian16(at: etherTypeOffset) {
    case EtherType.ipv4.rawValue:
      let versionAndLength = ip.byte(at: 0)
      let headerLength = Int(versionAndLength & 0x0f) * 4
      let total = Int(ip.bigEndian16(at: 2))
      guard versionAndLength >> 4 == 4, headerLength >= ipv4MinimumHeader, total >= headerLength,
        total <= length - ethernetLength
      else { throw .truncated }
      // RFC 791: MF flag or a non-zero offset.
      let fragment = ip.bigEndian16(at: 6) & 0x3fff != 0
      return FrameLayout(
        ipHeaderLength: headerLength, isIPv6: false, payloadLength: total - headerLength,
        nextProtocol: ip.byte(at: 9), needsHeaderWalk: fragment)
    case EtherType.ipv6.rawValue:
      guard length >= ethernetLength + ipv6Header, ip.byte(at: 0) >> 4 == 6 else { throw .truncated }
      let payload = Int(ip.bigEndian16(at: 4))
      guard payload <= length - ethernetLength - ipv6Header else { throw .truncated }
      let next = ip.byte(at: 6)
      // RFC 8200 §4: hop-by-hop, routing, fragment, destination options.
      let extensionHeader = next == 0 || next == 43 || next == 44 || next == 60 || next == 51
      return FrameLayout(
        ipHeaderLength: ipv6Header, isIPv6: true, payloadLength: payload, nextProtocol: next,
        needsHeaderWalk: extensionHeader)
    default:
      throw .unsupportedPacket
    }
  }

  /// RFC 791 §3.1 header checksum over `length` bytes at `ip`.
  static func fillIPv4Checksum(_ ip: UnsafeMutableRawPointer, headerLength: Int) {
    ip.setBigEndian16(0, at: 10)
    let sum = InternetChecksum.checksum(UnsafeRawBufferPointer(start: ip, count: headerLength))
    ip.setBigEndian16(sum, at: 10)
  }
}
