import Foundation

/// Everything a topology turns into, worked out before anything runs (pure,
/// so it is unit-tested): namespace and link names, underlay addresses and
/// MACs, each card's configuration file, each guest's QEMU configuration.
///
/// The underlay is routed, like a leaf-spine fabric: namespace
/// `bh-RACK-ul` is the router; card N (1-based) sits on its own /24,
/// 10.255.N.0/24, with the card at .2 (its uplink `uplink` in namespace
/// `bh-RACK-CARD`) and the router at .1 (link `uN` in the router's
/// namespace). Cards send every underlay frame to the router's MAC.
public struct RackPlan: Equatable, Sendable {
  public struct CardPlan: Equatable, Sendable {
    public var name: String
    public var index: Int
    public var namespace: String
    public var underlayAddress: String
    public var routerAddress: String
    public var mac: String
    public var routerMAC: String
    /// The router's end of the card's underlay link.
    public var routerLink: String
    public var directory: String
    public var configurationPath: String
    public var configuration: String
    public var logPath: String
  }

  public struct GuestPlan: Equatable, Sendable {
    public var name: String
    public var card: String
    public var vpc: String
    public var ip: String
    public var mac: String
    public var netSocket: String
    public var consoleSocket: String
    public var consoleLog: String
    public var agentSocket: String
    public var memoryMiB: Int
    /// The volumes the guest boots with (the topology's `guest =`).
    public var volumes: [String] = []
    /// QEMU's monitor, for the host agent (hot-plug).
    public var monitorSocket: String {
      (consoleSocket as NSString).deletingLastPathComponent + "/monitor.sock"
    }
  }

  /// A Linux VTEP on the underlay: a guest whose NIC is a TAP `pN` on the
  /// router, on its own /24, 10.255.(100+N).0/24 (router .1, peer .2).
  public struct PeerPlan: Equatable, Sendable {
    public var name: String
    public var card: String
    public var vpc: String
    public var ip: String
    /// The MAC of the peer's tunnel device (its NIC in the VPC).
    public var mac: String
    public var underlayMAC: String
    public var tap: String
    public var underlayAddress: String
    public var routerAddress: String
    public var cardAddress: String
    public var vni: Int
    public var encapsulation: String
    /// The VPC's guests on the peer's card: address and MAC.
    public var neighbours: [String: String]
    public var consoleSocket: String
    public var consoleLog: String
    public var agentSocket: String
  }

  /// An outside site: a guest whose NIC is a TAP `sN` on the router, on
  /// 10.254.N.0/24 (router .1, site gateway .2), with the site's prefix on
  /// its loopback and Linux xfrm tunnels to the cards of its VPC.
  public struct SitePlan: Equatable, Sendable {
    /// One card's tunnel: its SAs both ways and the VPC's guests behind it.
    public struct Tunnel: Equatable, Sendable {
      public var card: String
      public var cardAddress: String
      public var spiToCard: Int
      public var spiToSite: Int
      public var keyToCard: String
      public var keyToSite: String
      public var guests: [String]
    }
    public var name: String
    public var vpc: String
    public var vpcID: Int
    public var vpcCIDR: String
    public var cidr: String
    /// The site's host address (the first of its prefix).
    public var address: String
    public var cipher: String
    /// Its index in SPIs (after the cards').
    public var index: Int
    public var tap: String
    public var underlayAddress: String
    public var routerAddress: String
    public var underlayMAC: String
    public var tunnels: [Tunnel]
    public var consoleSocket: String
    public var consoleLog: String
    public var agentSocket: String
  }

  /// An encrypted volume on a card: its `volume` line, socket and backing
  /// file (sparse, in the rack's state directory).
  public struct VolumePlan: Equatable, Sendable {
    public var name: String
    public var card: String
    /// The card's volume number (GET_ID answers `bulkhead-vol-<id>`).
    public var id: Int
    public var sizeBytes: Int
    public var sectorSize: Int
    public var isReadOnly: Bool
    /// The guest that boots with it, if any.
    public var guest: String?
    public var socket: String
    public var backingFile: String
    public var kekFile: String
    /// The data key wrapped under the card's KEK (`VolumeKeyring`).
    public var wrappedKeyHex: String
  }

  public var rack: String
  public var stateDirectory: String
  public var routerNamespace: String
  public var cards: [CardPlan]
  public var guests: [GuestPlan]
  public var peers: [PeerPlan]
  public var sites: [SitePlan]
  public var volumes: [VolumePlan]
  /// The card pairs' ESP keys (empty when the rack has no ESP).
  public var espKeys: EspKeyring

  /// Which key generations the cards open (inbound) and seal (outbound)
  /// with: one generation normally; during a rekey the old and the new.
  public struct EspStage: Equatable, Sendable {
    public var inbound: [Int]
    public var outbound: Int
    public init(inbound: [Int], outbound: Int) {
      self.inbound = inbound
      self.outbound = outbound
    }
  }

  /// The MAC every card answers ARP with for its VPCs' gateways.
  public static let gatewayMAC = "02:00:5e:00:00:01"
  /// Namespaces of a rack start with this.
  public static func namespacePrefix(rack: String) -> String { "bh-\(rack)-" }

  public init(
    _ topology: RackTopology, stateDirectory: String, espKeys: EspKeyring? = nil,
    volumeKeys: VolumeKeyring? = nil
  ) {
    rack = topology.name
    self.stateDirectory = stateDirectory
    self.espKeys = espKeys ?? EspKeyring.load(stateDirectory: stateDirectory)
    let volumeKeys = volumeKeys ?? VolumeKeyring.load(stateDirectory: stateDirectory)
    let prefix = Self.namespacePrefix(rack: topology.name)
    routerNamespace = prefix + "ul"
    var guests: [GuestPlan] = []
    for (index, guest) in topology.guests.enumerated() {
      let directory = stateDirectory + "/guests/" + guest.name
      guests.append(
        GuestPlan(
          name: guest.name, card: guest.card, vpc: guest.vpc, ip: guest.ip,
          mac: String(format: "52:54:00:%02x:%02x:%02x", 0xb0, (index + 1) >> 8, (index + 1) & 0xFF),
          netSocket: stateDirectory + "/cards/" + guest.card + "/" + guest.name + ".sock",
          consoleSocket: directory + "/console.sock",
          consoleLog: stateDirectory + "/logs/" + guest.name + ".console.log",
          agentSocket: directory + "/agent.sock", memoryMiB: guest.memoryMiB,
          volumes: topology.volumes.filter { $0.guest == guest.name }.map(\.name)))
    }
    self.guests = guests
    volumes = topology.volumes.enumerated().map { offset, volume in
      VolumePlan(
        name: volume.name, card: volume.card, id: offset + 1, sizeBytes: volume.sizeBytes,
        sectorSize: volume.sectorSize, isReadOnly: volume.isReadOnly, guest: volume.guest,
        socket: stateDirectory + "/cards/" + volume.card + "/" + volume.name + ".vol.sock",
        backingFile: stateDirectory + "/volumes/" + volume.name + ".img",
        kekFile: VolumeKeyring.kekPath(card: volume.card, stateDirectory: stateDirectory),
        wrappedKeyHex: volumeKeys.wrappedKey(volume: volume.name, card: volume.card)
          ?? "missing-run-dpuctl-emu-up")
    }
    cards = topology.cards.enumerated().map { offset, card in
      let index = offset + 1
      let directory = stateDirectory + "/cards/" + card.name
      return CardPlan(
        name: card.name, index: index, namespace: prefix + card.name,
        underlayAddress: "10.255.\(index).2", routerAddress: "10.255.\(index).1",
        mac: String(format: "02:ca:00:00:%02x:%02x", index >> 8, index & 0xFF),
        routerMAC: String(format: "02:ee:00:00:%02x:%02x", index >> 8, index & 0xFF),
        routerLink: "u\(index)", directory: directory, configurationPath: directory + "/card.conf",
        configuration: "", logPath: stateDirectory + "/logs/" + card.name + ".log")
    }
    peers = []
    for (offset, peer) in topology.peers.enumerated() {
      let index = offset + 1
      let vpc = topology.vpcs.first { $0.name == peer.vpc }!
      let card = cards.first { $0.name == peer.card }!
      var neighbours: [String: String] = [:]
      for guest in guests where guest.vpc == peer.vpc && guest.card == peer.card {
        neighbours[guest.ip] = guest.mac
      }
      let directory = stateDirectory + "/guests/" + peer.name
      peers.append(
        PeerPlan(
          name: peer.name, card: peer.card, vpc: peer.vpc, ip: peer.ip,
          mac: String(format: "52:54:00:b1:00:%02x", index),
          underlayMAC: String(format: "52:54:00:b2:00:%02x", index),
          tap: "p\(index)", underlayAddress: "10.255.\(100 + index).2",
          routerAddress: "10.255.\(100 + index).1",
          cardAddress: card.underlayAddress, vni: vpc.vni, encapsulation: vpc.encapsulation,
          neighbours: neighbours,
          consoleSocket: directory + "/console.sock",
          consoleLog: stateDirectory + "/logs/" + peer.name + ".console.log",
          agentSocket: directory + "/agent.sock"))
    }
    sites = []
    for (offset, site) in topology.sites.enumerated() {
      let index = offset + 1
      let vpcIndex = topology.vpcs.firstIndex { $0.name == site.vpc }!
      let prefix = TopologyPrefix(site.cidr)!
      let directory = stateDirectory + "/guests/" + site.name
      let siteIndex = Self.siteSPIIndexBase + index
      var tunnels: [SitePlan.Tunnel] = []
      for card in cards {
        let behind = guests.filter { $0.card == card.name && $0.vpc == site.vpc }.map(\.ip)
        guard !behind.isEmpty else { continue }
        let generation = EspKeyring.siteGeneration
        let missing = "missing-run-dpuctl-emu-apply"
        tunnels.append(
          SitePlan.Tunnel(
            card: card.name, cardAddress: card.underlayAddress,
            spiToCard: EspKeyring.spi(
              generation: generation, senderIndex: siteIndex, receiverIndex: card.index),
            spiToSite: EspKeyring.spi(
              generation: generation, senderIndex: card.index, receiverIndex: siteIndex),
            keyToCard: self.espKeys.key(generation: generation, sender: site.name, receiver: card.name)
              ?? missing,
            keyToSite: self.espKeys.key(generation: generation, sender: card.name, receiver: site.name)
              ?? missing,
            guests: behind))
      }
      sites.append(
        SitePlan(
          name: site.name, vpc: site.vpc, vpcID: vpcIndex + 1, vpcCIDR: topology.vpcs[vpcIndex].cidr,
          cidr: site.cidr, address: TopologyPrefix.text(prefix.network + 1), cipher: site.cipher,
          index: siteIndex, tap: "s\(index)", underlayAddress: "10.254.\(index).2",
          routerAddress: "10.254.\(index).1", underlayMAC: String(format: "52:54:00:b3:00:%02x", index),
          tunnels: tunnels, consoleSocket: directory + "/console.sock",
          consoleLog: stateDirectory + "/logs/" + site.name + ".console.log",
          agentSocket: directory + "/agent.sock"))
    }
    for index in cards.indices {
      cards[index].configuration = Self.configuration(of: cards[index], topology: topology, plan: self)
    }
  }

  /// Sites' indices in SPIs start after every card's (at most 200).
  public static let siteSPIIndexBase = 200

  public func card(named name: String) -> CardPlan? { cards.first { $0.name == name } }
  public func guest(named name: String) -> GuestPlan? { guests.first { $0.name == name } }
  public func volume(named name: String) -> VolumePlan? { volumes.first { $0.name == name } }
  /// The console socket and log of a guest or peer.
  public func console(of name: String) -> (socket: String, log: String)? {
    if let guest = guest(named: name) { return (guest.consoleSocket, guest.consoleLog) }
    if let peer = peers.first(where: { $0.name == name }) { return (peer.consoleSocket, peer.consoleLog) }
    return sites.first { $0.name == name }.map { ($0.consoleSocket, $0.consoleLog) }
  }

  /// The card's configuration file (Docs/card.md): every tenant, VPC and
  /// security group of the rack, its own guests as vhost-user NICs, and
  /// the other cards' guests in its VPCs as NICs behind those cards.
  static func configuration(
    of card: CardPlan, topology: RackTopology, plan: RackPlan, stage: EspStage? = nil
  ) -> String {
    var lines = [
      "# Made by dpuctl emu from the topology of rack \(topology.name); rewritten by dpuctl emu apply.",
      "card underlay=\(card.underlayAddress) mac=\(card.mac) router-mac=\(card.routerMAC) gateway-mac=\(gatewayMAC)",
      "uplink interface=uplink",
    ]
    for (index, tenant) in topology.tenants.enumerated() {
      lines.append("tenant id=\(index + 1) name=\(tenant)")
    }
    for (index, vpc) in topology.vpcs.enumerated() {
      let tenant = topology.tenants.firstIndex(of: vpc.tenant)! + 1
      let gateway = TopologyPrefix.text(TopologyPrefix(vpc.cidr)!.network + 1)
      lines.append(
        "vpc id=\(index + 1) tenant=\(tenant) cidr=\(vpc.cidr) vni=\(vpc.vni) encap=\(vpc.encapsulation)")
      lines.append("subnet id=\(index + 1) vpc=\(index + 1) cidr=\(vpc.cidr) gateway=\(gateway)")
    }
    func groupID(_ name: String) -> Int { topology.securityGroups.firstIndex { $0.name == name }! + 1 }
    for group in topology.securityGroups {
      let id = groupID(group.name)
      lines.append("security-group id=\(id)")
      for rule in group.rules {
        var line =
          "rule group=\(id) direction=\(rule.inbound ? "inbound" : "outbound") protocol=\(rule.proto)"
        if let ports = rule.ports { line += " ports=\(ports)" }
        switch rule.peer {
        case .group(let name): line += " peer=group:\(groupID(name))"
        case .prefix(let prefix): line += " peer=\(prefix)"
        }
        lines.append(line)
      }
    }
    var port = 0
    for (index, guest) in topology.guests.enumerated() {
      let guestPlan = plan.guests[index]
      let subnet = topology.vpcs.firstIndex { $0.name == guest.vpc }! + 1
      var line = "nic id=\(index + 1) subnet=\(subnet) mac=\(guestPlan.mac) ip=\(guest.ip)"
      if !guest.securityGroups.isEmpty {
        line += " groups=" + guest.securityGroups.map { String(groupID($0)) }.joined(separator: ",")
      }
      if guest.card == card.name {
        port += 1
        line += " port=\(port) vhost-user=\(guestPlan.netSocket)"
      } else {
        line += " card=\(plan.card(named: guest.card)!.underlayAddress)"
      }
      lines.append(line)
    }
    for (index, peer) in topology.peers.enumerated() {
      let peerPlan = plan.peers[index]
      let subnet = topology.vpcs.firstIndex { $0.name == peer.vpc }! + 1
      var line =
        "nic id=\(topology.guests.count + index + 1) subnet=\(subnet) mac=\(peerPlan.mac) ip=\(peer.ip)"
      if !peer.securityGroups.isEmpty {
        line += " groups=" + peer.securityGroups.map { String(groupID($0)) }.joined(separator: ",")
      }
      lines.append(line + " card=\(peerPlan.underlayAddress)")
    }
    if let cipher = topology.esp {
      let stage = stage ?? EspStage(inbound: [topology.espGeneration], outbound: topology.espGeneration)
      lines += espLines(of: card, cipher: cipher, stage: stage, plan: plan)
    }
    let volumes = plan.volumes.filter { $0.card == card.name }
    if !volumes.isEmpty {
      lines.append(
        "# Encrypted volumes: data keys wrapped with this card's KEK (Docs/volumes.md); the files are sparse."
      )
    }
    for volume in volumes {
      var line =
        "volume id=\(volume.id) vhost-user=\(volume.socket) backend=file:\(volume.backingFile) sector-size=\(volume.sectorSize) wrapped-key=\(volume.wrappedKeyHex) kek-file=\(volume.kekFile)"
      if volume.isReadOnly { line += " read-only" }
      lines.append(line)
    }
    for site in plan.sites {
      guard let tunnel = site.tunnels.first(where: { $0.card == card.name }) else { continue }
      lines += [
        "# IPsec tunnel to site \(site.name); keys from \(EspKeyring.fileName) in the rack's state directory.",
        "site vpc=\(site.vpcID) gateway=\(site.underlayAddress) remote=\(site.cidr)",
        "esp peer=\(site.underlayAddress) direction=outbound spi=\(tunnel.spiToSite) cipher=\(site.cipher) key=\(tunnel.keyToSite)",
        "esp peer=\(site.underlayAddress) direction=inbound spi=\(tunnel.spiToCard) cipher=\(site.cipher) key=\(tunnel.keyToCard)",
      ]
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// The QEMU configuration of a site: a TAP on the router, console and
  /// agent as for guests, and a scenario that makes the site's network and
  /// its xfrm tunnels.
  public func qemuConfiguration(of site: SitePlan, image: GuestImage) -> GuestConfiguration {
    underlayGuest(
      name: site.name, image: image, scenario: Self.siteScenario(site), tap: site.tap, mac: site.underlayMAC,
      console: (site.consoleSocket, site.consoleLog), agentSocket: site.agentSocket)
  }

  /// A guest on the underlay: its NIC a TAP on the router (QEMU runs in the
  /// router's namespace), console and agent as for the cards' guests, kept
  /// up after its scenario.
  func underlayGuest(
    name: String, image: GuestImage, scenario: String, tap: String, mac: String,
    console: (socket: String, log: String), agentSocket: String
  ) -> GuestConfiguration {
    var configuration = GuestConfiguration(name: name, image: image, scenario: scenario)
    configuration.nics = [GuestNIC(.tap(ifname: tap), mac: mac)]
    configuration.namespace = routerNamespace
    configuration.console = .socket(path: console.socket, log: console.log)
    configuration.agentSocket = agentSocket
    configuration.extraKernelArguments = ["bulkhead.serve=1"]
    return configuration
  }

  /// Linux's own IPsec as the site's gateway: per card, an SA each way
  /// (`rfc4106(gcm(aes))`, tunnel mode, ESN, 128-bit ICV) and a policy pair
  /// per guest of the VPC on that card (so each guest is reached through
  /// its own card's tunnel); the site's prefix on `lo`, the VPC routed
  /// out of the underlay from the site's address.
  static func siteScenario(_ site: SitePlan) -> String {
    var xfrm: [String] = []
    let aead = "aead 'rfc4106(gcm(aes))'"
    for (offset, tunnel) in site.tunnels.enumerated() {
      let reqid = offset + 1
      xfrm.append(
        "step sa-out-\(tunnel.card) ip xfrm state add src \(site.underlayAddress) dst \(tunnel.cardAddress) proto esp spi \(tunnel.spiToCard) reqid \(reqid) mode tunnel \(aead) 0x\(tunnel.keyToCard) 128 flag esn replay-window 128"
      )
      xfrm.append(
        "step sa-in-\(tunnel.card) ip xfrm state add src \(tunnel.cardAddress) dst \(site.underlayAddress) proto esp spi \(tunnel.spiToSite) reqid \(reqid) mode tunnel \(aead) 0x\(tunnel.keyToSite) 128 flag esn replay-window 128"
      )
      for guest in tunnel.guests {
        xfrm.append(
          "step policy-out-\(guest) ip xfrm policy add src \(site.cidr) dst \(guest)/32 dir out tmpl src \(site.underlayAddress) dst \(tunnel.cardAddress) proto esp reqid \(reqid) mode tunnel"
        )
        xfrm.append(
          "step policy-in-\(guest) ip xfrm policy add src \(guest)/32 dst \(site.cidr) dir in tmpl src \(tunnel.cardAddress) dst \(site.underlayAddress) proto esp reqid \(reqid) mode tunnel"
        )
      }
    }
    let length = site.cidr.split(separator: "/").last.map(String.init) ?? "24"
    let lines =
      [
        "ip link set lo up",
        "ip link set eth0 up",
        "ip addr add \(site.underlayAddress)/24 dev eth0",
        "ip route add 10.255.0.0/16 via \(site.routerAddress)",
        "ip addr add \(site.address)/\(length) dev lo",
      ] + xfrm + [
        "ip route add \(site.vpcCIDR) via \(site.routerAddress) dev eth0 src \(site.address)",
        "echo \"BULKHEAD site=\(site.cidr) tunnels=\(site.tunnels.count)\"",
      ]
    return lines.joined(separator: "\n")
  }

  /// ESP with every other card (Docs/ipsec.md): one outbound SA per peer
  /// card, one inbound SA per peer and generation in `stage`. The receiver's
  /// index is in the SPI, so SPIs are unique per receiver.
  static func espLines(of card: CardPlan, cipher: String, stage: EspStage, plan: RackPlan) -> [String] {
    var lines = ["# ESP between cards; keys from \(EspKeyring.fileName) in the rack's state directory."]
    for peer in plan.cards where peer.name != card.name {
      func line(_ direction: String, generation: Int, sender: CardPlan, receiver: CardPlan) -> String {
        let spi = EspKeyring.spi(
          generation: generation, senderIndex: sender.index, receiverIndex: receiver.index)
        let key =
          plan.espKeys.key(generation: generation, sender: sender.name, receiver: receiver.name)
          ?? "missing-run-dpuctl-emu-apply"
        return
          "esp peer=\(peer.underlayAddress) direction=\(direction) spi=\(spi) cipher=\(cipher) key=\(key)"
      }
      lines.append(line("outbound", generation: stage.outbound, sender: card, receiver: peer))
      for generation in stage.inbound {
        lines.append(line("inbound", generation: generation, sender: peer, receiver: card))
      }
    }
    return lines
  }

  /// The QEMU configuration of an underlay peer: a TAP on the router (QEMU
  /// runs in the router's namespace), console and agent as for guests, and
  /// a scenario that addresses the underlay and makes the tunnel device.
  public func qemuConfiguration(of peer: PeerPlan, image: GuestImage) -> GuestConfiguration {
    underlayGuest(
      name: peer.name, image: image, scenario: Self.peerScenario(peer), tap: peer.tap, mac: peer.underlayMAC,
      console: (peer.consoleSocket, peer.consoleLog), agentSocket: peer.agentSocket)
  }

  /// Underlay address and route, then `/root/tunnel.sh ENCAP` makes the
  /// VPC's tunnel device (`ovl0`, Linux's own vxlan or geneve) towards the
  /// card, with the card's guests as permanent neighbours; run it again
  /// with the other encapsulation to switch.
  static func peerScenario(_ peer: PeerPlan) -> String {
    let neighbours = peer.neighbours.sorted { $0.key < $1.key }
      .map { "ip neigh replace \($0.key) lladdr \($0.value) dev ovl0 nud permanent" }.joined(separator: "\n")
    return """
      cat > /root/tunnel.sh <<'EOF'
      . /etc/bulkhead/lib.sh
      ip link del ovl0 2>/dev/null
      if [ "$1" = vxlan ]; then
        ip link add ovl0 address \(peer.mac) type vxlan id \(peer.vni) remote \(peer.cardAddress) local \(peer.underlayAddress) dstport 4789 dev eth0 || exit 1
      else
        ip link add ovl0 address \(peer.mac) type geneve id \(peer.vni) remote \(peer.cardAddress) || exit 1
      fi
      ip link set ovl0 mtu 1400 up
      ip addr add \(peer.ip)/16 dev ovl0
      \(neighbours)
      echo "BULKHEAD tunnel=$1"
      EOF
      ip link set eth0 up
      ip addr add \(peer.underlayAddress)/24 dev eth0
      ip route add 10.255.0.0/16 via \(peer.routerAddress)
      step tunnel sh /root/tunnel.sh \(peer.encapsulation)
      echo "BULKHEAD lease ip=\(peer.ip) router=none mtu=1400"
      """
  }

  /// The QEMU configuration of a rack guest: one vhost-user NIC on its card,
  /// the console on a socket (logged), the exec agent on a second serial
  /// port, and a scenario that configures the NIC by DHCP and then serves.
  public func qemuConfiguration(of guest: GuestPlan, image: GuestImage) -> GuestConfiguration {
    var configuration = GuestConfiguration(name: guest.name, image: image, scenario: Self.guestScenario)
    configuration.memoryMiB = guest.memoryMiB
    // The NIC is a function named after its guest, on a PCIe root port,
    // with a spare port beside it: `dpuctl guest detach|attach` take it
    // out and put it back while the guest runs.
    configuration.nics = [GuestNIC(.vhostUser(socket: guest.netSocket), mac: guest.mac, name: guest.name)]
    // Its boot volumes on the next ports, named like functions plugged
    // later, so that `dpuctl guest detach --volume` takes them out too.
    configuration.disks = guest.volumes.compactMap { name in
      volume(named: name).map { GuestDisk(.vhostUserBlk(socket: $0.socket), name: name) }
    }
    configuration.hotplugPorts = 2 + configuration.disks.count
    configuration.monitorSocket = guest.monitorSocket
    configuration.console = .socket(path: guest.consoleSocket, log: guest.consoleLog)
    configuration.agentSocket = guest.agentSocket
    configuration.extraKernelArguments = ["bulkhead.serve=1"]
    return configuration
  }

  /// Writes /tmp/dhcp.sh, the script busybox udhcpc runs: it applies the
  /// address and mask, router and MTU the card offered, and reports the
  /// lease on the console. Shared by every guest that takes its address
  /// from a card.
  public static let dhcpClientScript = """
    cat > /tmp/dhcp.sh <<'EOF'
    #!/bin/sh
    case "$1" in bound|renew)
      ip addr flush dev "$interface"
      ip addr add "$ip/$subnet" dev "$interface"
      [ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"
      [ -n "$router" ] && ip route add default via "$router" dev "$interface"
      echo "BULKHEAD lease ip=$ip router=$router mtu=$mtu" ;;
    esac
    exit 0
    EOF
    chmod +x /tmp/dhcp.sh
    """

  /// DHCP from the card, then report the lease.
  public static let guestScenario =
    dhcpClientScript + """

      ip link set eth0 up
      step dhcp busybox udhcpc -i eth0 -n -q -t 20 -T 2 -s /tmp/dhcp.sh
      """
}
