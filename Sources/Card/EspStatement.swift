import DataPlane
import Ipsec
import Wire

enum EspStatement {
  static func read(_ line: inout ConfigurationLine) throws(ConfigurationFileError) -> EspAssociation {
    let peer = try line.address("peer")
    let direction: SecurityAssociationParameters.Direction
    switch try line.required("direction") {
    case "inbound": direction = .inbound
    case "outbound": direction = .outbound
    case let text: throw line.error("direction", "'" + text + "' is not inbound or outbound")
    }
    let spi = try line.number("spi", UInt32.self)
    guard spi >= 256 else {
      throw line.error("spi", "SPIs 0-255 are reserved (RFC 4303 §2.1); use 256 or more")
    }
    let suite: CipherSuite
    switch try line.required("cipher") {
    case "aes-gcm-128": suite = .aesGCM128
    case "aes-gcm-256": suite = .aesGCM256
    case let text: throw line.error("cipher", "'" + text + "' is not aes-gcm-128 or aes-gcm-256")
    }
    guard let key = VolumeStatement.bytes(hex: try line.required("key")),
      key.count == suite.keyMaterialByteCount
    else {
      throw line.error(
        "key",
        "expected " + String(2 * suite.keyMaterialByteCount) + " hex digits (the "
          + String(suite.keyByteCount) + "-byte AES key, then the 4-byte salt)")
    }
    let window =
      try line.optionalNumber("replay-window", UInt64.self, max: ReplayWindow.maximumSize)
      ?? 1024
    guard window >= ReplayWindow.minimumSize else {
      throw line.error("replay-window", "at least " + String(ReplayWindow.minimumSize) + " packets")
    }
    let esn = !line.has("no-esn")
    return EspAssociation(
      peer: peer, direction: direction, spi: spi, suite: suite, key: key, replayWindow: window,
      extendedSequenceNumbers: esn)
  }

  static func readSite(_ line: inout ConfigurationLine, vpcs: [VPC]) throws(ConfigurationFileError) -> EspSite
  {
    let vpc = try line.number("vpc", UInt32.self)
    guard let owner = vpcs.first(where: { $0.id == vpc }) else {
      throw line.error("vpc", "no VPC " + String(vpc) + " above this line")
    }
    guard case .v4(let gateway) = try line.address("gateway") else {
      throw line.error("gateway", "a site's gateway is an IPv4 underlay address")
    }
    func prefix(_ field: String) throws(ConfigurationFileError) -> IPv4Prefix? {
      guard let text = line.optional(field) else { return nil }
      guard let p = IPv4Prefix(text) else { throw line.error(field, "'" + text + "' is not an IPv4 prefix") }
      return p
    }
    guard let remote = try prefix("remote") else {
      throw line.error("remote", "missing: the site's IPv4 prefix")
    }
    guard let local = try prefix("local") ?? owner.ipv4CIDRs.first else {
      throw line.error(
        "local", "VPC " + String(vpc) + " has no IPv4 CIDR; give the prefix the tunnel carries")
    }
    guard !owner.ipv4CIDRs.contains(where: { $0.contains(remote.address) || remote.contains($0.address) })
    else {
      throw line.error("remote", remote.description + " overlaps VPC " + String(vpc) + "'s own addresses")
    }
    return EspSite(vpc: vpc, gateway: gateway, remote: remote, local: local)
  }

  /// Sites: one per gateway, each gateway with its SAs and not a card; the
  /// gateway's SAs become tunnel mode.
  static func attach(
    _ sites: [EspSite], to associations: inout [EspAssociation], card: IPAddress, cards: [IPAddress]
  ) throws(ConfigurationFileError) {
    func fail(_ problem: String) -> ConfigurationFileError {
      ConfigurationFileError(line: 0, field: "site", problem: problem)
    }
    for (i, site) in sites.enumerated() {
      let gateway = IPAddress.v4(site.gateway)
      if sites[..<i].contains(where: { $0.gateway == site.gateway }) {
        throw fail("gateway " + gateway.description + " has two site lines; one site per gateway")
      }
      if cards.contains(gateway) {
        throw fail("gateway " + gateway.description + " is a card that hosts NICs, not a site")
      }
      guard associations.contains(where: { $0.peer == gateway }) else {
        throw fail("gateway " + gateway.description + " has no esp lines (its keys)")
      }
      for j in associations.indices where associations[j].peer == gateway {
        associations[j].tunnel = EspTunnel(local: card, remote: gateway, inner: site.selector)
      }
    }
  }

  /// Whole-file checks: SPIs unique per direction, one outbound SA and at
  /// least one inbound SA per peer, never this card itself, one suite.
  static func check(_ associations: [EspAssociation], card: IPAddress) throws(ConfigurationFileError) {
    func fail(_ field: String, _ problem: String) -> ConfigurationFileError {
      ConfigurationFileError(line: 0, field: field, problem: problem)
    }
    var peers: [IPAddress] = []
    for (i, a) in associations.enumerated() {
      if a.peer == card {
        throw fail("esp", "peer " + a.peer.description + " is this card's own underlay address")
      }
      if a.suite != associations[0].suite {
        throw fail("esp", "all ESP SAs of a card use one cipher (" + a.label + " differs)")
      }
      for b in associations[..<i] where b.direction == a.direction && b.spi == a.spi {
        throw fail(
          "esp",
          "SPI " + String(a.spi) + " is used twice for " + (a.direction == .outbound ? "outbound" : "inbound")
            + " SAs")
      }
      if !peers.contains(a.peer) { peers.append(a.peer) }
    }
    for peer in peers {
      let outbound = associations.filter { $0.peer == peer && $0.direction == .outbound }.count
      let inbound = associations.filter { $0.peer == peer && $0.direction == .inbound }.count
      guard outbound == 1 else {
        throw fail(
          "esp",
          "peer " + peer.description + " needs exactly one outbound SA (it has " + String(outbound) + ")")
      }
      guard inbound >= 1 else {
        throw fail("esp", "peer " + peer.description + " needs an inbound SA")
      }
    }
  }
}
