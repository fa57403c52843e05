// The network parts of a card's desired state. Ids (`nic`, `securityGroup`,
// `tunnel`) are small card-local handles the controller assigns, so the
// firmware's tables index arrays rather than strings.

/// A tenant NIC served by this card (OPI Vnic).
public struct NicSlice: Sendable, Equatable {
  public var id: UInt32
  public var vni: UInt32
  public var mac: [UInt8]
  public var addresses: [IPPrefix]
  public var securityGroups: [UInt32]
  public var sourceGuard: Bool
  public var maxBandwidthMbps: UInt32
  public var maxPacketsPerSecond: UInt32
  /// The NIC's subnet block (its gateway is the first host address).
  /// Optional and added after the first release: an older controller
  /// leaves it out, an older card skips the unknown tag.
  public var subnet: IPPrefix?

  public init(
    id: UInt32, vni: UInt32, mac: [UInt8], addresses: [IPPrefix] = [], securityGroups: [UInt32] = [],
    sourceGuard: Bool = true, maxBandwidthMbps: UInt32 = 0, maxPacketsPerSecond: UInt32 = 0,
    subnet: IPPrefix? = nil
  ) {
    self.id = id
    self.vni = vni
    self.mac = mac
    self.addresses = addresses
    self.securityGroups = securityGroups
    self.sourceGuard = sourceGuard
    self.maxBandwidthMbps = maxBandwidthMbps
    self.maxPacketsPerSecond = maxPacketsPerSecond
    self.subnet = subnet
  }

  enum Tag {
    static let id: UInt8 = 1
    static let vni: UInt8 = 2
    static let mac: UInt8 = 3
    static let address: UInt8 = 4  // repeated
    static let securityGroup: UInt8 = 5  // repeated
    static let sourceGuard: UInt8 = 6
    static let maxBandwidthMbps: UInt8 = 7
    static let maxPacketsPerSecond: UInt8 = 8
    static let subnet: UInt8 = 9
  }

  public func encode(into fields: inout TLVWriter) throws(ManagementError) {
    fields.field(Tag.id, id)
    fields.field(Tag.vni, vni)
    try fields.field(Tag.mac, bytes: mac)
    for address in addresses { try fields.field(Tag.address, bytes: address.encoded()) }
    for group in securityGroups { fields.field(Tag.securityGroup, group) }
    fields.field(Tag.sourceGuard, sourceGuard)
    fields.field(Tag.maxBandwidthMbps, maxBandwidthMbps)
    fields.field(Tag.maxPacketsPerSecond, maxPacketsPerSecond)
    if let subnet { try fields.field(Tag.subnet, bytes: subnet.encoded()) }
  }

  public static func decode(_ value: ArraySlice<UInt8>) throws(ManagementError) -> NicSlice {
    var reader = TLVReader(value)
    var seen = SeenFields()
    var nic = NicSlice(id: 0, vni: 0, mac: [])
    while let field = try reader.next() {
      switch field.tag {
      case Tag.address: nic.addresses.append(try IPPrefix.decode(field))
      case Tag.securityGroup: nic.securityGroups.append(try field.uint32())
      case Tag.id:
        try seen.insert(field.tag)
        nic.id = try field.uint32()
      case Tag.vni:
        try seen.insert(field.tag)
        nic.vni = try field.vni()
      case Tag.mac:
        try seen.insert(field.tag)
        nic.mac = try field.bytes(count: 6)
      case Tag.sourceGuard:
        try seen.insert(field.tag)
        nic.sourceGuard = try field.bool()
      case Tag.maxBandwidthMbps:
        try seen.insert(field.tag)
        nic.maxBandwidthMbps = try field.uint32()
      case Tag.maxPacketsPerSecond:
        try seen.insert(field.tag)
        nic.maxPacketsPerSecond = try field.uint32()
      case Tag.subnet:
        try seen.insert(field.tag)
        nic.subnet = try IPPrefix.decode(field)
      default: continue
      }
    }
    try seen.require(Tag.id, Tag.vni, Tag.mac)
    return nic
  }
}

extension TLVField {
  /// A VNI is 24 bits (RFC 7348 §5, RFC 8926 §3.1).
  func vni() throws(ManagementError) -> UInt32 {
    let value = try uint32()
    guard value < 1 << 24 else { throw .invalidValue(tag: tag, value: UInt64(value)) }
    return value
  }
}

/// One route of a VPC's table.
public struct RouteSlice: Sendable, Equatable {
  public enum Target: Equatable, Sendable {
    case local
    case nic(UInt32)
    case tunnel(UInt32)
    case drop
  }

  public var vni: UInt32
  public var destination: IPPrefix
  public var target: Target

  public init(vni: UInt32, destination: IPPrefix, target: Target) {
    self.vni = vni
    self.destination = destination
    self.target = target
  }

  enum Tag {
    static let vni: UInt8 = 1
    static let destination: UInt8 = 2
    /// 1-byte kind, 4-byte handle (0 for local and drop).
    static let target: UInt8 = 3
  }

  public func encode(into fields: inout TLVWriter) throws(ManagementError) {
    fields.field(Tag.vni, vni)
    try fields.field(Tag.destination, bytes: destination.encoded())
    var target = ByteWriter(capacity: 5)
    switch self.target {
    case .local:
      target.write(UInt8(1))
      target.write(UInt32(0))
    case .nic(let id):
      target.write(UInt8(2))
      target.write(id)
    case .tunnel(let id):
      target.write(UInt8(3))
      target.write(id)
    case .drop:
      target.write(UInt8(4))
      target.write(UInt32(0))
    }
    try fields.field(Tag.target, bytes: target.bytes)
  }

  public static func decode(_ value: ArraySlice<UInt8>) throws(ManagementError) -> RouteSlice {
    var reader = TLVReader(value)
    var seen = SeenFields()
    var route = RouteSlice(vni: 0, destination: IPPrefix(address: [0, 0, 0, 0], length: 0), target: .drop)
    while let field = try reader.next() {
      switch field.tag {
      case Tag.vni: route.vni = try field.vni()
      case Tag.destination: route.destination = try IPPrefix.decode(field)
      case Tag.target:
        guard field.value.count == 5 else { throw .badFieldLength(tag: field.tag, length: field.value.count) }
        var target = ByteReader(field.value)
        let kind = try target.readUInt8()
        let handle = try target.readUInt32()
        switch kind {
        case 1: route.target = .local
        case 2: route.target = .nic(handle)
        case 3: route.target = .tunnel(handle)
        case 4: route.target = .drop
        default: throw .invalidValue(tag: field.tag, value: UInt64(kind))
        }
      default: continue
      }
      try seen.insert(field.tag)
    }
    try seen.require(Tag.vni, Tag.destination, Tag.target)
    return route
  }
}

/// Where an overlay address lives: the VTEP (underlay address) of the card
/// that serves it (OPI Mapping).
public struct MappingSlice: Sendable, Equatable {
  public var vni: UInt32
  public var overlayAddress: IPPrefix
  public var mac: [UInt8]
  public var underlayAddress: IPPrefix

  public init(vni: UInt32, overlayAddress: IPPrefix, mac: [UInt8], underlayAddress: IPPrefix) {
    self.vni = vni
    self.overlayAddress = overlayAddress
    self.mac = mac
    self.underlayAddress = underlayAddress
  }

  enum Tag {
    static let vni: UInt8 = 1
    static let overlayAddress: UInt8 = 2
    static let mac: UInt8 = 3
    static let underlayAddress: UInt8 = 4
  }

  public func encode(into fields: inout TLVWriter) throws(ManagementError) {
    fields.field(Tag.vni, vni)
    try fields.field(Tag.overlayAddress, bytes: overlayAddress.encoded())
    try fields.field(Tag.mac, bytes: mac)
    try fields.field(Tag.underlayAddress, bytes: underlayAddress.encoded())
  }

  public static func decode(_ value: ArraySlice<UInt8>) throws(ManagementError) -> MappingSlice {
    var reader = TLVReader(value)
    var seen = SeenFields()
    let none = IPPrefix(address: [0, 0, 0, 0], length: 0)
    var mapping = MappingSlice(vni: 0, overlayAddress: none, mac: [], underlayAddress: none)
    while let field = try reader.next() {
      switch field.tag {
      case Tag.vni: mapping.vni = try field.vni()
      case Tag.overlayAddress: mapping.overlayAddress = try IPPrefix.decode(field)
      case Tag.mac: mapping.mac = try field.bytes(count: 6)
      case Tag.underlayAddress: mapping.underlayAddress = try IPPrefix.decode(field)
      default: continue
      }
      try seen.insert(field.tag)
    }
    try seen.require(Tag.vni, Tag.overlayAddress, Tag.mac, Tag.underlayAddress)
    return mapping
  }
}
