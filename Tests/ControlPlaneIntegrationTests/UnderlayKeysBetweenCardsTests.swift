import Foundation
import Testing

/// Two real `bulkhead-card` processes whose uplinks are the two ends of a
/// veth pair (AF_PACKET ports), each serving a tenant namespace through a
/// veth of its own; a real controller keys the pair and rotates its keys
/// every second while a tenant pings the other across the cards. Every
/// echo comes back, the cards sealed and opened the flow with ESP, and the
/// keys they seal with changed under it.
@Suite(.serialized) struct UnderlayKeysBetweenCardsTests {
  static let canRun =
    getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip")
    && FileManager.default.isExecutableFile(atPath: "/bin/busybox")

  @discardableResult
  static func sh(_ command: String) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", command]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    guard p.terminationStatus == 0 else { throw Failed(command: command, output: text) }
    return text
  }

  struct Failed: Error, CustomStringConvertible {
    var command: String
    var output: String
    var description: String { "\(command): \(output)" }
  }

  @Test(.enabled(if: canRun, "needs root, iproute2 and busybox"))
  func controllerKeysProtectTenantTrafficAcrossRekeys() async throws {
    let tag = String(UInt16.random(in: 0x1000...0xFFFF), radix: 16)
    let (uplink1, uplink2) = ("bk\(tag)u1", "bk\(tag)u2")
    let tenants = [
      (port: "bk\(tag)t1", ns: "bk\(tag)n1", mac: "02:00:00:00:01:05", ip: "10.0.1.5", gateway: "10.0.1.1"),
      (port: "bk\(tag)t2", ns: "bk\(tag)n2", mac: "02:00:00:00:02:05", ip: "10.0.2.5", gateway: "10.0.2.1"),
    ]
    defer {
      // Deleting one end of a veth deletes the pair.
      for name in [uplink1] + tenants.map(\.port) { _ = try? Self.sh("ip link del \(name)") }
      for t in tenants { _ = try? Self.sh("ip netns del \(t.ns)") }
    }
    try Self.sh(
      "ip link add \(uplink1) type veth peer name \(uplink2) && ip link set \(uplink1) up && ip link set \(uplink2) up"
    )
    for (i, t) in tenants.enumerated() {
      try Self.sh(
        """
        ip netns add \(t.ns) && ip link add \(t.port) type veth peer name bk\(tag)p\(i) \
        && ip link set bk\(tag)p\(i) netns \(t.ns) name eth0 \
        && ip -n \(t.ns) link set eth0 address \(t.mac) && ip -n \(t.ns) addr add \(t.ip)/24 dev eth0 \
        && ip -n \(t.ns) link set eth0 up && ip -n \(t.ns) link set lo up \
        && ip -n \(t.ns) route add default via \(t.gateway) && ip link set \(t.port) up
        """)
    }

    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let pki = folder.appendingPathComponent("pki").path
    try makeProviderPKI(pki, cards: ["k1", "k2"])
    let controller = try await RunningController(
      vniRange: "300-400", pki: pki, directory: folder.appendingPathComponent("controller"),
      extraArguments: ["--underlay-rekey-seconds", "1"])
    let port = try #require(controller.managementPort)
    func run(_ arguments: String...) throws {
      let invocation = try dpuctl(arguments, controller: "unix:\(controller.socket)")
      #expect(invocation.status == 0, "dpuctl \(arguments.joined(separator: " ")): \(invocation.errorOutput)")
    }
    try run("cards", "register", "k1", "--underlay-ip", "192.0.2.1")
    try run("cards", "register", "k2", "--underlay-ip", "192.0.2.2")
    // Each card's next hop on the underlay is the other card.
    func configuration(_ n: Int, uplink: String, port: String, subnet: String) -> String {
      """
      card underlay=192.0.2.\(n) mac=02:ca:00:00:00:0\(n) router-mac=02:ca:00:00:00:0\(3 - n) gateway-mac=02:00:5e:00:00:01
      uplink interface=\(uplink)
      # Binds the controller's NIC 1 to the tenant's veth.
      tenant id=1 name=host
      vpc id=1 tenant=1 cidr=10.0.0.0/16 vni=1
      subnet id=1 vpc=1 cidr=\(subnet) gateway=\(subnet.replacingOccurrences(of: ".0/24", with: ".1"))
      nic id=1 subnet=1 mac=02:00:00:00:0\(n):05 ip=10.0.\(n).5 port=1 interface=\(port)

      """
    }
    let cards = folder.appendingPathComponent("cards")
    func linked(_ name: String) -> [String] {
      ["--controller", "127.0.0.1:\(port)", "--pki-dir", pki, "--card-name", name, "--heartbeat-ms", "100"]
    }
    let k1 = try RunningCard(
      name: "k1", underlay: "192.0.2.1", folder: cards, arguments: linked("k1"),
      configuration: configuration(1, uplink: uplink1, port: tenants[0].port, subnet: "10.0.1.0/24"))
    let k2 = try RunningCard(
      name: "k2", underlay: "192.0.2.2", folder: cards, arguments: linked("k2"),
      configuration: configuration(2, uplink: uplink2, port: tenants[1].port, subnet: "10.0.2.0/24"))
    defer {
      k1.stop()
      k2.stop()
      controller.stop()
    }

    try run("tenants", "create", "acme")
    try run("vpcs", "create", "blue", "--tenant", "acme", "--cidr", "10.0.0.0/16")
    try run("subnets", "create", "web", "--tenant", "acme", "--vpc", "blue", "--cidr", "10.0.1.0/24")
    try run("subnets", "create", "db", "--tenant", "acme", "--vpc", "blue", "--cidr", "10.0.2.0/24")
    try run(
      "security-groups", "create", "ping", "--tenant", "acme", "--vpc", "blue", "--rule",
      "ingress:icmp:all:10.0.0.0/16")
    for (name, subnet, n, card) in [("n1", "blue/web", 1, "k1"), ("n2", "blue/db", 2, "k2")] {
      try run(
        "nics", "create", name, "--tenant", "acme", "--subnet", subnet, "--mac", "02:00:00:00:0\(n):05",
        "--ip",
        "10.0.\(n).5", "--security-group", "blue/ping", "--card", card)
    }
    for card in [k1, k2] {
      #expect(
        card.line(containing: "in force: 1 NICs, 1 VPCs, 1 security groups, 1 mappings, 2 ESP SAs") != nil,
        "\(card.output)")
    }

    // The path works (the first echo may wait for the gateway's ARP).
    var reached = false
    for _ in 0..<10 where !reached {
      reached =
        (try? Self.sh("ip netns exec \(tenants[0].ns) busybox ping -c 1 -W 1 \(tenants[1].ip)")) != nil
    }
    #expect(reached, "k1: \(k1.output)\nk2: \(k2.output)")
    func outboundSPI(_ card: RunningCard) -> String? {
      let mark = card.mark
      card.report()
      guard let line = card.line(containing: "esp sa out spi", after: mark) else { return nil }
      return line.split(separator: " ").drop { $0 != "spi" }.dropFirst().first.map(String.init)
    }
    let before = try #require(outboundSPI(k1))

    // 400 echoes, 20 ms apart: the keys rotate every second under them.
    let mark1 = k1.mark
    let ping = try Self.sh(
      "ip netns exec \(tenants[0].ns) busybox ping -q -c 400 -i 0.02 -W 2 \(tenants[1].ip)")
    #expect(ping.contains("400 packets transmitted, 400 packets received"), "\(ping)")
    // The provider sees k1's data plane at work in its heartbeats: each
    // echo entered k1 twice (the request from the tenant, the reply from
    // the uplink) and left it twice.
    var counters: [String: Any] = [:]
    func total(_ name: String) -> UInt64 { (counters[name] as? String).flatMap { UInt64($0) } ?? 0 }
    let clock = ContinuousClock()
    // Only bounds a hang: heartbeats go every second.
    let deadline = clock.now + .seconds(60)
    while clock.now < deadline {
      let shown = try dpuctl(["cards", "show", "k1", "-o", "json"], controller: "unix:\(controller.socket)")
      counters = shown.object["counters"] as? [String: Any] ?? [:]
      if total("rx-packets") >= 800, total("tx-packets") >= 800 { break }
      try await Task.sleep(for: .milliseconds(100))
    }
    #expect(total("rx-packets") >= 800 && total("tx-packets") >= 800, "k1's counters: \(counters)")
    let after = try #require(outboundSPI(k1))
    #expect(after != before, "k1 still seals with SPI \(before)")
    // Both steps of a rotation reached the card under the flow: the new
    // epoch's inbound SA beside the old (3 SAs), and the switch.
    #expect(k1.line(containing: "in force:", "3 ESP SAs", after: mark1, within: 0) != nil, "\(k1.output)")
    // Nothing failed to open on either card; every echo was sealed.
    for card in [k1, k2] {
      let mark = card.mark
      card.report()
      let summary = try #require(card.line(containing: "bulkhead-card: esp: policies 1", after: mark))
      #expect(!summary.contains("unknown-spi") && !summary.contains("clear-text"), "\(summary)")
      let text = String(card.output.utf8.dropFirst(mark))!
      #expect(!text.contains("authentication-failed") && !text.contains("replayed"), "\(text)")
    }
  }

  /// An outside site's gateway in a namespace on card k1's uplink, keyed
  /// only through `dpuctl ipsec-tunnels create --generate-keys`, whose
  /// printed peer configuration gives the SPIs and keys. The gateway is
  /// scapy's ESP (this machine's kernel has no AES-GCM for xfrm; the rack's
  /// Debian guests run the Linux xfrm peer, RackTests): the tenant's echoes
  /// to the site go through the tunnel and come back, and the keys never
  /// come back out of the API.
  static let hasScapy =
    (try? sh("/usr/bin/python3 -c 'import scapy.layers.ipsec'")) != nil
    && FileManager.default.isExecutableFile(atPath: "/usr/bin/tcpdump")

  @Test(.enabled(if: canRun && hasScapy, "needs root, iproute2, busybox, scapy and tcpdump"))
  func aSiteKeyedThroughDpuctlReachesTheTenant() async throws {
    let tag = String(UInt16.random(in: 0x1000...0xFFFF), radix: 16)
    let uplink = "bk\(tag)u1"
    let (site, tenantPort, tenant) = ("bk\(tag)st", "bk\(tag)t1", "bk\(tag)n1")
    defer {
      for name in [uplink, tenantPort] { _ = try? Self.sh("ip link del \(name)") }
      for ns in [site, tenant] { _ = try? Self.sh("ip netns del \(ns)") }
    }
    try Self.sh(
      """
      ip netns add \(site) && ip link add \(uplink) type veth peer name bk\(tag)s0 \
      && ip link set bk\(tag)s0 netns \(site) name eth0 && ip link set \(uplink) up \
      && ip -n \(site) link set eth0 address 02:ca:00:00:00:02 && ip -n \(site) addr add 192.0.2.9/24 dev eth0 \
      && ip -n \(site) link set eth0 up && ip -n \(site) link set lo up \
      && ip -n \(site) addr add 10.254.1.1/24 dev lo \
      && ip netns add \(tenant) && ip link add \(tenantPort) type veth peer name bk\(tag)p0 \
      && ip link set bk\(tag)p0 netns \(tenant) name eth0 \
      && ip -n \(tenant) link set eth0 address 02:00:00:00:01:05 && ip -n \(tenant) addr add 10.0.1.5/24 dev eth0 \
      && ip -n \(tenant) link set eth0 up && ip -n \(tenant) link set lo up \
      && ip -n \(tenant) route add default via 10.0.1.1 && ip link set \(tenantPort) up
      """)

    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("site-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let pki = folder.appendingPathComponent("pki").path
    try makeProviderPKI(pki, cards: ["k1"])
    let controller = try await RunningController(
      vniRange: "300-400", pki: pki, directory: folder.appendingPathComponent("controller"))
    let port = try #require(controller.managementPort)
    @discardableResult
    func run(_ arguments: String...) throws -> Invocation {
      let invocation = try dpuctl(arguments, controller: "unix:\(controller.socket)")
      #expect(invocation.status == 0, "dpuctl \(arguments.joined(separator: " ")): \(invocation.errorOutput)")
      return invocation
    }
    try run("cards", "register", "k1", "--underlay-ip", "192.0.2.1")
    let k1 = try RunningCard(
      name: "k1", underlay: "192.0.2.1", folder: folder.appendingPathComponent("cards"),
      arguments: [
        "--controller", "127.0.0.1:\(port)", "--pki-dir", pki, "--card-name", "k1", "--heartbeat-ms", "100",
      ],
      configuration: """
        card underlay=192.0.2.1 mac=02:ca:00:00:00:01 router-mac=02:ca:00:00:00:02 gateway-mac=02:00:5e:00:00:01
        uplink interface=\(uplink)
        tenant id=1 name=host
        vpc id=1 tenant=1 cidr=10.0.0.0/16 vni=1
        subnet id=1 vpc=1 cidr=10.0.1.0/24 gateway=10.0.1.1
        nic id=1 subnet=1 mac=02:00:00:00:01:05 ip=10.0.1.5 port=1 interface=\(tenantPort)

        """)
    defer {
      k1.stop()
      controller.stop()
    }
    try run("tenants", "create", "acme")
    try run("vpcs", "create", "blue", "--tenant", "acme", "--cidr", "10.0.0.0/16")
    try run("subnets", "create", "web", "--tenant", "acme", "--vpc", "blue", "--cidr", "10.0.1.0/24")
    try run(
      "security-groups", "create", "ping", "--tenant", "acme", "--vpc", "blue", "--rule",
      "ingress:icmp:all:10.254.0.0/16")
    try run(
      "nics", "create", "n1", "--tenant", "acme", "--subnet", "blue/web", "--mac", "02:00:00:00:01:05",
      "--ip",
      "10.0.1.5", "--security-group", "blue/ping", "--card", "k1")
    // A tunnel needs the card that terminates it to exist.
    let stray = try dpuctl(
      [
        "ipsec-tunnels", "create", "stray", "--tenant", "acme", "--vpc", "blue", "--local-ip", "192.0.2.77",
        "--remote-ip", "192.0.2.9", "--remote-cidr", "10.254.1.0/24", "--generate-keys",
      ], controller: "unix:\(controller.socket)")
    #expect(stray.status != 0 && stray.errorOutput.contains("local_ip"), "\(stray.errorOutput)")

    let made = try run(
      "ipsec-tunnels", "create", "hq", "--tenant", "acme", "--vpc", "blue", "--local-ip", "192.0.2.1",
      "--remote-ip", "192.0.2.9", "--remote-cidr", "10.254.1.0/24", "--generate-keys")
    let commands = made.errorOutput.split(separator: "\n").filter { $0.hasPrefix("ip xfrm state") }
    #expect(commands.count == 2, "\(made.errorOutput)")
    // `ip xfrm state add src S dst D proto esp spi X ... 0xKEY 128 ...`
    func field(_ command: Substring, after word: String) -> String? {
      let words = command.split(separator: " ")
      guard let i = words.firstIndex(of: Substring(word)), i + 1 < words.count else { return nil }
      return String(words[i + 1])
    }
    let toCard = try #require(commands.first { field($0, after: "dst") == "192.0.2.1" })
    let fromCard = try #require(commands.first { field($0, after: "dst") == "192.0.2.9" })
    func key(_ command: Substring) -> String? {
      command.split(separator: " ").first { $0.hasPrefix("0x") && $0.count > 40 }.map(String.init)
    }
    #expect(
      k1.line(containing: "in force: 1 NICs, 1 VPCs, 1 security groups, 0 mappings, 2 ESP SAs, 1 sites")
        != nil,
      "\(k1.output)")
    // The keys never come back out.
    let keyToCard = try #require(key(toCard))
    let shown = try run("ipsec-tunnels", "get", "hq", "--tenant", "acme", "--vpc", "blue", "-o", "json")
    #expect(
      !shown.output.contains(keyToCard.dropFirst(2)) && shown.output.contains("192.0.2.9"), "\(shown.output)")

    // The gateway, answering `count` echoes with the given SAs.
    func gatewayAnswers(
      _ count: Int, fromCard: (spi: String, key: String), toCard: (spi: String, key: String),
      firstSequence: Int = 1
    ) throws -> String {
      let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Scripts/esp_site_gateway.py").path
      let gateway = Process()
      gateway.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
      gateway.arguments = [
        "netns", "exec", site, "/usr/bin/python3", script, "--iface", "eth0", "--gateway", "192.0.2.9",
        "--card",
        "192.0.2.1", "--card-mac", "02:ca:00:00:00:01", "--site-ip", "10.254.1.1", "--spi-from-card",
        fromCard.spi,
        "--key-from-card", fromCard.key, "--spi-to-card", toCard.spi, "--key-to-card", toCard.key, "--esn",
        "--seq-to-card", String(firstSequence),
        "--count", String(count), "--timeout", "120",
      ]
      let output = Pipe()
      gateway.standardOutput = output
      gateway.standardError = output
      try gateway.run()
      defer { if gateway.isRunning { gateway.terminate() } }
      // Its "ready" (an event: the sniffer listens).
      var said = ""
      while !said.contains("ready") {
        let chunk = output.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        said += String(decoding: chunk, as: UTF8.self)
      }
      #expect(said.contains("ready"), "\(said)")
      let ping: String
      do {
        ping = try Self.sh("ip netns exec \(tenant) busybox ping -q -c \(count) -i 0.2 -W 5 10.254.1.1")
      } catch {
        ping = "\(error)"
      }
      #expect(
        ping.contains("\(count) packets transmitted, \(count) packets received"), "\(ping)\nk1: \(k1.output)")
      gateway.waitUntilExit()
      said += String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      #expect(said.contains("failed 0, answered \(count)"), "\(said)")
      #expect(gateway.terminationStatus == 0)
      return said
    }
    func sa(_ command: Substring) throws -> (spi: String, key: String) {
      (try #require(field(command, after: "spi")), try #require(key(command)))
    }
    let (oldFromCard, oldToCard) = (try sa(fromCard), try sa(toCard))
    _ = try gatewayAnswers(20, fromCard: oldFromCard, toCard: oldToCard)

    // Rekey, step 1: the card opens the new inbound SA beside the old and
    // still seals with the old; the site already seals with the new.
    var mark = k1.mark
    let rekey = try run(
      "ipsec-tunnels", "rekey", "hq", "--tenant", "acme", "--vpc", "blue", "--generate-keys")
    let states = rekey.errorOutput.split(separator: "\n").filter { $0.hasPrefix("ip xfrm state") }
    let newToCard = try sa(try #require(states.first { field($0, after: "dst") == "192.0.2.1" }))
    let newFromCard = try sa(try #require(states.first { field($0, after: "dst") == "192.0.2.9" }))
    #expect(newToCard.spi != oldToCard.spi && newFromCard.key != oldFromCard.key)
    #expect(k1.line(containing: "in force:", "3 ESP SAs, 1 sites", after: mark) != nil, "\(k1.output)")
    _ = try gatewayAnswers(10, fromCard: oldFromCard, toCard: newToCard)
    // Step 2: the card seals with the new key; the old inbound SA still
    // opens (a peer that has not switched yet loses nothing).
    mark = k1.mark
    try run("ipsec-tunnels", "rekey", "hq", "--tenant", "acme", "--vpc", "blue", "--commit")
    #expect(k1.line(containing: "in force:", "3 ESP SAs, 1 sites", after: mark) != nil, "\(k1.output)")
    // (Each SA goes on from the sequence number it stopped at: the card's
    // anti-replay window remembers.)
    _ = try gatewayAnswers(10, fromCard: newFromCard, toCard: oldToCard, firstSequence: 21)
    _ = try gatewayAnswers(5, fromCard: newFromCard, toCard: newToCard, firstSequence: 11)
    let again = try dpuctl(
      ["ipsec-tunnels", "rekey", "hq", "--tenant", "acme", "--vpc", "blue", "--commit"],
      controller: "unix:\(controller.socket)")
    #expect(again.status != 0 && again.errorOutput.contains("no rekey to commit"), "\(again.errorOutput)")
    mark = k1.mark
    k1.report()
    #expect(k1.line(containing: "esp sites 1: not-the-site-vpc 0", after: mark) != nil, "\(k1.output)")
    // Nothing was refused on the way: no replay, no failed open.
    let report = String(k1.output.utf8.dropFirst(mark))!
    #expect(!report.contains("replayed") && !report.contains("authentication-failed"), "\(report)")
  }
}
