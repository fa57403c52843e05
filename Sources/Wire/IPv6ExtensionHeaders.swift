/// Where an IPv6 packet's upper layer starts, found by walking its
/// extension headers (RFC 8200 §4), and what the fragment header said.
public struct IPv6UpperLayer: Hashable, Sendable {
  /// The walk gives up after this many extension headers. RFC 8200 §4.1
  /// expects at most one of each kind (two destination options); RFC 7112
  /// and 8883 let middleboxes drop longer chains.
  public static let maximumExtensionHeaders = 8

  /// The upper-layer protocol (or `noNextHeader`, or `esp`, whose contents
  /// are opaque).
  public var `protocol`: IPProtocol
  /// Offset of the upper-layer header from the start of the IPv6 payload
  /// (the end of the 40-byte fixed header).
  public var offset: Int
  public var extensionHeaderCount: Int
  /// Whether a fragment header was present.
  public var isFragment: Bool
  /// The fragment offset in bytes (the 13-bit field × 8); a non-zero value
  /// means the upper-layer header is not in this packet.
  public var fragmentByteOffset: Int
  public var moreFragments: Bool
  public var fragmentIdentification: UInt32

  @usableFromInline static let fragmentHeaderLength = 8

  /// Walks the chain that starts with `firstHeader` at the start of
  /// `payload`. Per packet: bounded by `maximumExtensionHeaders`, every
  /// length checked against `payload`.
  @inlinable
  public init(walking payload: UnsafeRawBufferPointer, firstHeader: IPProtocol) throws(WireError) {
    self.protocol = firstHeader
    offset = 0
    extensionHeaderCount = 0
    isFragment = false
    fragmentByteOffset = 0
    moreFragments = false
    fragmentIdentification = 0
    while true {
      let length: Int
      switch self.protocol {
      case .hopByHop, .routing, .destinationOptions:
        // RFC 8200 §4.3: hop-by-hop options only directly after the header.
        if self.protocol == .hopByHop && extensionHeaderCount != 0 { throw .badOption }
        guard offset + 2 <= payload.count else { throw .truncated }
        // RFC 8200 §4.3-4.6: Hdr Ext Len in 8-octet units, not counting the first 8.
        length = (Int(payload[offset + 1]) + 1) * 8
      case .fragment:
        guard offset + Self.fragmentHeaderLength <= payload.count, let base = payload.baseAddress else {
          throw .truncated
        }
        // RFC 8200 §4.5: offset (13 bits) | Res (2) | M (1), then Identification.
        let word = base.loadBigEndian16(at: offset + 2)
        isFragment = true
        fragmentByteOffset = Int(word >> 3) * 8
        moreFragments = word & 1 != 0
        fragmentIdentification = base.loadBigEndian32(at: offset + 4)
        length = Self.fragmentHeaderLength
      case .authentication:
        guard offset + 2 <= payload.count else { throw .truncated }
        // RFC 4302 §2.2: Payload Len in 4-octet units, minus 2.
        length = (Int(payload[offset + 1]) + 2) * 4
      default:
        return
      }
      guard extensionHeaderCount < Self.maximumExtensionHeaders else { throw .tooManyExtensionHeaders }
      guard offset + length <= payload.count else { throw .truncated }
      self.protocol = IPProtocol(rawValue: payload[offset])
      extensionHeaderCount += 1
      offset += length
      // A later fragment carries none of the upper-layer header.
      if isFragment && fragmentByteOffset != 0 { return }
    }
  }
}

/// A hop-by-hop or destination options header with no options but padding
/// (RFC 8200 §4.2: Pad1 / PadN), for building test and probe packets.
public struct IPv6OptionsHeader: Hashable, Sendable {
  public var nextHeader: IPProtocol
  /// Total length in bytes, a multiple of 8 (8...2048).
  public var length: Int

  public init(nextHeader: IPProtocol, length: Int = 8) {
    precondition(length >= 8 && length <= 2048 && length % 8 == 0)
    self.nextHeader = nextHeader
    self.length = length
  }

  public var headerLength: Int { length }

  public func emit(into buffer: UnsafeMutableRawBufferPointer) {
    precondition(buffer.count >= length)
    buffer[0] = nextHeader.rawValue
    buffer[1] = UInt8(length / 8 - 1)
    // One PadN option covering the remaining length - 2 bytes (RFC 8200 §4.2).
    buffer[2] = 1
    buffer[3] = UInt8(length - 4)
    for i in 4..<length { buffer[i] = 0 }
  }
}

/// An IPv6 fragment header (RFC 8200 §4.5), for building one.
public struct IPv6FragmentHeader: Hashable, Sendable {
  public var nextHeader: IPProtocol
  /// In bytes; a multiple of 8.
  public var fragmentByteOffset: Int
  public var moreFragments: Bool
  public var identification: UInt32

  public init(nextHeader: IPProtocol, fragmentByteOffset: Int, moreFragments: Bool, identification: UInt32) {
    precondition(fragmentByteOffset % 8 == 0 && fragmentByteOffset < 65536)
    self.nextHeader = nextHeader
    self.fragmentByteOffset = fragmentByteOffset
    self.moreFragments = moreFragments
    self.identification = identification
  }

  public static let headerLength = IPv6UpperLayer.fragmentHeaderLength
  public var headerLength: Int { Self.headerLength }

  public func emit(into buffer: UnsafeMutableRawBufferPointer) {
    precondition(buffer.count >= Self.headerLength)
    let base = buffer.baseAddress.unsafelyUnwrapped
    base.storeBigEndian8(nextHeader.rawValue, at: 0)
    base.storeBigEndian8(0, at: 1)
    base.storeBigEndian16(UInt16(fragmentByteOffset / 8) << 3 | (moreFragments ? 1 : 0), at: 2)
    base.storeBigEndian32(identification, at: 4)
  }
}
