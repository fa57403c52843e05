/// One cached flow in 128 bytes, two cache lines the fast path fetches
/// together: the key (the first line), then the compiled program, the
/// generation it was compiled against and the bookkeeping. A hit on an
/// entry of another generation is a miss; generation 0 marks a free slot
/// (table sets never use it).
public struct FlowEntry: OpenAddressingEntry, Sendable {
  public var key: FlowKey
  public var program: ActionProgram
  public var generation: UInt32
  public var lastUsed: UInt64
  public var packets: UInt64

  /// `program` comes from `ActionProgram(list)`; `generation` is not 0.
  public init(key: FlowKey, program: ActionProgram, generation: UInt32, lastUsed: UInt64) {
    precondition(generation != 0, "generation 0 marks a free slot")
    self.key = key
    self.program = program
    self.generation = generation
    self.lastUsed = lastUsed
    self.packets = 0
  }

  /// Nil when `actions` is not in the canonical order `ActionProgram`
  /// packs (the slow path emits only that order).
  public init?(key: FlowKey, actions: ActionList, generation: UInt32, lastUsed: UInt64) {
    guard let program = ActionProgram(actions) else { return nil }
    self.init(key: key, program: program, generation: generation, lastUsed: lastUsed)
  }

  private init(emptyWith key: FlowKey) {
    self.key = key
    program = ActionProgram(ActionList())!
    generation = 0
    lastUsed = 0
    packets = 0
  }

  /// The compiled actions (the definition; not per packet).
  public var actions: ActionList { program.actions }

  @inlinable public var isOccupied: Bool { generation != 0 }

  public static let empty = FlowEntry(
    emptyWith: FlowKey(
      source: .zero, destination: .zero, sourcePort: 0, destinationPort: 0, protocol: .init(rawValue: 0),
      direction: .egress, portOrVNI: 0, mac: .zero))

  @inlinable public static func hash(_ key: FlowKey) -> UInt64 { key.hashValue64 }
}

public typealias FlowTable = OpenAddressingTable<FlowEntry>
