/// Sent by the card every interval; the controller's failure detector feeds
/// on their arrival times, and the counters feed telemetry.
public struct Heartbeat: Sendable, Equatable {
  public var sequence: UInt64
  /// Generation in force on the card.
  public var appliedGeneration: UInt64
  public var counters: [Counter]

  public init(sequence: UInt64, appliedGeneration: UInt64, counters: [Counter] = []) {
    self.sequence = sequence
    self.appliedGeneration = appliedGeneration
    self.counters = counters
  }

  /// A numbered counter; `CardCounter` says what each number means. The
  /// codec keeps ids it does not know (a newer card's), so the channel need
  /// not know their names.
  public struct Counter: Equatable, Sendable {
    public var id: UInt16
    public var value: UInt64
    public init(id: UInt16, value: UInt64) {
      self.id = id
      self.value = value
    }
  }

  enum Tag {
    static let sequence: UInt8 = 1
    static let appliedGeneration: UInt8 = 2
    /// Repeated: 2-byte id, 8-byte value.
    static let counter: UInt8 = 3
  }

  public func encode(into fields: inout TLVWriter) throws(ManagementError) {
    fields.field(Tag.sequence, sequence)
    fields.field(Tag.appliedGeneration, appliedGeneration)
    for counter in counters {
      var entry = ByteWriter(capacity: 10)
      entry.write(counter.id)
      entry.write(counter.value)
      try fields.field(Tag.counter, bytes: entry.bytes)
    }
  }

  public static func decode(_ payload: ArraySlice<UInt8>) throws(ManagementError) -> Heartbeat {
    var reader = TLVReader(payload)
    var seen = SeenFields()
    var heartbeat = Heartbeat(sequence: 0, appliedGeneration: 0)
    while let field = try reader.next() {
      switch field.tag {
      case Tag.sequence:
        try seen.insert(field.tag)
        heartbeat.sequence = try field.uint64()
      case Tag.appliedGeneration:
        try seen.insert(field.tag)
        heartbeat.appliedGeneration = try field.uint64()
      case Tag.counter:
        guard field.value.count == 10 else {
          throw .badFieldLength(tag: field.tag, length: field.value.count)
        }
        var entry = ByteReader(field.value)
        heartbeat.counters.append(Counter(id: try entry.readUInt16(), value: try entry.readUInt64()))
      default: continue
      }
    }
    try seen.require(Tag.sequence)
    return heartbeat
  }
}
