/// The payload encoding of every management message: a run of
/// type-length-value fields, `tag: UInt8`, `length: UInt16` (big-endian),
/// `value`. Values of composite fields are themselves TLV runs.
///
/// Receivers skip tags they do not know, so a newer controller can add
/// fields without a version bump; a field that changes meaning gets a new
/// tag. Singular fields may appear once.
public enum TLV: Sendable {
  public static let headerLength = 3
  public static let maximumValueLength = Int(UInt16.max)
}

/// One field as read from the wire, with typed accessors that check the
/// length the tag calls for.
public struct TLVField: Sendable {
  public let tag: UInt8
  public let value: ArraySlice<UInt8>

  public func uint8() throws(ManagementError) -> UInt8 { UInt8(try fixed(1)) }
  public func uint16() throws(ManagementError) -> UInt16 { UInt16(try fixed(2)) }
  public func uint32() throws(ManagementError) -> UInt32 { UInt32(try fixed(4)) }
  public func uint64() throws(ManagementError) -> UInt64 { try fixed(8) }
  public func bool() throws(ManagementError) -> Bool {
    let raw = try fixed(1)
    guard raw <= 1 else { throw .invalidValue(tag: tag, value: raw) }
    return raw == 1
  }

  public func string() throws(ManagementError) -> String {
    guard let text = String(validating: value, as: UTF8.self) else { throw .invalidUTF8(tag: tag) }
    return text
  }

  public func bytes(count: Int) throws(ManagementError) -> [UInt8] {
    guard value.count == count else { throw .badFieldLength(tag: tag, length: value.count) }
    return Array(value)
  }

  /// A reader over the field's value, for composite fields.
  public func fields() -> TLVReader { TLVReader(value) }

  private func fixed(_ width: Int) throws(ManagementError) -> UInt64 {
    guard value.count == width else { throw .badFieldLength(tag: tag, length: value.count) }
    var result: UInt64 = 0
    for byte in value { result = result << 8 | UInt64(byte) }
    return result
  }
}

/// Iterates the fields of a TLV run; a field whose length runs past the end
/// is `.truncated`.
public struct TLVReader: Sendable {
  private var reader: ByteReader

  public init(_ bytes: ArraySlice<UInt8>) { reader = ByteReader(bytes) }

  public mutating func next() throws(ManagementError) -> TLVField? {
    if reader.isAtEnd { return nil }
    let tag = try reader.readUInt8()
    let length = Int(try reader.readUInt16())
    return TLVField(tag: tag, value: try reader.readBytes(length))
  }
}

/// Builds a TLV run.
public struct TLVWriter: Sendable {
  public private(set) var writer = ByteWriter()

  public init() {}

  public var bytes: [UInt8] { writer.bytes }

  public mutating func field<C: Collection>(_ tag: UInt8, bytes value: C) throws(ManagementError)
  where C.Element == UInt8 {
    guard value.count <= TLV.maximumValueLength else { throw .valueTooLong(tag: tag, length: value.count) }
    writer.write(tag)
    writer.write(UInt16(value.count))
    writer.write(contentsOf: value)
  }

  public mutating func field(_ tag: UInt8, _ value: UInt8) {
    writer.write(tag)
    writer.write(UInt16(1))
    writer.write(value)
  }

  public mutating func field(_ tag: UInt8, _ value: UInt16) {
    writer.write(tag)
    writer.write(UInt16(2))
    writer.write(value)
  }

  public mutating func field(_ tag: UInt8, _ value: UInt32) {
    writer.write(tag)
    writer.write(UInt16(4))
    writer.write(value)
  }

  public mutating func field(_ tag: UInt8, _ value: UInt64) {
    writer.write(tag)
    writer.write(UInt16(8))
    writer.write(value)
  }

  public mutating func field(_ tag: UInt8, _ value: Bool) { field(tag, UInt8(value ? 1 : 0)) }

  public mutating func field(_ tag: UInt8, _ value: String) throws(ManagementError) {
    try field(tag, bytes: value.utf8)
  }

  public mutating func field(_ tag: UInt8, nested: TLVWriter) throws(ManagementError) {
    try field(tag, bytes: nested.bytes)
  }
}

/// Tracks which singular fields a decoder has seen, to reject repeats and
/// report the first required field that is missing.
public struct SeenFields: Sendable {
  private var bits: UInt64 = 0

  public init() {}

  /// Marks `tag` (below 64) seen; a second time is `.duplicateField`.
  public mutating func insert(_ tag: UInt8) throws(ManagementError) {
    let bit: UInt64 = 1 << UInt64(tag & 63)
    guard bits & bit == 0 else { throw .duplicateField(tag: tag) }
    bits |= bit
  }

  public func require(_ tags: UInt8...) throws(ManagementError) {
    for tag in tags where bits & (1 << UInt64(tag & 63)) == 0 { throw .missingField(tag: tag) }
  }
}
