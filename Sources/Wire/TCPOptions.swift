/// RFC 7323 §3: the timestamps option's two values.
public struct TCPTimestamps: Hashable, Sendable {
  public var value: UInt32
  public var echoReply: UInt32

  public init(value: UInt32, echoReply: UInt32) {
    self.value = value
    self.echoReply = echoReply
  }
}

/// One TCP option as found in a header.
public enum TCPOption {
  case noOperation
  /// RFC 9293 §3.2: MSS, kind 2, length 4.
  case maximumSegmentSize(UInt16)
  /// RFC 7323 §2.2: window scale shift, kind 3, length 3.
  case windowScale(UInt8)
  /// RFC 2018 §2: SACK-permitted, kind 4, length 2.
  case sackPermitted
  /// RFC 2018 §3: 1 to 4 blocks of (left edge, right edge).
  case sack(TCPSACKBlocks)
  /// RFC 7323 §3: kind 8, length 10.
  case timestamps(TCPTimestamps)
  /// Any other kind, with its data (length already checked to fit).
  case unknown(kind: UInt8, data: UnsafeRawBufferPointer)
}

/// The blocks of a SACK option, read in place.
public struct TCPSACKBlocks {
  @usableFromInline let data: UnsafeRawBufferPointer

  @inlinable init(_ data: UnsafeRawBufferPointer) { self.data = data }

  @inlinable public var count: Int { data.count / 8 }

  /// Block `index` (0..<count): left and right edge sequence numbers.
  @inlinable
  public func block(_ index: Int) -> (left: UInt32, right: UInt32) {
    precondition(index >= 0 && index < count)
    let base = data.baseAddress.unsafelyUnwrapped
    return (base.loadBigEndian32(at: index * 8), base.loadBigEndian32(at: index * 8 + 4))
  }
}

/// The options area of a TCP header, walked in place. Per packet; no
/// allocation. End-of-list stops the walk (RFC 9293 §3.2: what follows is
/// padding).
public struct TCPOptions {
  public enum Kind {
    public static let endOfList: UInt8 = 0
    public static let noOperation: UInt8 = 1
    public static let maximumSegmentSize: UInt8 = 2
    public static let windowScale: UInt8 = 3
    public static let sackPermitted: UInt8 = 4
    public static let sack: UInt8 = 5
    public static let timestamps: UInt8 = 8
  }

  @usableFromInline let bytes: UnsafeRawBufferPointer
  @usableFromInline var offset = 0

  @inlinable
  init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

  /// The next option; nil at end-of-list or the end of the area;
  /// `badOption` for a length below 2, beyond the area, or wrong for a
  /// known kind (RFC 9293 §3.2 and RFC 1122 §4.2.2.5: a receiver must be
  /// prepared for any length and must not read past the header).
  @inlinable
  public mutating func next() throws(WireError) -> TCPOption? {
    guard offset < bytes.count else { return nil }
    let kind = bytes[offset]
    if kind == Kind.endOfList {
      offset = bytes.count
      return nil
    }
    if kind == Kind.noOperation {
      offset += 1
      return .noOperation
    }
    guard offset + 2 <= bytes.count else { throw .badOption }
    let length = Int(bytes[offset + 1])
    guard length >= 2, offset + length <= bytes.count else { throw .badOption }
    let data = UnsafeRawBufferPointer(rebasing: bytes[(offset + 2)..<(offset + length)])
    offset += length
    switch kind {
    case Kind.maximumSegmentSize:
      guard length == 4 else { throw .badOption }
      return .maximumSegmentSize(data.baseAddress.unsafelyUnwrapped.loadBigEndian16(at: 0))
    case Kind.windowScale:
      guard length == 3 else { throw .badOption }
      return .windowScale(data[0])
    case Kind.sackPermitted:
      guard length == 2 else { throw .badOption }
      return .sackPermitted
    case Kind.sack:
      guard (length - 2) % 8 == 0, length >= 10 else { throw .badOption }
      return .sack(TCPSACKBlocks(data))
    case Kind.timestamps:
      guard length == 10 else { throw .badOption }
      let base = data.baseAddress.unsafelyUnwrapped
      return .timestamps(
        TCPTimestamps(value: base.loadBigEndian32(at: 0), echoReply: base.loadBigEndian32(at: 4)))
    default:
      return .unknown(kind: kind, data: data)
    }
  }
}
