import Wire

/// How one TSO chain becomes segments (virtio 1.2 §5.1.6.2): the headers
/// the device parsed itself (the guest's hdr_len is not trusted), the MSS,
/// and the original IPv4 ID and TCP sequence number.
struct SegmentationPlan {
  static let maximumHeaderLength = 256
  // Offsets inside the IP and TCP headers.
  static let ipv4TotalLength = 2
  static let ipv4Identification = 4
  static let ipv4FlagsFragment = 6
  static let ipv4Checksum = 10
  static let ipv4Addresses = 12
  static let ipv6PayloadLength = 4
  static let ipv6NextHeader = 6
  static let ipv6Addresses = 8
  static let tcpSequence = 4
  static let tcpDataOffset = 12
  static let tcpFlags = 13
  static let tcpChecksum = 16
  static let tcpFIN: UInt8 = 0x01
  static let tcpPSH: UInt8 = 0x08
  static let tcpCWR: UInt8 = 0x80

  var networkOffset = 0
  var transportOffset = 0
  var headerLength = 0
  var isIPv4 = true
  var segmentSize = 0
  var payloadLength = 0
  var segmentCount = 0
  var identification: UInt16 = 0
  var sequence: UInt32 = 0

  /// Parses Ethernet [VLAN] IPv4|IPv6 TCP in `headers` (the first bytes of
  /// the frame, `available` of them), for a frame of `frameLength` bytes.
  init(
    headers h: UnsafeRawPointer, available: Int, frameLength: Int, gsoType: UInt8, segmentSize: UInt16,
    maximumSegmentFrame: Int, maximumSegments: Int
  ) throws(VirtioNetError) {
    var l3 = 14
    guard available >= l3 else { throw .segmentationHeadersInvalid }
    var etherType = UInt16(bigEndian: h.loadUnaligned(fromByteOffset: 12, as: UInt16.self))
    if etherType == EtherType.vlan.rawValue {
      guard available >= 18 else { throw .segmentationHeadersInvalid }
      etherType = UInt16(bigEndian: h.loadUnaligned(fromByteOffset: 16, as: UInt16.self))
      l3 = 18
    }
    let type = gsoType & ~VirtioNetHeader.gsoECN
    if type == VirtioNetHeader.gsoTCPv4 {
      guard etherType == EtherType.ipv4.rawValue, available >= l3 + 20 else {
        throw .segmentationHeadersInvalid
      }
      let versionIHL = h.load(fromByteOffset: l3, as: UInt8.self)
      let ihl = Int(versionIHL & 0x0f) * 4
      let fragment = UInt16(
        bigEndian: h.loadUnaligned(fromByteOffset: l3 + Self.ipv4FlagsFragment, as: UInt16.self))
      guard versionIHL >> 4 == 4, ihl >= 20,
        h.load(fromByteOffset: l3 + 9, as: UInt8.self) == IPProtocol.tcp.rawValue,
        fragment & 0x3fff == 0
      else { throw .segmentationHeadersInvalid }
      transportOffset = l3 + ihl
      isIPv4 = true
      identification = UInt16(
        bigEndian: h.loadUnaligned(fromByteOffset: l3 + Self.ipv4Identification, as: UInt16.self))
    } else if type == VirtioNetHeader.gsoTCPv6 {
      // Extension headers are not segmented: the next header must be TCP.
      guard etherType == EtherType.ipv6.rawValue, available >= l3 + 40,
        h.load(fromByteOffset: l3, as: UInt8.self) >> 4 == 6,
        h.load(fromByteOffset: l3 + Self.ipv6NextHeader, as: UInt8.self) == IPProtocol.tcp.rawValue
      else { throw .segmentationHeadersInvalid }
      transportOffset = l3 + 40
      isIPv4 = false
    } else {
      throw .segmentationNotNegotiated(gsoType)
    }
    networkOffset = l3
    guard available >= transportOffset + 20 else { throw .segmentationHeadersInvalid }
    let dataOffset =
      Int(h.load(fromByteOffset: transportOffset + Self.tcpDataOffset, as: UInt8.self) >> 4) * 4
    guard dataOffset >= 20, transportOffset + dataOffset <= available else {
      throw .segmentationHeadersInvalid
    }
    headerLength = transportOffset + dataOffset
    guard headerLength <= frameLength else { throw .segmentationHeadersInvalid }
    guard segmentSize > 0, headerLength + Int(segmentSize) <= maximumSegmentFrame else {
      throw .segmentSizeInvalid(segmentSize)
    }
    self.segmentSize = Int(segmentSize)
    payloadLength = frameLength - headerLength
    segmentCount = max(1, (payloadLength + self.segmentSize - 1) / self.segmentSize)
    guard segmentCount <= maximumSegments else { throw .tooManySegments(segmentCount) }
    sequence = UInt32(
      bigEndian: h.loadUnaligned(fromByteOffset: transportOffset + Self.tcpSequence, as: UInt32.self))
  }

  /// Payload bytes of segment `index`.
  func payloadLength(ofSegment index: Int) -> Int {
    min(segmentSize, payloadLength - index * segmentSize)
  }

  /// Fixes the headers of segment `index` of `count`, in a frame of
  /// `frameLength` bytes at `p` whose payload is already in place: IP
  /// lengths, IPv4 ID and checksum, TCP sequence, flags (FIN/PSH only on
  /// the last segment, CWR only on the first) and checksum. Per segment.
  func finishSegment(_ p: UnsafeMutableRawPointer, index: Int, frameLength: Int) {
    let l3 = networkOffset
    let l4 = transportOffset
    let transportLength = frameLength - l4
    if isIPv4 {
      p.storeBytes(
        of: UInt16(frameLength - l3).bigEndian, toByteOffset: l3 + Self.ipv4TotalLength, as: UInt16.self)
      p.storeBytes(
        of: (identification &+ UInt16(truncatingIfNeeded: index)).bigEndian,
        toByteOffset: l3 + Self.ipv4Identification, as: UInt16.self)
      p.storeBytes(of: 0, toByteOffset: l3 + Self.ipv4Checksum, as: UInt16.self)
      let ihl = l4 - l3
      let checksum = InternetChecksum.finish(InternetChecksum.sum(UnsafeRawPointer(p + l3), count: ihl))
      p.storeBytes(of: checksum.bigEndian, toByteOffset: l3 + Self.ipv4Checksum, as: UInt16.self)
    } else {
      p.storeBytes(
        of: UInt16(frameLength - l3 - 40).bigEndian, toByteOffset: l3 + Self.ipv6PayloadLength,
        as: UInt16.self)
    }
    let seq = sequence &+ UInt32(truncatingIfNeeded: index * segmentSize)
    p.storeBytes(of: seq.bigEndian, toByteOffset: l4 + Self.tcpSequence, as: UInt32.self)
    var flags = p.load(fromByteOffset: l4 + Self.tcpFlags, as: UInt8.self)
    if index < segmentCount - 1 { flags &= ~(Self.tcpFIN | Self.tcpPSH) }
    if index > 0 { flags &= ~Self.tcpCWR }
    p.storeBytes(of: flags, toByteOffset: l4 + Self.tcpFlags, as: UInt8.self)
    p.storeBytes(of: 0, toByteOffset: l4 + Self.tcpChecksum, as: UInt16.self)
    // Pseudo-header (RFC 9293 §3.1, RFC 8200 §8.1): addresses, protocol, length.
    let addresses = isIPv4 ? (l3 + Self.ipv4Addresses, 8) : (l3 + Self.ipv6Addresses, 32)
    var sum = InternetChecksum.sum(UnsafeRawPointer(p + addresses.0), count: addresses.1)
    sum = InternetChecksum.combine(sum, UInt32(IPProtocol.tcp.rawValue) + UInt32(transportLength))
    sum = InternetChecksum.sum(UnsafeRawPointer(p + l4), count: transportLength, initial: sum)
    p.storeBytes(
      of: InternetChecksum.finish(sum).bigEndian, toByteOffset: l4 + Self.tcpChecksum, as: UInt16.self)
  }
}
