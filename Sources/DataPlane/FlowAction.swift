import Wire

/// A reference from a flow to its connection-tracking entry. `serial`
/// tells a reused slot from the connection the flow was compiled for.
public struct ConnectionReference: Hashable, Sendable {
  public var slot: UInt32
  public var serial: UInt32
  /// Whether the flow runs in the connection's reply direction.
  public var isReply: Bool
  public init(slot: UInt32, serial: UInt32, isReply: Bool) {
    self.slot = slot
    self.serial = serial
    self.isReply = isReply
  }
}

/// One step of a compiled flow. Each maps onto an rte_flow action
/// (VXLAN_ENCAP/RAW_ENCAP, RAW_DECAP, SET_MAC_DST/SRC, COUNT+METER,
/// CONNTRACK, PORT_ID, DROP), so that a later layer can push the same
/// list to the card's switch; nothing here relies on software-only state
/// except through those references.
public enum FlowAction: Hashable, Sendable {
  case none
  /// Remove the outer Ethernet/IP/UDP/tunnel headers up to the inner frame.
  case decapsulate
  /// Prepend encapsulation template `template` of the current table set
  /// with this outer UDP source port; fills lengths and checksums.
  /// Packets that would exceed the underlay MTU go back to the slow path
  /// (as a switch traps them to software), which answers with ICMP.
  case encapsulate(template: UInt32, sourcePort: UInt16)
  case setDestinationMAC(MACAddress)
  case setSourceMAC(MACAddress)
  /// Update the connection's state (TCP flags, last seen).
  case trackConnection(ConnectionReference)
  /// Count the packet for this port and direction and police it with the
  /// port's token buckets.
  case meter(port: UInt16, direction: FlowDirection)
  case forward(port: UInt16)
  case drop(DropReason)
  // Reserved for IPsec: `case encrypt(sa: UInt32)` runs after
  // `encapsulate`, before `forward`.
}

/// A fixed-capacity list of actions, stored inline in a flow entry.
public struct ActionList: Hashable, Sendable {
  public static let capacity = 8
  @usableFromInline var storage = InlineArray<8, FlowAction>(repeating: .none)
  public private(set) var count = 0

  public init() {}

  public init(_ actions: [FlowAction]) {
    for a in actions { append(a) }
  }

  public mutating func append(_ action: FlowAction) {
    precondition(count < Self.capacity, "action list full: a bug in the slow path")
    storage[count] = action
    count += 1
  }

  /// Per packet; `index < count` (checked by InlineArray).
  @inlinable
  public subscript(index: Int) -> FlowAction { storage[index] }

  public var actions: [FlowAction] { (0..<count).map { self[$0] } }

  public static func == (a: ActionList, b: ActionList) -> Bool { a.actions == b.actions }
  public func hash(into hasher: inout Hasher) { hasher.combine(actions) }
}
