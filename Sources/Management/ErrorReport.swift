/// Either side's report that something it received could not be used: a
/// frame that failed to parse, or desired state the card cannot apply.
public struct ErrorReport: Sendable, Equatable {
  public var code: Code
  /// The generation the error is about, 0 if none.
  public var generation: UInt64
  /// For a person reading the controller's log; at most 1 KiB is sent.
  public var message: String

  public static let maximumMessageBytes = 1024

  public enum Code: UInt16, Equatable, Sendable {
    case malformedFrame = 1
    case unsupportedVersion = 2
    case cannotApply = 3
    case outOfResources = 4
    case unauthorized = 5
  }

  public init(code: Code, generation: UInt64 = 0, message: String) {
    self.code = code
    self.generation = generation
    self.message = message
  }

  enum Tag {
    static let code: UInt8 = 1
    static let generation: UInt8 = 2
    static let message: UInt8 = 3
  }

  public func encode(into fields: inout TLVWriter) throws(ManagementError) {
    fields.field(Tag.code, code.rawValue)
    fields.field(Tag.generation, generation)
    // Cut on a UTF-8 boundary so the receiver's validation passes.
    var text = Array(message.utf8)
    if text.count > ErrorReport.maximumMessageBytes {
      var end = ErrorReport.maximumMessageBytes
      while end > 0, text[end] & 0xC0 == 0x80 { end -= 1 }
      text = Array(text[..<end])
    }
    try fields.field(Tag.message, bytes: text)
  }

  public static func decode(_ payload: ArraySlice<UInt8>) throws(ManagementError) -> ErrorReport {
    var reader = TLVReader(payload)
    var seen = SeenFields()
    var report = ErrorReport(code: .malformedFrame, message: "")
    while let field = try reader.next() {
      switch field.tag {
      case Tag.code:
        let raw = try field.uint16()
        guard let code = Code(rawValue: raw) else { throw .invalidValue(tag: field.tag, value: UInt64(raw)) }
        report.code = code
      case Tag.generation: report.generation = try field.uint64()
      case Tag.message: report.message = try field.string()
      default: continue
      }
      try seen.insert(field.tag)
    }
    try seen.require(Tag.code)
    return report
  }
}
