/// What a rack is made of, read from a topology file
/// (`examples/two-cards.toml`, Docs/rack.md): cards on one underlay,
/// tenants with VPCs and security groups, and guests, each attached to a
/// card with one NIC in a VPC.
public struct RackTopology: Equatable, Sendable {
  public struct Card: Equatable, Sendable {
    public var name: String
  }
  public struct VPC: Equatable, Sendable {
    public var name: String
    public var tenant: String
    public var cidr: String
    public var vni: Int
    /// "geneve" or "vxlan".
    public var encapsulation: String
  }
  public struct SecurityGroup: Equatable, Sendable {
    public var name: String
    public var vpc: String
    public var rules: [SecurityRule]
  }
  public struct Guest: Equatable, Sendable {
    public var name: String
    public var card: String
    public var vpc: String
    public var ip: String
    public var securityGroups: [String]
    public var memoryMiB: Int
  }
  /// A Linux machine on the underlay (a guest with a TAP on the router)
  /// whose own `vxlan` or `geneve` device is a VTEP of a VPC: an address in
  /// the VPC behind no card, reached through `card`.
  public struct Peer: Equatable, Sendable {
    public var name: String
    public var card: String
    public var vpc: String
    public var ip: String
    public var securityGroups: [String]
  }

  /// An outside site on the underlay (a Linux guest with its own prefix
  /// and `ip xfrm`): an IPsec tunnel (ESP tunnel mode) from every card
  /// that hosts guests of `vpc` to the site's gateway (Docs/rack.md).
  public struct Site: Equatable, Sendable {
    public var name: String
    public var vpc: String
    /// The site's own IPv4 prefix (its first address is the site's host).
    public var cidr: String
    public var cipher: String
  }

  /// An encrypted volume the card serves over vhost-user-blk (Docs/volumes.md),
  /// backed by a file in the rack's state directory; `guest` boots with it
  /// attached (or it waits for `dpuctl guest attach GUEST --volume NAME`).
  public struct Volume: Equatable, Sendable {
    public var name: String
    public var card: String
    public var sizeBytes: Int
    /// A guest of the same card that boots with the volume attached.
    public var guest: String?
    /// The XTS data unit and the disk's block size: 512 or 4096.
    public var sectorSize: Int
    public var isReadOnly: Bool
    /// The card serves AES-XTS-256 only.
    public var cipher: String
  }

  public var name: String
  /// ESP between the cards on the underlay: "aes-gcm-128", "aes-gcm-256"
  /// or nil (off). Docs/rack.md.
  public var esp: String?
  /// The generation of the cards' ESP keys; raising it and running
  /// `dpuctl emu apply` rekeys every card pair, make-before-break.
  public var espGeneration: Int
  public var cards: [Card]
  public var tenants: [String]
  public var vpcs: [VPC]
  public var securityGroups: [SecurityGroup]
  public var guests: [Guest]
  public var peers: [Peer]
  public var sites: [Site]
  public var volumes: [Volume]

  public init(_ text: String) throws(TopologyError) {
    let file = try TopologyFile(text)
    let known: Set<String> = [
      "rack", "card", "tenant", "vpc", "security-group", "guest", "peer", "site", "volume",
    ]
    for table in file.tables where !known.contains(table.name) {
      throw TopologyError(
        line: table.line,
        "unknown table [\(table.name)]; expected [rack], [[card]], [[tenant]], [[vpc]], [[security-group]], [[guest]], [[peer]], [[site]] or [[volume]]"
      )
    }
    guard let rack = file.tables(named: "rack").first else {
      throw TopologyError(line: nil, "no [rack] table: give the rack a name, e.g. [rack] name = \"demo\"")
    }
    var reader = TableReader(rack)
    name = try reader.string("name")
    guard name.count <= 8, name.allSatisfy({ $0.isLowercase || $0.isNumber }), name.first?.isLetter == true
    else {
      throw TopologyError(
        line: rack.line,
        "the rack's name '\(name)' must be 1-8 lowercase letters and digits (it names namespaces)")
    }
    let espChoice = try reader.choice("esp", ["off", "aes-gcm-128", "aes-gcm-256"], default: "off")
    esp = espChoice == "off" ? nil : espChoice
    espGeneration = try reader.integer("esp-generation", in: 1...0xFFFF, default: 1)
    try reader.finish()

    cards = []
    for table in file.tables(named: "card") {
      var reader = TableReader(table)
      cards.append(Card(name: try reader.shortName("name")))
      try reader.finish()
    }
    tenants = []
    for table in file.tables(named: "tenant") {
      var reader = TableReader(table)
      tenants.append(try reader.shortName("name"))
      try reader.finish()
    }
    vpcs = []
    for table in file.tables(named: "vpc") {
      var reader = TableReader(table)
      let vpc = VPC(
        name: try reader.shortName("name"), tenant: try reader.string("tenant"),
        cidr: try reader.prefix("cidr"), vni: try reader.integer("vni", in: 1...0xFF_FFFF),
        encapsulation: try reader.choice("encap", ["geneve", "vxlan"], default: "geneve"))
      try reader.reference(vpc.tenant, in: tenants, key: "tenant", kind: "[[tenant]]")
      vpcs.append(vpc)
      try reader.finish()
    }
    securityGroups = []
    for table in file.tables(named: "security-group") {
      var reader = TableReader(table)
      let name = try reader.shortName("name")
      let vpc = try reader.string("vpc")
      try reader.reference(vpc, in: vpcs.map(\.name), key: "vpc", kind: "[[vpc]]")
      var rules: [SecurityRule] = []
      for text in try reader.strings("rules") {
        do throws(TopologyError) {
          rules.append(try SecurityRule(text))
        } catch {
          throw TopologyError(line: table.valueLines["rules"], "rule '\(text)': " + error.message)
        }
      }
      securityGroups.append(SecurityGroup(name: name, vpc: vpc, rules: rules))
      try reader.finish()
    }
    for group in securityGroups {
      for rule in group.rules {
        if case .group(let peer) = rule.peer, !securityGroups.contains(where: { $0.name == peer }) {
          throw TopologyError(
            line: nil, "security group \(group.name): rule peer group:\(peer) is not a [[security-group]]")
        }
      }
    }
    guests = []
    for table in file.tables(named: "guest") {
      var reader = TableReader(table)
      let guest = Guest(
        name: try reader.shortName("name"), card: try reader.string("card"), vpc: try reader.string("vpc"),
        ip: try reader.address("ip"), securityGroups: try reader.strings("security-groups", default: []),
        memoryMiB: try reader.integer("memory", in: 128...4096, default: 256))
      try reader.reference(guest.card, in: cards.map(\.name), key: "card", kind: "[[card]]")
      try reader.reference(guest.vpc, in: vpcs.map(\.name), key: "vpc", kind: "[[vpc]]")
      for group in guest.securityGroups {
        guard let found = securityGroups.first(where: { $0.name == group }) else {
          throw TopologyError(
            line: table.line, "guest \(guest.name): security group '\(group)' is not a [[security-group]]")
        }
        guard found.vpc == guest.vpc else {
          throw TopologyError(
            line: table.line,
            "guest \(guest.name): security group '\(group)' belongs to VPC \(found.vpc), not \(guest.vpc)")
        }
      }
      let vpc = vpcs.first { $0.name == guest.vpc }!
      guard TopologyPrefix(vpc.cidr)!.contains(guest.ip) else {
        throw TopologyError(
          line: table.line, "guest \(guest.name): \(guest.ip) is not in VPC \(vpc.name)'s \(vpc.cidr)")
      }
      if let other = guests.first(where: { $0.vpc == guest.vpc && $0.ip == guest.ip }) {
        throw TopologyError(
          line: table.line, "guest \(guest.name): \(guest.ip) is already \(other.name)'s address")
      }
      guests.append(guest)
      try reader.finish()
    }
    peers = []
    for table in file.tables(named: "peer") {
      var reader = TableReader(table)
      let peer = Peer(
        name: try reader.shortName("name"), card: try reader.string("card"), vpc: try reader.string("vpc"),
        ip: try reader.address("ip"), securityGroups: try reader.strings("security-groups", default: []))
      try reader.reference(peer.card, in: cards.map(\.name), key: "card", kind: "[[card]]")
      try reader.reference(peer.vpc, in: vpcs.map(\.name), key: "vpc", kind: "[[vpc]]")
      for group in peer.securityGroups
      where !securityGroups.contains(where: { $0.name == group && $0.vpc == peer.vpc }) {
        throw TopologyError(
          line: table.line, "peer \(peer.name): '\(group)' is not a [[security-group]] of VPC \(peer.vpc)")
      }
      let vpc = vpcs.first { $0.name == peer.vpc }!
      guard TopologyPrefix(vpc.cidr)!.contains(peer.ip) else {
        throw TopologyError(
          line: table.line, "peer \(peer.name): \(peer.ip) is not in VPC \(vpc.name)'s \(vpc.cidr)")
      }
      guard !guests.contains(where: { $0.vpc == peer.vpc && $0.ip == peer.ip }) else {
        throw TopologyError(line: table.line, "peer \(peer.name): \(peer.ip) is already a guest's address")
      }
      peers.append(peer)
      try reader.finish()
    }
    guard peers.count <= 100 else { throw TopologyError(line: nil, "at most 100 peers") }
    sites = []
    for table in file.tables(named: "site") {
      var reader = TableReader(table)
      let site = Site(
        name: try reader.shortName("name"), vpc: try reader.string("vpc"), cidr: try reader.prefix("cidr"),
        cipher: try reader.choice("cipher", ["aes-gcm-128", "aes-gcm-256"], default: esp ?? "aes-gcm-128"))
      try reader.reference(site.vpc, in: vpcs.map(\.name), key: "vpc", kind: "[[vpc]]")
      let own = TopologyPrefix(site.cidr)!
      let vpc = TopologyPrefix(vpcs.first { $0.name == site.vpc }!.cidr)!
      guard !own.contains(TopologyPrefix.text(vpc.network)) && !vpc.contains(TopologyPrefix.text(own.network))
      else {
        throw TopologyError(
          line: table.line, "site \(site.name): \(site.cidr) overlaps VPC \(site.vpc)'s addresses")
      }
      guard own.length <= 30 else {
        throw TopologyError(
          line: table.line, "site \(site.name): \(site.cidr) leaves no host address; use /30 or wider")
      }
      if let esp, site.cipher != esp {
        throw TopologyError(
          line: table.line,
          "site \(site.name): cipher \(site.cipher) differs from the rack's esp \(esp); a card uses one cipher"
        )
      }
      sites.append(site)
      try reader.finish()
    }
    guard sites.count <= 50 else { throw TopologyError(line: nil, "at most 50 sites") }
    guard Set(sites.map(\.cipher)).count <= 1 else {
      throw TopologyError(
        line: nil, "the sites use different ciphers; a card uses one cipher for all its SAs")
    }
    volumes = []
    for table in file.tables(named: "volume") {
      var reader = TableReader(table)
      let volume = Volume(
        name: try reader.shortName("name"), card: try reader.string("card"),
        sizeBytes: try reader.size("size"),
        guest: try reader.optionalString("guest"),
        sectorSize: try reader.integer("sector-size", in: 512...4096, default: 4096),
        isReadOnly: try reader.boolean("read-only", default: false),
        cipher: try reader.choice("cipher", ["aes-xts-256"], default: "aes-xts-256"))
      try reader.reference(volume.card, in: cards.map(\.name), key: "card", kind: "[[card]]")
      guard volume.sectorSize == 512 || volume.sectorSize == 4096 else {
        throw reader.error("sector-size", "\(volume.sectorSize) is not 512 or 4096")
      }
      guard volume.sizeBytes % volume.sectorSize == 0 else {
        throw reader.error(
          "size", "\(volume.sizeBytes) bytes is not a whole number of \(volume.sectorSize)-byte sectors")
      }
      if let guestName = volume.guest {
        try reader.reference(guestName, in: guests.map(\.name), key: "guest", kind: "[[guest]]")
        let guest = guests.first { $0.name == guestName }!
        guard guest.card == volume.card else {
          throw reader.error(
            "guest",
            "guest \(guestName) is on card \(guest.card), the volume on \(volume.card): a guest's functions come from its own card"
          )
        }
      }
      volumes.append(volume)
      try reader.finish()
    }
    guard volumes.count <= 100 else { throw TopologyError(line: nil, "at most 100 volumes") }
    guard !cards.isEmpty else {
      throw TopologyError(line: nil, "no [[card]]: a rack needs at least one card")
    }
    guard cards.count <= 200 else { throw TopologyError(line: nil, "at most 200 cards") }
    for (kind, names) in [
      ("card", cards.map(\.name)), ("tenant", tenants), ("vpc", vpcs.map(\.name)),
      ("security-group", securityGroups.map(\.name)),
      ("guest", guests.map(\.name) + peers.map(\.name) + sites.map(\.name)),
      ("volume", volumes.map(\.name)),
    ] {
      var seen: Set<String> = []
      for name in names where !seen.insert(name).inserted {
        throw TopologyError(line: nil, "two [[\(kind)]] are named '\(name)'")
      }
    }
    // A guest's NIC is the function named after it: a volume of that name
    // would take the same QEMU ids (`bh-NAME`).
    for volume in volumes where guests.contains(where: { $0.name == volume.name }) {
      throw TopologyError(
        line: nil,
        "volume \(volume.name): a guest has that name (its NIC is a function named after it); name the volume otherwise"
      )
    }
  }
}

/// A security group rule as the topology writes it:
/// `DIRECTION PROTOCOL [PORT[-PORT]] from|to PEER`, e.g.
/// `inbound tcp 5201 from 172.16.0.0/16`, `inbound icmp from group:web`,
/// `outbound any to 0.0.0.0/0`.
public struct SecurityRule: Equatable, Sendable {
  public enum Peer: Equatable, Sendable {
    case group(String)
    case prefix(String)
  }
  public var inbound: Bool
  public var proto: String
  public var ports: String?
  public var peer: Peer

  public init(inbound: Bool, proto: String, ports: String? = nil, peer: Peer) {
    self.inbound = inbound
    self.proto = proto
    self.ports = ports
    self.peer = peer
  }

  public init(_ text: String) throws(TopologyError) {
    let words = text.split(separator: " ").map(String.init)
    guard words.count == 4 || words.count == 5 else {
      throw TopologyError(line: nil, "expected DIRECTION PROTOCOL [PORTS] from|to PEER")
    }
    switch words[0] {
    case "inbound": inbound = true
    case "outbound": inbound = false
    default: throw TopologyError(line: nil, "direction '\(words[0])' is not inbound or outbound")
    }
    guard ["any", "icmp", "tcp", "udp"].contains(words[1]) else {
      throw TopologyError(line: nil, "protocol '\(words[1])' is not any, icmp, tcp or udp")
    }
    proto = words[1]
    if words.count == 5 {
      guard proto == "tcp" || proto == "udp" else {
        throw TopologyError(line: nil, "ports are for tcp and udp rules")
      }
      let bounds = words[2].split(separator: "-").map { Int($0) }
      guard (1...2).contains(bounds.count), bounds.allSatisfy({ $0 != nil && (1...65535).contains($0!) })
      else {
        throw TopologyError(line: nil, "ports '\(words[2])' is not N or N-M with 1 <= N <= 65535")
      }
      ports = words[2]
    }
    let preposition = words[words.count - 2]
    guard preposition == (inbound ? "from" : "to") else {
      throw TopologyError(
        line: nil, inbound ? "an inbound rule says 'from PEER'" : "an outbound rule says 'to PEER'")
    }
    let peerText = words[words.count - 1]
    if peerText.hasPrefix("group:") {
      peer = .group(String(peerText.dropFirst(6)))
    } else if TopologyPrefix(peerText) != nil {
      peer = .prefix(peerText)
    } else {
      throw TopologyError(line: nil, "peer '\(peerText)' is not group:NAME or an IPv4 prefix like 10.0.0.0/8")
    }
  }
}

/// An IPv4 prefix, enough to check that addresses fall inside it.
struct TopologyPrefix: Equatable {
  var network: UInt32
  var length: Int

  init?(_ text: String) {
    let parts = text.split(separator: "/")
    guard parts.count == 2, let length = Int(parts[1]), (0...32).contains(length),
      let address = TopologyPrefix.address(String(parts[0]))
    else { return nil }
    self.length = length
    self.network = address & TopologyPrefix.mask(length)
  }

  static func mask(_ length: Int) -> UInt32 { length == 0 ? 0 : ~UInt32(0) << (32 - length) }

  static func address(_ text: String) -> UInt32? {
    let octets = text.split(separator: ".", omittingEmptySubsequences: false).map { UInt32($0) }
    guard octets.count == 4, octets.allSatisfy({ $0 != nil && $0! < 256 }) else { return nil }
    return octets.reduce(0) { $0 << 8 | $1! }
  }

  static func text(_ address: UInt32) -> String {
    [24, 16, 8, 0].map { String((address >> UInt32($0)) & 0xFF) }.joined(separator: ".")
  }

  func contains(_ text: String) -> Bool {
    guard let address = TopologyPrefix.address(text) else { return false }
    return address & TopologyPrefix.mask(length) == network
  }
}

/// Reads one table's keys, and complains about the ones left over.
private struct TableReader {
  let table: TopologyFile.Table
  var used: Set<String> = []

  init(_ table: TopologyFile.Table) { self.table = table }

  func error(_ key: String, _ message: String) -> TopologyError {
    TopologyError(line: table.valueLines[key] ?? table.line, "[\(table.name)] \(key): " + message)
  }

  mutating func value(_ key: String) -> TopologyFile.Value? {
    used.insert(key)
    return table.values[key]
  }

  mutating func string(_ key: String) throws(TopologyError) -> String {
    guard let value = value(key) else { throw error(key, "missing") }
    guard case .string(let text) = value, !text.isEmpty else {
      throw error(key, "expected a non-empty \"string\"")
    }
    return text
  }

  mutating func shortName(_ key: String) throws(TopologyError) -> String {
    let text = try string(key)
    guard text.count <= 12, text.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" }) else {
      throw error(key, "'\(text)' must be 1-12 lowercase letters, digits and '-'")
    }
    return text
  }

  mutating func integer(_ key: String, in range: ClosedRange<Int>, default fallback: Int? = nil)
    throws(TopologyError) -> Int
  {
    guard let value = value(key) else {
      if let fallback { return fallback }
      throw error(key, "missing")
    }
    guard case .integer(let number) = value, range.contains(number) else {
      throw error(key, "expected an integer from \(range.lowerBound) to \(range.upperBound)")
    }
    return number
  }

  mutating func choice(_ key: String, _ choices: [String], default fallback: String) throws(TopologyError)
    -> String
  {
    guard value(key) != nil else { return fallback }
    let text = try string(key)
    guard choices.contains(text) else {
      throw error(key, "'\(text)' is not one of " + choices.joined(separator: ", "))
    }
    return text
  }

  mutating func optionalString(_ key: String) throws(TopologyError) -> String? {
    guard table.values[key] != nil else {
      used.insert(key)
      return nil
    }
    return try string(key)
  }

  mutating func boolean(_ key: String, default fallback: Bool) throws(TopologyError) -> Bool {
    guard let value = value(key) else { return fallback }
    guard case .boolean(let flag) = value else { throw error(key, "expected true or false") }
    return flag
  }

  /// A size in bytes: "64MiB", "1GiB", "512KiB" (binary units), from 1 MiB
  /// to 64 GiB. The backing file is sparse, so a large size costs nothing
  /// until written.
  mutating func size(_ key: String) throws(TopologyError) -> Int {
    let text = try string(key)
    let units: [(String, Int)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30)]
    guard let (suffix, unit) = units.first(where: { text.hasSuffix($0.0) }),
      let count = Int(text.dropLast(suffix.count).trimmingSpaces), count > 0
    else {
      throw error(key, "'\(text)' is not a size like \"64MiB\" (units KiB, MiB, GiB)")
    }
    guard count <= (64 << 30) / unit, (1 << 20)...(64 << 30) ~= count * unit else {
      throw error(key, "'\(text)' is out of range: from 1MiB to 64GiB")
    }
    return count * unit
  }

  mutating func prefix(_ key: String) throws(TopologyError) -> String {
    let text = try string(key)
    guard let prefix = TopologyPrefix(text), TopologyPrefix.text(prefix.network) + "/\(prefix.length)" == text
    else {
      throw error(key, "'\(text)' is not an IPv4 prefix like 172.16.0.0/16 (host bits zero)")
    }
    guard prefix.length <= 30 else { throw error(key, "'\(text)' is too small: at most /30") }
    return text
  }

  mutating func address(_ key: String) throws(TopologyError) -> String {
    let text = try string(key)
    guard TopologyPrefix.address(text) != nil else { throw error(key, "'\(text)' is not an IPv4 address") }
    return text
  }

  mutating func strings(_ key: String, default fallback: [String]? = nil) throws(TopologyError) -> [String] {
    guard let value = value(key) else {
      if let fallback { return fallback }
      throw error(key, "missing")
    }
    guard case .array(let items) = value else {
      throw error(key, "expected an array of strings: [\"a\", \"b\"]")
    }
    var result: [String] = []
    for item in items {
      guard case .string(let text) = item else {
        throw error(key, "expected an array of strings: [\"a\", \"b\"]")
      }
      result.append(text)
    }
    return result
  }

  func reference(_ name: String, in names: [String], key: String, kind: String) throws(TopologyError) {
    guard names.contains(name) else {
      throw error(key, "'\(name)' is not a \(kind) above (known: \(names.joined(separator: ", ")))")
    }
  }

  func finish() throws(TopologyError) {
    if let extra = table.values.keys.sorted().first(where: { !used.contains($0) }) {
      throw error(extra, "unknown key")
    }
  }
}
