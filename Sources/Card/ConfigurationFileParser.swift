import DataPlane
import Ipsec
import Ports
import Wire

/// Reads the card's configuration file (until the management channel
/// supplies it). The format, line by line (Docs/card.md has an example):
///
///     # comment
///     card underlay=10.255.0.1 mac=MAC router-mac=MAC gateway-mac=MAC [underlay-mtu=N] [guest-mtu=N] [dns=A,B] [lease=S] [buffers=N]
///     uplink interface=NAME [mode=ring|copy] | uplink ring | uplink dpdk=DEVICE [eal="ARG ARG..."]   (host build)
///     tenant id=N name=TEXT
///     vpc id=N tenant=N cidr=P[,P] [cidr6=P[,P]] vni=N [encap=geneve|vxlan]
///     subnet id=N vpc=N cidr=P gateway=A [cidr6=P] [gateway6=A]
///     route vpc=N prefix=P target=local|blackhole|nic:N|gateway:A
///     security-group id=N
///     rule group=N direction=inbound|outbound protocol=any|icmp|icmpv6|tcp|udp [ports=A[-B]] peer=group:N|PREFIX
///     nic id=N subnet=N mac=MAC ip=A [secondary=A,B] [ipv6=A,B] [groups=N,M] [pps=N] [bps=N]
///         then either  port=N interface=NAME [mode=ring|copy] | port=N vhost-user=PATH | port=N ring   (on this card)
///         or           card=A                                                       (on another card)
///     mapping vni=N ip=A vtep=A mac=MAC
///     volume id=N vhost-user=PATH backend=file:PATH|nbd:IPV4:PORT|nbd:unix:PATH [export=NAME]
///            sector-size=512|4096 wrapped-key=HEX kek-file=PATH [queues=N] [read-only]   (VolumeStatement)
///     esp peer=A direction=inbound|outbound spi=N cipher=aes-gcm-128|aes-gcm-256 key=HEX
///         [replay-window=N] [no-esn]                                             (EspStatement)
///     site vpc=N gateway=A remote=P [local=P]                  (EspSite: a tunnel to an outside site)
///
/// Lines that refer to others (`route` to its VPC, `rule` to its group)
/// come after them. Every error names the line and the field.
public enum ConfigurationFileParser {
  /// Whether this build takes `uplink dpdk=DEVICE` (the host build).
  #if BULKHEAD_DPDK
    public static let hasDpdk = true
  #else
    public static let hasDpdk = false
  #endif

  public static func parse(_ text: String) throws(ConfigurationFileError) -> CardConfiguration {
    var state = ParseState()
    var number = 0
    for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
      number += 1
      guard var line = try ConfigurationLine(rawLine, number: number) else { continue }
      try state.read(&line)
      try line.checkAllUsed()
    }
    return try state.finish()
  }
}

/// What has been read so far.
private struct ParseState {
  var card: CardSettings?
  var bufferCount = 4096
  var uplink: PortBinding?
  var tenants: [Tenant] = []
  var vpcs: [VPC] = []
  var subnets: [Subnet] = []
  var nics: [NIC] = []
  var groups: [SecurityGroup] = []
  var mappings: [Mapping] = []
  var hostFunctions: [HostFunction] = []
  var volumes: [HostVolume] = []
  var esp: [EspAssociation] = []
  var sites: [EspSite] = []

  mutating func read(_ line: inout ConfigurationLine) throws(ConfigurationFileError) {
    switch line.keyword {
    case "card": try readCard(&line)
    case "uplink": uplink = try readUplink(&line)
    case "tenant":
      tenants.append(Tenant(id: try line.number("id", UInt32.self), name: try line.required("name")))
    case "vpc": try readVPC(&line)
    case "subnet": try readSubnet(&line)
    case "route": try readRoute(&line)
    case "security-group": groups.append(SecurityGroup(id: try line.number("id", UInt32.self)))
    case "rule": try readRule(&line)
    case "nic": try readNIC(&line)
    case "mapping":
      mappings.append(
        Mapping(
          vni: try line.number("vni", UInt32.self, max: 0xFF_FFFF), overlayAddress: try line.address("ip"),
          vtep: try line.address("vtep"), mac: try line.mac("mac")))
    case "volume": try readVolume(&line)
    case "esp": esp.append(try EspStatement.read(&line))
    case "site": try readSite(&line)
    default:
      throw line.error(
        line.keyword,
        "unknown statement; expected card, uplink, tenant, vpc, subnet, route, security-group, rule, nic, mapping, volume, esp or site"
      )
    }
  }

  mutating func readCard(_ line: inout ConfigurationLine) throws(ConfigurationFileError) {
    guard card == nil else { throw line.error("card", "the card is described twice") }
    var settings = CardSettings(
      underlayAddress: try line.address("underlay"), underlayMAC: try line.mac("mac"),
      underlayRouterMAC: try line.mac("router-mac"), gatewayMAC: try line.mac("gateway-mac"))
    if let mtu = try line.optionalNumber("underlay-mtu", Int.self, max: 9216) { settings.underlayMTU = mtu }
    if let mtu = try line.optionalNumber("guest-mtu", Int.self, max: 9216) { settings.guestMTU = mtu }
    if let lease = try line.optionalNumber("lease", UInt32.self) { settings.leaseSeconds = lease }
    for text in line.list("dns") { settings.dnsServers.append(try line.parseIPv4("dns", text)) }
    if let buffers = try line.optionalNumber("buffers", Int.self, max: 1 << 22) {
      guard buffers >= 64 else { throw line.error("buffers", "at least 64 buffers are needed") }
      bufferCount = buffers
    }
    card = settings
  }

  /// The uplink: a host function's bindings, or a DPDK ethdev where the
  /// build has DPDK.
  func readUplink(_ line: inout ConfigurationLine) throws(ConfigurationFileError) -> PortBinding {
    guard let device = line.optional("dpdk") else {
      if line.optional("eal") != nil { throw line.error("eal", "applies to dpdk=DEVICE only") }
      return try readBinding(&line, allowsVhostUser: false)
    }
    #if BULKHEAD_DPDK
      guard !device.isEmpty else {
        throw line.error("dpdk", "empty; give the ethdev's name (e.g. dpdk=net_tap0 or a PCI address)")
      }
      let eal = (line.optional("eal") ?? "").split(whereSeparator: { $0 == " " || $0 == "\t" }).map {
        String($0)
      }
      return .dpdk(device: device, eal: eal)
    #else
      throw line.error(
        "dpdk",
        "this build has no DPDK (the aarch64 firmware cannot link it); use uplink interface=NAME instead of dpdk="
          + device)
    #endif
  }

  func readBinding(_ line: inout ConfigurationLine, allowsVhostUser: Bool) throws(ConfigurationFileError)
    -> PortBinding
  {
    if let name = line.optional("interface") {
      guard !name.isEmpty, name.utf8.count < 16 else {
        throw line.error("interface", "'" + name + "' is not a Linux interface name (1 to 15 characters)")
      }
      return .interface(name, mode: try readSocketMode(&line))
    }
    if line.optional("mode") != nil {
      throw line.error("mode", "applies to interface=NAME only (AF_PACKET rings or copy)")
    }
    if allowsVhostUser, let path = line.optional("vhost-user") {
      guard !path.isEmpty else { throw line.error("vhost-user", "empty; give the socket's path") }
      return .vhostUser(socketPath: path)
    }
    if line.has("ring") { return .ring }
    throw line.error(
      "interface",
      allowsVhostUser
        ? "missing; give interface=NAME, vhost-user=PATH or ring"
        : "missing; give interface=NAME, ring" + (ConfigurationFileParser.hasDpdk ? " or dpdk=DEVICE" : ""))
  }

  /// An AF_PACKET port's mode; without `mode=`, rings with copy mode as
  /// the fallback where the kernel refuses them.
  func readSocketMode(_ line: inout ConfigurationLine) throws(ConfigurationFileError) -> PacketSocketMode {
    guard let text = line.optional("mode") else { return .automatic }
    switch text {
    case "ring": return .ring
    case "copy": return .copy
    default:
      throw line.error("mode", "'" + text + "' is not ring or copy (leave it out to choose automatically)")
    }
  }

  mutating func readVPC(_ line: inout ConfigurationLine) throws(ConfigurationFileError) {
    let id = try line.number("id", UInt32.self)
    let tenant = try line.number("tenant", UInt32.self)
    var v4: [IPv4Prefix] = []
    for text in line.list("cidr") { v4.append(try line.parseIPv4Prefix("cidr", text)) }
    var v6: [IPv6Prefix] = []
    for text in line.list("cidr6") { v6.append(try line.parseIPv6Prefix("cidr6", text)) }
    guard !v4.isEmpty || !v6.isEmpty else {
      throw line.error("cidr", "missing; a VPC needs at least one CIDR")
    }
    let vni = try line.number("vni", UInt32.self, max: 0xFF_FFFF)
    var encapsulation = Encapsulation.geneve
    if let text = line.optional("encap") {
      switch text {
      case "geneve": encapsulation = .geneve
      case "vxlan": encapsulation = .vxlan
      default: throw line.error("encap", "'" + text + "' is not geneve or vxlan")
      }
    }
    guard !vpcs.contains(where: { $0.id == id }) else {
      throw line.error("id", "VPC " + String(id) + " is declared twice")
    }
    vpcs.append(
      VPC(id: id, tenant: tenant, ipv4CIDRs: v4, ipv6CIDRs: v6, vni: vni, encapsulation: encapsulation))
  }

  mutating func readSubnet(_ line: inout ConfigurationLine) throws(ConfigurationFileError) {
    let id = try line.number("id", UInt32.self)
    let vpc = try line.number("vpc", UInt32.self)
    guard vpcs.contains(where: { $0.id == vpc }) else {
      throw line.error("vpc", "no VPC " + String(vpc) + " above this line")
    }
    let cidr = try line.parseIPv4Prefix("cidr", try line.required("cidr"))
    let gateway = try line.ipv4("gateway")
    var subnet = Subnet(id: id, vpc: vpc, ipv4: cidr, gatewayIPv4: gateway)
    if let text = line.optional("cidr6") { subnet.ipv6 = try line.parseIPv6Prefix("cidr6", text) }
    if let text = line.optional("gateway6") {
      guard case .v6(let a) = try line.parseAddress("gateway6", text) else {
        throw line.error("gateway6", "'" + text + "' is not an IPv6 address")
      }
      subnet.gatewayIPv6 = a
    }
    subnets.append(subnet)
  }

  mutating func readRoute(_ line: inout ConfigurationLine) throws(ConfigurationFileError) {
    let vpc = try line.number("vpc", UInt32.self)
    guard let index = vpcs.firstIndex(where: { $0.id == vpc }) else {
      throw line.error("vpc", "no VPC " + String(vpc) + " above this line")
    }
    let prefixText = try line.required("prefix")
    let targetText = try line.required("target")
    let target: RouteTarget
    if targetText == "local" {
      target = .local
    } else if targetText == "blackhole" {
      target = .blackhole
    } else if targetText.hasPrefix("nic:") {
      target = .nic(id: try line.parseNumber("target", String(targetText.dropFirst(4)), max: UInt32.max))
    } else if targetText.hasPrefix("gateway:") {
      target = .gateway(vtep: try line.parseAddress("target", String(targetText.dropFirst(8))))
    } else {
      throw line.error("target", "'" + targetText + "' is not local, blackhole, nic:ID or gateway:ADDRESS")
    }
    if let p = IPv4Prefix(prefixText) {
      vpcs[index].routeTable.ipv4.append(IPv4Route(p, target))
    } else if let p = IPv6Prefix(prefixText) {
      vpcs[index].routeTable.ipv6.append(IPv6Route(p, target))
    } else {
      throw line.error("prefix", "'" + prefixText + "' is not an IPv4 or IPv6 prefix")
    }
  }

  /// A site's prefix is routed to its gateway in the VPC (the pipeline
  /// sees the gateway as a VTEP; `SiteTunnel`).
  mutating func readSite(_ line: inout ConfigurationLine) throws(ConfigurationFileError) {
    let site = try EspStatement.readSite(&line, vpcs: vpcs)
    let index = vpcs.firstIndex { $0.id == site.vpc }!
    vpcs[index].routeTable.ipv4.append(IPv4Route(site.remote, .gateway(vtep: .v4(site.gateway))))
    sites.append(site)
  }

  mutating func readRule(_ line: inout ConfigurationLine) throws(ConfigurationFileError) {
    let group = try line.number("group", UInt32.self)
    guard let index = groups.firstIndex(where: { $0.id == group }) else {
      throw line.error("group", "no security-group " + String(group) + " above this line")
    }
    let direction = try line.required("direction")
    let protocolText = try line.required("protocol")
    var ports: ClosedRange<UInt16> = 0...65535
    if let text = line.optional("ports") {
      let parts = text.split(separator: "-")
      guard parts.count == 1 || parts.count == 2 else {
        throw line.error("ports", "'" + text + "' is not N or N-M")
      }
      let low: UInt16 = try line.parseNumber("ports", String(parts[0]), max: UInt16.max)
      let high: UInt16 =
        parts.count == 2 ? try line.parseNumber("ports", String(parts[1]), max: UInt16.max) : low
      guard low <= high else { throw line.error("ports", "'" + text + "': the range runs backwards") }
      ports = low...high
    }
    let proto: RuleProtocol
    switch protocolText {
    case "any": proto = .any
    case "icmp": proto = .icmp
    case "icmpv6": proto = .icmpv6
    case "tcp": proto = .tcp(ports)
    case "udp": proto = .udp(ports)
    default: throw line.error("protocol", "'" + protocolText + "' is not any, icmp, icmpv6, tcp or udp")
    }
    let peerText = try line.required("peer")
    let peer: RulePeer
    if peerText.hasPrefix("group:") {
      peer = .securityGroup(try line.parseNumber("peer", String(peerText.dropFirst(6)), max: UInt32.max))
    } else if let p = IPv4Prefix(peerText) {
      peer = .ipv4(p)
    } else if let p = IPv6Prefix(peerText) {
      peer = .ipv6(p)
    } else {
      throw line.error("peer", "'" + peerText + "' is not group:ID or an IPv4/IPv6 prefix")
    }
    let rule = SecurityRule(proto, peer)
    switch direction {
    case "inbound": groups[index].inbound.append(rule)
    case "outbound": groups[index].outbound = (groups[index].outbound ?? []) + [rule]
    default: throw line.error("direction", "'" + direction + "' is not inbound or outbound")
    }
  }

  mutating func readNIC(_ line: inout ConfigurationLine) throws(ConfigurationFileError) {
    guard let card else { throw line.error("nic", "a 'card' line must come before the NICs") }
    let id = try line.number("id", UInt32.self)
    let subnet = try line.number("subnet", UInt32.self)
    guard subnets.contains(where: { $0.id == subnet }) else {
      throw line.error("subnet", "no subnet " + String(subnet) + " above this line")
    }
    var nic = NIC(
      id: id, subnet: subnet, mac: try line.mac("mac"), primaryIPv4: try line.ipv4("ip"),
      card: card.underlayAddress, port: 0)
    for text in line.list("secondary") { nic.secondaryIPv4.append(try line.parseIPv4("secondary", text)) }
    for text in line.list("ipv6") {
      guard case .v6(let a) = try line.parseAddress("ipv6", text) else {
        throw line.error("ipv6", "'" + text + "' is not an IPv6 address")
      }
      nic.ipv6.append(a)
    }
    for text in line.list("groups") {
      nic.securityGroups.append(try line.parseNumber("groups", text, max: UInt32.max))
    }
    nic.rateLimit = RateLimit(
      packetsPerSecond: try line.optionalNumber("pps", UInt64.self) ?? 0,
      bitsPerSecond: try line.optionalNumber("bps", UInt64.self) ?? 0)
    if let remote = line.optional("card") {
      nic.card = try line.parseAddress("card", remote)
    } else {
      let port = try line.number("port", UInt16.self, max: 255)
      guard port > 0 else { throw line.error("port", "port 0 is the uplink; a NIC needs 1 to 255") }
      guard !hostFunctions.contains(where: { $0.port == port }) else {
        throw line.error("port", "port " + String(port) + " already carries another NIC")
      }
      nic.port = port
      hostFunctions.append(
        HostFunction(nic: id, port: port, binding: try readBinding(&line, allowsVhostUser: true)))
    }
    guard !nics.contains(where: { $0.id == id }) else {
      throw line.error("id", "NIC " + String(id) + " is declared twice")
    }
    nics.append(nic)
  }

  mutating func readVolume(_ line: inout ConfigurationLine) throws(ConfigurationFileError) {
    let volume = try VolumeStatement.read(&line)
    guard !volumes.contains(where: { $0.id == volume.id }) else {
      throw line.error("id", "volume " + String(volume.id) + " is declared twice")
    }
    let sockets = hostFunctions.compactMap { f -> String? in
      if case .vhostUser(let path) = f.binding { return path }
      return nil
    }
    guard
      !sockets.contains(volume.socketPath) && !volumes.contains(where: { $0.socketPath == volume.socketPath })
    else {
      throw line.error("vhost-user", "'" + volume.socketPath + "' already serves another function")
    }
    volumes.append(volume)
  }

  func finish() throws(ConfigurationFileError) -> CardConfiguration {
    guard let card else { throw ConfigurationFileError(line: 0, field: "card", problem: "no 'card' line") }
    guard let uplink else {
      throw ConfigurationFileError(line: 0, field: "uplink", problem: "no 'uplink' line")
    }
    var configuration = CardConfiguration(
      network: NetworkConfiguration(
        card: card, tenants: tenants, vpcs: vpcs, subnets: subnets, nics: nics, securityGroups: groups,
        mappings: mappings),
      uplink: uplink, hostFunctions: hostFunctions, bufferCount: bufferCount)
    configuration.volumes = volumes
    var esp = esp
    if !sites.isEmpty {
      let cards = nics.map { $0.card }.filter { $0 != card.underlayAddress } + mappings.map { $0.vtep }
      try EspStatement.attach(sites, to: &esp, card: card.underlayAddress, cards: cards)
      configuration.sites = sites
    }
    if !esp.isEmpty {
      try EspStatement.check(esp, card: card.underlayAddress)
      configuration.esp = esp
      configuration.network = ProtectedUnderlay.protecting(configuration.network, suite: esp[0].suite)
    }
    return configuration
  }
}
