/// The card's report that a generation of desired state is in force (or
/// why it is not: then an `ErrorReport` follows with the same generation).
public struct Applied: Sendable, Equatable {
  public var generation: UInt64

  public init(generation: UInt64) { self.generation = generation }

  enum Tag {
    static let generation: UInt8 = 1
  }

  public func encode(into fields: inout TLVWriter) {
    fields.field(Tag.generation, generation)
  }

  public static func decode(_ payload: ArraySlice<UInt8>) throws(ManagementError) -> Applied {
    var reader = TLVReader(payload)
    var seen = SeenFields()
    var applied = Applied(generation: 0)
    while let field = try reader.next() {
      switch field.tag {
      case Tag.generation: applied.generation = try field.uint64()
      default: continue
      }
      try seen.insert(field.tag)
    }
    try seen.require(Tag.generation)
    return applied
  }
}
