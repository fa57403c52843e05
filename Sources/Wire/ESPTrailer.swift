/// The end of a decrypted ESP payload (RFC 4303 §2.4-2.6): padding, pad
/// length, next header. The view is over the plaintext with the ICV
/// already removed. Checked once: the pad length fits, and the padding
/// holds 1, 2, 3, ... (§2.4: the default padding, which the receiver
/// should check).
public struct ESPTrailer {
  /// Pad length and next header.
  public static let fixedLength = 2

  public let bytes: UnsafeMutableRawBufferPointer
  @usableFromInline let base: UnsafeMutableRawPointer

  @inlinable
  public init(checking plaintext: UnsafeMutableRawBufferPointer) throws(WireError) {
    guard plaintext.count >= Self.fixedLength, let base = plaintext.baseAddress else { throw .truncated }
    let padLength = Int(base.loadBigEndian8(at: plaintext.count - 2))
    guard padLength + Self.fixedLength <= plaintext.count else { throw .badLength }
    let paddingStart = plaintext.count - Self.fixedLength - padLength
    for i in 0..<padLength where base.loadBigEndian8(at: paddingStart + i) != UInt8(truncatingIfNeeded: i + 1)
    {
      throw .badPadding
    }
    self.bytes = plaintext
    self.base = base
  }

  /// The number of padding bytes (0...255).
  @inlinable public var padLength: Int { Int(base.loadBigEndian8(at: bytes.count - 2)) }

  /// The protocol of the protected payload (4 for IPv4 in tunnel mode,
  /// 41 for IPv6, or the transport protocol).
  @inlinable public var nextHeader: IPProtocol {
    IPProtocol(rawValue: base.loadBigEndian8(at: bytes.count - 1))
  }

  /// RFC 4303 §2.6: next header 59 marks a dummy packet, to be dropped.
  @inlinable public var isDummy: Bool { nextHeader == .noNextHeader }

  /// The protected payload, before the padding.
  @inlinable public var payload: UnsafeMutableRawBufferPointer {
    bytes.region(from: 0, count: bytes.count - Self.fixedLength - padLength)
  }
}

/// An ESP trailer, for building one after a payload of known length.
public struct ESPTrailerBuilder: Hashable, Sendable {
  public var nextHeader: IPProtocol
  public var padLength: Int

  /// RFC 4303 §2.4: pads `payloadLength` so that payload, padding and the
  /// two fixed bytes end on a multiple of `alignment` (4 at least, the
  /// cipher's block size if larger; AES-GCM needs 4, RFC 4106 §3).
  public init(nextHeader: IPProtocol, payloadLength: Int, alignment: Int = 4) {
    precondition(alignment >= 4 && alignment <= 256 && alignment & (alignment - 1) == 0)
    self.nextHeader = nextHeader
    let unpadded = payloadLength + ESPTrailer.fixedLength
    padLength = (alignment - unpadded % alignment) % alignment
  }

  /// Padding plus the two fixed bytes.
  public var length: Int { padLength + ESPTrailer.fixedLength }

  /// Writes padding 1, 2, 3, ..., pad length and next header. Per packet.
  @inlinable
  public func emit(into buffer: UnsafeMutableRawBufferPointer) {
    precondition(buffer.count >= padLength + ESPTrailer.fixedLength)
    let base = buffer.baseAddress.unsafelyUnwrapped
    for i in 0..<padLength { base.storeBigEndian8(UInt8(i + 1), at: i) }
    base.storeBigEndian8(UInt8(padLength), at: padLength)
    base.storeBigEndian8(nextHeader.rawValue, at: padLength + 1)
  }
}
