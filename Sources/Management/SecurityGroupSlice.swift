/// A security group's rules (stateful allow rules; RFC-less, AWS semantics:
/// a packet is admitted if any rule of any of the NIC's groups admits it).
public struct SecurityGroupSlice: Sendable, Equatable {
  public var id: UInt32
  public var rules: [Rule]

  public init(id: UInt32, rules: [Rule]) {
    self.id = id
    self.rules = rules
  }

  public struct Rule: Equatable, Sendable {
    public enum Direction: UInt8, Equatable, Sendable {
      case ingress = 1
      case egress = 2
    }

    public var direction: Direction
    /// IANA protocol number; 0 is any.
    public var protocolNumber: UInt8
    public var fromPort: UInt16
    public var toPort: UInt16
    public var peer: IPPrefix

    public init(direction: Direction, protocolNumber: UInt8, fromPort: UInt16, toPort: UInt16, peer: IPPrefix)
    {
      self.direction = direction
      self.protocolNumber = protocolNumber
      self.fromPort = fromPort
      self.toPort = toPort
      self.peer = peer
    }

    /// direction(1) protocol(1) from(2) to(2) prefix(5 or 17)
    func encoded() -> [UInt8] {
      var writer = ByteWriter(capacity: 23)
      writer.write(direction.rawValue)
      writer.write(protocolNumber)
      writer.write(fromPort)
      writer.write(toPort)
      writer.write(contentsOf: peer.encoded())
      return writer.bytes
    }

    static func decode(_ field: TLVField) throws(ManagementError) -> Rule {
      var reader = ByteReader(field.value)
      let rawDirection = try reader.readUInt8()
      guard let direction = Direction(rawValue: rawDirection) else {
        throw .invalidValue(tag: field.tag, value: UInt64(rawDirection))
      }
      let protocolNumber = try reader.readUInt8()
      let fromPort = try reader.readUInt16()
      let toPort = try reader.readUInt16()
      guard fromPort <= toPort else { throw .invalidValue(tag: field.tag, value: UInt64(fromPort)) }
      let peer = try IPPrefix.decode(try reader.readBytes(reader.remaining), tag: field.tag)
      return Rule(
        direction: direction, protocolNumber: protocolNumber, fromPort: fromPort, toPort: toPort, peer: peer)
    }
  }

  enum Tag {
    static let id: UInt8 = 1
    static let rule: UInt8 = 2  // repeated
  }

  public func encode(into fields: inout TLVWriter) throws(ManagementError) {
    fields.field(Tag.id, id)
    for rule in rules { try fields.field(Tag.rule, bytes: rule.encoded()) }
  }

  public static func decode(_ value: ArraySlice<UInt8>) throws(ManagementError) -> SecurityGroupSlice {
    var reader = TLVReader(value)
    var seen = SeenFields()
    var group = SecurityGroupSlice(id: 0, rules: [])
    while let field = try reader.next() {
      switch field.tag {
      case Tag.id:
        try seen.insert(field.tag)
        group.id = try field.uint32()
      case Tag.rule:
        group.rules.append(try Rule.decode(field))
      default: continue
      }
    }
    try seen.require(Tag.id)
    return group
  }
}
