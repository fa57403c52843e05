/// The 5-byte header of a TLS record (RFC 8446 §5.1, RFC 5246 §6.2.1):
/// content type, legacy record version, length. Checked once: a known
/// content type, major version 3, and a length no record may exceed.
/// The record body may continue beyond the region (records span TCP
/// segments); `isComplete` says whether it is all here.
public struct TLSRecord {
  public enum Field {
    public static let contentType = 0
    public static let legacyVersion = 1
    public static let length = 3
    public static let headerLength = 5
  }

  /// RFC 8446 §5.1 (and RFC 6520 for heartbeat).
  public enum ContentType: UInt8, Sendable {
    case changeCipherSpec = 20
    case alert = 21
    case handshake = 22
    case applicationData = 23
    case heartbeat = 24
  }

  /// RFC 8446 §5.1: TLSPlaintext.length ≤ 2^14.
  public static let maximumPlaintextLength = 1 << 14
  /// RFC 8446 §5.2: TLSCiphertext.length ≤ 2^14 + 256.
  public static let maximumTLS13CiphertextLength = (1 << 14) + 256
  /// RFC 5246 §6.2.3: TLSCiphertext.length ≤ 2^14 + 2048, the largest any
  /// version allows, and so the limit this header check applies.
  public static let maximumCiphertextLength = (1 << 14) + 2048

  public let bytes: UnsafeMutableRawBufferPointer
  @usableFromInline let base: UnsafeMutableRawPointer

  @inlinable
  public init(checking bytes: UnsafeMutableRawBufferPointer) throws(WireError) {
    guard bytes.count >= Field.headerLength, let base = bytes.baseAddress else { throw .truncated }
    guard let type = ContentType(rawValue: base.loadBigEndian8(at: Field.contentType)) else {
      throw .unsupported
    }
    // RFC 8446 §5.1: legacy_record_version is 0x0303 (0x0301 allowed in a
    // ClientHello); every TLS and SSL 3 version has major version 3.
    guard base.loadBigEndian8(at: Field.legacyVersion) == 3 else { throw .badVersion }
    let length = Int(base.loadBigEndian16(at: Field.length))
    guard length <= Self.maximumCiphertextLength else { throw .badLength }
    // RFC 8446 §5.1: zero-length handshake and alert fragments must not be sent.
    if length == 0 && (type == .handshake || type == .alert) { throw .badLength }
    self.bytes = bytes
    self.base = base
  }

  /// The content type; a known value after `init(checking:)`.
  @inlinable public var contentType: ContentType {
    ContentType(rawValue: base.loadBigEndian8(at: Field.contentType)) ?? .applicationData
  }

  @inlinable public var legacyVersion: UInt16 { base.loadBigEndian16(at: Field.legacyVersion) }

  /// The length of the record body, header excluded.
  @inlinable public var length: Int {
    get { Int(base.loadBigEndian16(at: Field.length)) }
    nonmutating set { base.storeBigEndian16(UInt16(truncatingIfNeeded: newValue), at: Field.length) }
  }

  @inlinable public var headerLength: Int { Field.headerLength }
  /// Header plus body.
  @inlinable public var recordLength: Int { Field.headerLength + length }
  @inlinable public var isComplete: Bool { bytes.count >= recordLength }

  /// Whether the length is within what a protected TLS 1.3 record may have
  /// (RFC 8446 §5.2); the header check allows TLS 1.2's larger limit.
  @inlinable public var isWithinTLS13Limit: Bool { length <= Self.maximumTLS13CiphertextLength }

  /// The body bytes present in the region (all of it when `isComplete`).
  @inlinable public var fragment: UnsafeMutableRawBufferPointer {
    bytes.region(from: Field.headerLength, count: min(length, bytes.count - Field.headerLength))
  }
}

/// A TLS record header, for building one.
public struct TLSRecordHeader: Hashable, Sendable {
  public var contentType: TLSRecord.ContentType
  public var legacyVersion: UInt16
  public var length: Int

  /// RFC 8446 §5.1: records after the ClientHello carry 0x0303.
  public init(contentType: TLSRecord.ContentType, length: Int, legacyVersion: UInt16 = 0x0303) {
    precondition(length >= 0 && length <= TLSRecord.maximumCiphertextLength)
    self.contentType = contentType
    self.length = length
    self.legacyVersion = legacyVersion
  }

  public init(_ record: TLSRecord) {
    self.init(contentType: record.contentType, length: record.length, legacyVersion: record.legacyVersion)
  }

  public static let headerLength = TLSRecord.Field.headerLength
  public var headerLength: Int { Self.headerLength }

  @inlinable
  public func emit(into buffer: UnsafeMutableRawBufferPointer) {
    precondition(buffer.count >= TLSRecord.Field.headerLength)
    let base = buffer.baseAddress.unsafelyUnwrapped
    base.storeBigEndian8(contentType.rawValue, at: TLSRecord.Field.contentType)
    base.storeBigEndian16(legacyVersion, at: TLSRecord.Field.legacyVersion)
    base.storeBigEndian16(UInt16(length), at: TLSRecord.Field.length)
  }
}
