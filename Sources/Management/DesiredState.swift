/// The controller's whole desired state for one card at one generation. The
/// card replaces what it runs with this set atomically and answers
/// `Applied(generation)`; a card that restarts keeps its last applied set
/// (static stability) until a newer generation arrives.
public struct DesiredState: Sendable, Equatable {
  public var generation: UInt64
  public var nics: [NicSlice]
  public var routes: [RouteSlice]
  public var mappings: [MappingSlice]
  public var securityGroups: [SecurityGroupSlice]
  public var volumes: [VolumeSlice]
  public var securityAssociations: [SecurityAssociationSlice]
  /// Tunnels to outside sites this card terminates; their SAs are the
  /// `securityAssociations` whose `tunnel` names them.
  public var sites: [SiteSlice] = []

  public init(
    generation: UInt64, nics: [NicSlice] = [], routes: [RouteSlice] = [], mappings: [MappingSlice] = [],
    securityGroups: [SecurityGroupSlice] = [], volumes: [VolumeSlice] = [],
    securityAssociations: [SecurityAssociationSlice] = [], sites: [SiteSlice] = []
  ) {
    self.sites = sites
    self.generation = generation
    self.nics = nics
    self.routes = routes
    self.mappings = mappings
    self.securityGroups = securityGroups
    self.volumes = volumes
    self.securityAssociations = securityAssociations
  }

  enum Tag {
    static let generation: UInt8 = 1
    // Each of these is repeated, one TLV per entry holding the entry's own
    // TLV run.
    static let nic: UInt8 = 2
    static let route: UInt8 = 3
    static let mapping: UInt8 = 4
    static let securityGroup: UInt8 = 5
    static let volume: UInt8 = 6
    static let securityAssociation: UInt8 = 7
    static let site: UInt8 = 8
  }

  public func encode(into fields: inout TLVWriter) throws(ManagementError) {
    fields.field(Tag.generation, generation)
    for nic in nics {
      var entry = TLVWriter()
      try nic.encode(into: &entry)
      try fields.field(Tag.nic, nested: entry)
    }
    for route in routes {
      var entry = TLVWriter()
      try route.encode(into: &entry)
      try fields.field(Tag.route, nested: entry)
    }
    for mapping in mappings {
      var entry = TLVWriter()
      try mapping.encode(into: &entry)
      try fields.field(Tag.mapping, nested: entry)
    }
    for group in securityGroups {
      var entry = TLVWriter()
      try group.encode(into: &entry)
      try fields.field(Tag.securityGroup, nested: entry)
    }
    for volume in volumes {
      var entry = TLVWriter()
      try volume.encode(into: &entry)
      try fields.field(Tag.volume, nested: entry)
    }
    for sa in securityAssociations {
      var entry = TLVWriter()
      try sa.encode(into: &entry)
      try fields.field(Tag.securityAssociation, nested: entry)
    }
    for site in sites {
      var entry = TLVWriter()
      try site.encode(into: &entry)
      try fields.field(Tag.site, nested: entry)
    }
  }

  public static func decode(_ payload: ArraySlice<UInt8>) throws(ManagementError) -> DesiredState {
    var reader = TLVReader(payload)
    var seen = SeenFields()
    var state = DesiredState(generation: 0)
    while let field = try reader.next() {
      switch field.tag {
      case Tag.generation:
        try seen.insert(field.tag)
        state.generation = try field.uint64()
      case Tag.nic: state.nics.append(try NicSlice.decode(field.value))
      case Tag.route: state.routes.append(try RouteSlice.decode(field.value))
      case Tag.mapping: state.mappings.append(try MappingSlice.decode(field.value))
      case Tag.securityGroup: state.securityGroups.append(try SecurityGroupSlice.decode(field.value))
      case Tag.volume: state.volumes.append(try VolumeSlice.decode(field.value))
      case Tag.securityAssociation:
        state.securityAssociations.append(try SecurityAssociationSlice.decode(field.value))
      case Tag.site: state.sites.append(try SiteSlice.decode(field.value))
      default: continue
      }
    }
    try seen.require(Tag.generation)
    return state
  }
}
