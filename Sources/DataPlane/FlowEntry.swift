/// One cached flow: its key, the compiled actions, and when it was last
/// used. `generation` is the table set it was compiled against: a hit on
/// an entry of another generation is a miss.
///
/// Layout: the occupancy flag, generation and key come first, so a probe
/// reads one or two cache lines before it knows whether it hit.
public struct FlowEntry: OpenAddressingEntry, Sendable {
  public var isOccupied: Bool
  public var generation: UInt32
  public var key: FlowKey
  public var actions: ActionList
  /// `actions` flattened for the fast path, when it is in canonical order.
  public var program: ActionProgram?
  public var lastUsed: UInt64
  public var packets: UInt64

  public init(key: FlowKey, actions: ActionList, generation: UInt32, lastUsed: UInt64) {
    self.key = key
    self.actions = actions
    self.program = ActionProgram(actions)
    self.generation = generation
    self.isOccupied = true
    self.lastUsed = lastUsed
    self.packets = 0
  }

  public static let empty: FlowEntry = {
    var e = FlowEntry(
      key: FlowKey(
        source: .zero, destination: .zero, sourcePort: 0, destinationPort: 0, protocol: .init(rawValue: 0),
        direction: .egress, portOrVNI: 0, mac: .zero),
      actions: ActionList(), generation: 0, lastUsed: 0)
    e.isOccupied = false
    return e
  }()

  @inlinable public static func hash(_ key: FlowKey) -> UInt64 { key.hashValue64 }
}

public typealias FlowTable = OpenAddressingTable<FlowEntry>
