import Foundation
import Testing

@testable import Emulator

struct RackTopologyTests {
  static let minimal = """
    [rack]
    name = "r1"   # a comment
    [[card]]
    name = "c1"
    [[card]]
    name = "c2"
    [[tenant]]
    name = "acme"
    [[vpc]]
    name = "v1"
    tenant = "acme"
    cidr = "10.1.0.0/16"
    vni = 7
    encap = "vxlan"
    [[security-group]]
    name = "web"
    vpc = "v1"
    rules = ["inbound tcp 80-81 from group:web", "outbound udp 53 to 10.0.0.0/8", "inbound any from 0.0.0.0/0"]
    [[guest]]
    name = "g1"
    card = "c1"
    vpc = "v1"
    ip = "10.1.0.10"
    security-groups = ["web"]
    [[guest]]
    name = "g2"
    card = "c2"
    vpc = "v1"
    ip = "10.1.0.20"
    """

  @Test func theShippedExampleParses() throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
        "examples/two-cards.toml")
    let topology = try RackTopology(String(contentsOf: url, encoding: .utf8))
    #expect(topology.name == "demo")
    #expect(topology.cards.map(\.name) == ["card1", "card2"])
    #expect(topology.guests.map(\.name) == ["a1", "a2", "g1"])
    #expect(topology.vpcs.map(\.vni) == [1001, 2002])
  }

  @Test func readsEveryTable() throws {
    let topology = try RackTopology(Self.minimal)
    #expect(
      topology.vpcs == [
        .init(name: "v1", tenant: "acme", cidr: "10.1.0.0/16", vni: 7, encapsulation: "vxlan")
      ])
    let rules = topology.securityGroups[0].rules
    #expect(rules[0] == SecurityRule(inbound: true, proto: "tcp", ports: "80-81", peer: .group("web")))
    #expect(rules[1].inbound == false && rules[1].peer == .prefix("10.0.0.0/8"))
    #expect(topology.guests[1].securityGroups == [] && topology.guests[1].memoryMiB == 256)
  }

  /// Each bad file is refused with the line and what is wrong.
  @Test(
    arguments: [
      ("[rack]\nname = demo", "line 2", "quoted"),
      ("[rack]\nname = \"Demo\"\n[[card]]\nname = \"c\"", "line 1", "lowercase"),
      ("[rack]\nname = \"r\"\nname = \"s\"", "line 3", "given twice"),
      ("[rack]\nname = \"r\"\n[[card]]\nname = \"c\"\n[[bogus]]", "line 5", "unknown table"),
      ("[rack]\nname = \"r\"\n[[card]]\nname = \"c\"\nsize = 3", "line 5", "unknown key"),
      ("[rack]\nname = \"r\"", nil, "no [[card]]"),
      (
        "[rack]\nname = \"r\"\n[[card]]\nname = \"c\"\n[[tenant]]\nname = \"t\"\n[[vpc]]\nname = \"v\"\ntenant = \"x\"\ncidr = \"10.0.0.0/8\"\nvni = 1",
        "line 9", "not a [[tenant]]"
      ),
      (
        "[rack]\nname = \"r\"\n[[card]]\nname = \"c\"\n[[tenant]]\nname = \"t\"\n[[vpc]]\nname = \"v\"\ntenant = \"t\"\ncidr = \"10.0.0.1/8\"\nvni = 1",
        "line 10", "host bits"
      ),
      (
        "[rack]\nname = \"r\"\n[[card]]\nname = \"c\"\n[[tenant]]\nname = \"t\"\n[[vpc]]\nname = \"v\"\ntenant = \"t\"\ncidr = \"10.0.0.0/8\"\nvni = 16777216",
        "line 11", "from 1 to 16777215"
      ),
      (
        "[rack]\nname = \"r\"\n[[card]]\nname = \"c\"\n[[tenant]]\nname = \"t\"\n[[vpc]]\nname = \"v\"\ntenant = \"t\"\ncidr = \"10.0.0.0/8\"\nvni = 1\n[[guest]]\nname = \"g\"\ncard = \"c\"\nvpc = \"v\"\nip = \"11.0.0.1\"",
        "line 12", "not in VPC"
      ),
      (
        "[rack]\nname = \"r\"\n[[card]]\nname = \"c\"\n[[tenant]]\nname = \"t\"\n[[vpc]]\nname = \"v\"\ntenant = \"t\"\ncidr = \"10.0.0.0/8\"\nvni = 1\n[[security-group]]\nname = \"s\"\nvpc = \"v\"\nrules = [\"inbound tcp 99999 from 1.0.0.0/8\"]",
        "line 15", "1 <= N <= 65535"
      ),
      (
        "[rack]\nname = \"r\"\n[[card]]\nname = \"c\"\n[[card]]\nname = \"c\"", nil,
        "two [[card]] are named 'c'"
      ),
      ("[rack]\nname = \"r\nx", "line 2", "not closed"),
      (
        "[rack]\nname = \"r\"\nesp = \"aes-cbc\"\n[[card]]\nname = \"c\"", "line 3",
        "not one of off, aes-gcm-128"
      ),
      ("[rack]\nname = \"r\"\nesp-generation = 0\n[[card]]\nname = \"c\"", "line 3", "from 1 to 65535"),
      ("[rack]\nname = \"r\"\n[[card]]\nname = [\"a\" \"b\"]", "line 4", "separated by ','"),
    ] as [(String, String?, String)])
  func refusesBadFiles(text: String, line: String?, message: String) {
    do {
      _ = try RackTopology(text)
      Issue.record("accepted: \(text)")
    } catch {
      if let line { #expect(error.description.contains(line), "\(error)") }
      #expect(error.description.contains(message), "\(error)")
    }
  }

  @Test func planGivesEachCardItsSliceOfTheRack() throws {
    let plan = RackPlan(try RackTopology(Self.minimal), stateDirectory: "/s")
    #expect(plan.routerNamespace == "bh-r1-ul")
    #expect(plan.cards.map(\.namespace) == ["bh-r1-c1", "bh-r1-c2"])
    #expect(plan.cards.map(\.underlayAddress) == ["10.255.1.2", "10.255.2.2"])
    let card1 = plan.cards[0].configuration.split(separator: "\n").map(String.init)
    #expect(
      card1.contains(
        "card underlay=10.255.1.2 mac=02:ca:00:00:00:01 router-mac=02:ee:00:00:00:01 gateway-mac=02:00:5e:00:00:01"
      ))
    #expect(card1.contains("vpc id=1 tenant=1 cidr=10.1.0.0/16 vni=7 encap=vxlan"))
    #expect(card1.contains("subnet id=1 vpc=1 cidr=10.1.0.0/16 gateway=10.1.0.1"))
    #expect(card1.contains("rule group=1 direction=inbound protocol=tcp ports=80-81 peer=group:1"))
    #expect(card1.contains("rule group=1 direction=outbound protocol=udp ports=53 peer=10.0.0.0/8"))
    #expect(
      card1.contains(
        "nic id=1 subnet=1 mac=52:54:00:b0:00:01 ip=10.1.0.10 groups=1 port=1 vhost-user=/s/cards/c1/g1.sock")
    )
    #expect(card1.contains("nic id=2 subnet=1 mac=52:54:00:b0:00:02 ip=10.1.0.20 card=10.255.2.2"))
    let card2 = plan.cards[1].configuration
    #expect(card2.contains("nic id=1 subnet=1 mac=52:54:00:b0:00:01 ip=10.1.0.10 groups=1 card=10.255.1.2"))
    #expect(
      card2.contains(
        "nic id=2 subnet=1 mac=52:54:00:b0:00:02 ip=10.1.0.20 port=1 vhost-user=/s/cards/c2/g2.sock"))
  }

  @Test func rackGuestsGetAConsoleSocketAndAnAgentPort() throws {
    let plan = RackPlan(try RackTopology(Self.minimal), stateDirectory: "/s")
    let image = GuestImage(directory: "/img")
    let command = QemuCommandLine(
      plan.qemuConfiguration(of: plan.guests[0], image: image), scenarioFile: "/x"
    ).command
    let joined = command.joined(separator: " ")
    #expect(
      joined.contains(
        "-chardev socket,id=console,path=/s/guests/g1/console.sock,server=on,wait=off,logfile=/s/logs/g1.console.log,logappend=on -serial chardev:console"
      ))
    #expect(
      joined.contains(
        "-chardev socket,id=agent,path=/s/guests/g1/agent.sock,server=on,wait=off -serial chardev:agent"))
    #expect(joined.contains("bulkhead.serve=1"))
    #expect(!command.contains("stdio"))
  }

  @Test func rackGuestsNICSitsOnAHotPlugPortWithASpareAndAMonitor() throws {
    let plan = RackPlan(try RackTopology(Self.minimal), stateDirectory: "/s")
    let command = QemuCommandLine(
      plan.qemuConfiguration(of: plan.guests[0], image: GuestImage(directory: "/img")), scenarioFile: "/x"
    ).command
    let joined = command.joined(separator: " ")
    #expect(
      joined.contains(
        "-chardev socket,id=monitor,path=/s/guests/g1/monitor.sock,server=on,wait=off -mon chardev=monitor,mode=control"
      ))
    #expect(
      joined.contains(
        "-device pcie-root-port,id=bh-port0,chassis=1,slot=1 -device pcie-root-port,id=bh-port1,chassis=2,slot=2"
      ))
    #expect(
      joined.contains(
        "-chardev socket,id=bh-g1-c,path=/s/cards/c1/g1.sock,reconnect-ms=1000 -netdev vhost-user,id=bh-g1-n,chardev=bh-g1-c -device virtio-net-pci,bus=bh-port0,id=bh-g1,mac="
      ), "\(joined)")
  }

  /// With `esp`, each card's file protects the underlay to every other
  /// card: one outbound SA per peer, one inbound SA per peer and
  /// generation in force, keys from the rack's keyring, SPIs unique per
  /// receiver.
  @Test func espGivesEachCardPairItsSAsFromTheKeyring() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("esp-\(getpid())").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let topology = try RackTopology(
      Self.minimal.replacingOccurrences(
        of: "name = \"r1\"   # a comment", with: "name = \"r1\"\nesp = \"aes-gcm-256\""))
    #expect(topology.esp == "aes-gcm-256" && topology.espGeneration == 1)
    let keys = try EspKeyring.ensure(for: topology, stateDirectory: directory)
    #expect(keys.entries.count == 2)
    #expect(keys.entries.allSatisfy { $0.keyHex.count == 72 && $0.keyHex.allSatisfy(\.isHexDigit) })
    #expect(keys.entries[0].keyHex != keys.entries[1].keyHex)
    // Stable: a second call (apply) keeps the keys.
    #expect(try EspKeyring.ensure(for: topology, stateDirectory: directory) == keys)
    let mode =
      try FileManager.default.attributesOfItem(atPath: directory + "/esp-keys")[.posixPermissions] as? Int
    #expect(mode == 0o600)

    let plan = RackPlan(topology, stateDirectory: directory)
    let c1 = plan.cards[0]
    let esp = c1.configuration.split(separator: "\n").filter { $0.hasPrefix("esp ") }
    let toC2 = keys.key(generation: 1, sender: "c1", receiver: "c2")!
    let fromC2 = keys.key(generation: 1, sender: "c2", receiver: "c1")!
    #expect(
      esp == [
        "esp peer=10.255.2.2 direction=outbound spi=\(1 << 16 | 2 << 8 | 1) cipher=aes-gcm-256 key=\(toC2)",
        "esp peer=10.255.2.2 direction=inbound spi=\(1 << 16 | 1 << 8 | 2) cipher=aes-gcm-256 key=\(fromC2)",
      ])

    // A rekey's middle stage: both generations open, the new one seals.
    var next = topology
    next.espGeneration = 2
    let both = try EspKeyring.ensure(for: next, stateDirectory: directory)
    #expect(both.entries.count == 4)
    let stage = RackPlan.configuration(
      of: c1, topology: next, plan: RackPlan(next, stateDirectory: directory, espKeys: both),
      stage: RackPlan.EspStage(inbound: [1, 2], outbound: 2)
    ).split(separator: "\n").filter { $0.hasPrefix("esp ") }
    #expect(stage.count == 3)
    #expect(stage[0].contains("direction=outbound spi=\(2 << 16 | 2 << 8 | 1)"))
    #expect(stage[1].contains("direction=inbound spi=\(1 << 16 | 1 << 8 | 2) ") && stage[1].hasSuffix(fromC2))
    #expect(stage[2].contains("direction=inbound spi=\(2 << 16 | 1 << 8 | 2) "))
  }

  @Test func withoutEspTheCardsFilesHaveNoEspLines() throws {
    let plan = RackPlan(try RackTopology(Self.minimal), stateDirectory: "/nonexistent")
    #expect(plan.cards.allSatisfy { !$0.configuration.contains("esp ") })
  }

  static let site = """

    [[site]]
    name = "hq"
    vpc = "v1"
    cidr = "192.168.50.0/24"
    """

  /// A site without card-pair ESP: its keys in the keyring, each card of
  /// its VPC a `site` line and an SA pair with the site's gateway, and the
  /// site's script an xfrm SA pair per card and a policy pair per guest.
  @Test func aSiteGetsATunnelFromEveryCardOfItsVPC() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("site-\(getpid())").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let topology = try RackTopology(Self.minimal + Self.site)
    #expect(
      topology.sites == [
        RackTopology.Site(name: "hq", vpc: "v1", cidr: "192.168.50.0/24", cipher: "aes-gcm-128")
      ])
    let keys = try EspKeyring.ensure(for: topology, stateDirectory: directory)
    #expect(keys.entries.count == 4, "two cards, both directions")
    #expect(keys.entries.allSatisfy { $0.keyHex.count == 40 })
    let plan = RackPlan(topology, stateDirectory: directory, espKeys: keys)
    let site = try #require(plan.sites.first)
    #expect(site.underlayAddress == "10.254.1.2" && site.address == "192.168.50.1" && site.tap == "s1")
    #expect(site.tunnels.map(\.card) == ["c1", "c2"])
    #expect(site.tunnels[0].guests == ["10.1.0.10"])

    let c1 = plan.cards[0].configuration.split(separator: "\n")
    let toSite = EspKeyring.spi(generation: 1, senderIndex: 1, receiverIndex: 201)
    let fromSite = EspKeyring.spi(generation: 1, senderIndex: 201, receiverIndex: 1)
    #expect(c1.contains("site vpc=1 gateway=10.254.1.2 remote=192.168.50.0/24"))
    #expect(
      c1.contains(
        Substring(
          "esp peer=10.254.1.2 direction=outbound spi=\(toSite) cipher=aes-gcm-128 key="
            + keys.key(generation: 1, sender: "c1", receiver: "hq")!)))
    #expect(c1.contains { $0.hasPrefix("esp peer=10.254.1.2 direction=inbound spi=\(fromSite) ") })

    let script = RackPlan.siteScenario(site)
    #expect(
      script.contains(
        "ip xfrm state add src 10.254.1.2 dst 10.255.1.2 proto esp spi \(fromSite) reqid 1 mode tunnel aead 'rfc4106(gcm(aes))' 0x"
          + keys.key(generation: 1, sender: "hq", receiver: "c1")! + " 128 flag esn"))
    #expect(
      script.contains(
        "ip xfrm policy add src 192.168.50.0/24 dst 10.1.0.20/32 dir out tmpl src 10.254.1.2 dst 10.255.2.2 proto esp reqid 2 mode tunnel"
      ))
    #expect(script.contains("ip route add 10.1.0.0/16 via 10.254.1.1 dev eth0 src 192.168.50.1"))
  }

  @Test(arguments: [
    ("cidr = \"192.168.50.0/24\"", "cidr = \"10.1.128.0/24\"", "overlaps VPC v1"),
    ("vpc = \"v1\"\ncidr = \"192", "vpc = \"v9\"\ncidr = \"192", "not a [[vpc]]"),
    (
      "cidr = \"192.168.50.0/24\"", "cidr = \"192.168.50.0/24\"\ncipher = \"aes-gcm-256\"",
      "differs from the rack's esp"
    ),
    ("name = \"hq\"", "name = \"g1\"", "two [[guest]] are named 'g1'"),
  ])
  func badSitesAreRefused(original: String, replacement: String, message: String) {
    let text =
      (Self.minimal.replacingOccurrences(
        of: "name = \"r1\"   # a comment", with: "name = \"r1\"\nesp = \"aes-gcm-128\"") + Self.site)
      .replacingOccurrences(of: original, with: replacement)
    do {
      _ = try RackTopology(text)
      Issue.record("accepted: \(text)")
    } catch {
      #expect(error.description.contains(message), "\(error)")
    }
  }
}
