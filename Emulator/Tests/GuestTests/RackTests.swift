import Foundation
import Testing

@testable import Emulator

/// The emulated rack end to end, driven only through `dpuctl emu` as a
/// user would: the shipped two-card topology comes up (two card firmware
/// processes in their namespaces on a routed underlay, three guests on
/// their cards' vhost-user NICs); guests of one VPC on different cards
/// ping and move TCP data across the underlay, which carries Geneve with
/// the VPC's VNI; a guest of another tenant reaches neither, and the card
/// counts its drops; a changed topology (no ICMP rule, VXLAN) takes effect
/// on the running cards; and `down` leaves no process, namespace or socket,
/// also after an `up` that was killed.
extension Guests {
  @Suite struct RackTests {
    static let canRun = getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip")

    static var repository: String { GuestImage.repository(containing: #filePath) }

    /// The shipped example with this run's rack name (namespace names are
    /// per rack, so a stale rack of another run cannot collide) and
    /// `rackSettings` lines added to its [rack] table.
    static func topology(name: String, rackSettings: [String] = [], change: (String) -> String = { $0 })
      throws
      -> String
    {
      let example = try String(contentsOfFile: repository + "/examples/two-cards.toml", encoding: .utf8)
      let table = (["name = \"\(name)\""] + rackSettings).joined(separator: "\n")
      return change(example.replacingOccurrences(of: "name = \"demo\"", with: table))
    }

    /// A test's rack: a name unique to this run (`prefix` and the PID), its
    /// fixture folder, state directory and topology file, and dpuctl on
    /// that state.
    static func newRack(prefix: String, folder: String) throws -> (
      name: String, directory: String, stateDirectory: String, topologyFile: String, dpuctl: Dpuctl
    ) {
      let directory = try GuestFixture.directory(folder)
      return (
        prefix + String(getpid() % 100_000), directory, directory + "/state", directory + "/two-cards.toml",
        Dpuctl(stateDirectory: directory + "/state")
      )
    }

    struct Dpuctl {
      let stateDirectory: String

      @discardableResult
      func run(_ arguments: [String], group: String = "emu", expectStatus: Int32? = 0) throws -> (
        status: Int32, output: String
      ) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BulkheadVhostUserTests.binary("dpuctl"))
        process.arguments = [group, arguments[0], "--state-dir", stateDirectory] + arguments.dropFirst()
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let output = String(decoding: data, as: UTF8.self)
        if let expectStatus {
          let cards = process.terminationStatus == expectStatus ? "" : cardLogTails()
          #expect(
            process.terminationStatus == expectStatus,
            "dpuctl \(group) \(arguments.joined(separator: " ")):\n\(output)\(cards)")
        }
        return (process.terminationStatus, output)
      }

      /// The last lines of each card's log, for a failed step's message:
      /// whether a card stopped, broke a queue or dropped, and why.
      func cardLogTails(lines: Int = 15) -> String {
        let logs = stateDirectory + "/logs"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: logs)) ?? []
        var text = ""
        for name in names.sorted()
        where name.hasSuffix(".log") && !name.hasSuffix(".console.log") && !name.hasSuffix(".qemu.log") {
          let content = (try? String(contentsOfFile: logs + "/" + name, encoding: .utf8)) ?? ""
          let tail = content.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines)
          text += "\n--- \(name), last \(lines) lines:\n" + tail.joined(separator: "\n")
        }
        return text
      }

      func exec(_ guest: String, _ command: String, expectStatus: Int32? = 0) throws -> String {
        try run(["exec", guest, "--", command], expectStatus: expectStatus).output
      }

      func status() throws -> [[String: Any]] {
        let output = try run(["status", "--output", "json"]).output
        let json = output.drop { $0 != "[" }
        return (try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]]) ?? []
      }

      func drops(_ card: String) throws -> Int {
        try run(["counters", card]).output.split(separator: "\n").filter { $0.contains("pipeline drops:") }
          .map { line in
            line.split(separator: " ").compactMap { Int($0) }.dropFirst().reduce(0, +)
          }.reduce(0, +)
      }
    }

    /// Captures UDP on a card's underlay link while `body` runs, and returns
    /// tcpdump's decoding of what it caught.
    static func capture(
      namespace: String, link: String, directory: String, filter: [String] = ["udp"],
      during body: () throws -> Void
    )
      throws
      -> String
    {
      let file = directory + "/underlay.pcap"
      try? FileManager.default.removeItem(atPath: file)
      let tcpdump = try PeerProcess(
        ["ip", "netns", "exec", namespace, "tcpdump", "-n", "-i", link, "-c", "4", "-w", file] + filter,
        logPath: directory + "/tcpdump.log")
      #expect(tcpdump.waitForLog(containing: "listening", timeout: 20), "\(tcpdump.log)")
      try body()
      tcpdump.stop()
      return try HostCommand.run(["tcpdump", "-n", "-v", "-r", file]).output
    }

    @Test(.enabled(if: canRun, "needs root and iproute2"), .timeLimit(.minutes(20)))
    func twoCardsCarryOneVPCAndKeepTenantsApart() throws {
      let (rack, directory, stateDirectory, topologyFile, dpuctl) = try Self.newRack(
        prefix: "t", folder: "rack")
      try Self.topology(name: rack).write(toFile: topologyFile, atomically: true, encoding: .utf8)
      defer { _ = try? dpuctl.run(["down"], expectStatus: nil) }

      let up = try dpuctl.run(["up", topologyFile])
      #expect(up.output.contains("guest a1: up, 172.16.1.10"), "\(up.output)")
      #expect(up.output.contains("guest a2: up, 172.16.2.10"), "\(up.output)")
      #expect(up.output.contains("guest g1: up, 172.16.1.20"), "\(up.output)")
      let parts = try dpuctl.status()
      let pids = parts.compactMap { $0["pid"] as? Int }
      #expect(
        parts.filter { $0["kind"] as? String == "card" && $0["state"] as? String == "running" }.count == 2)
      #expect(
        parts.filter { $0["kind"] as? String == "guest" && $0["state"] as? String == "up" }.count == 3,
        "\(parts)")
      #expect(
        parts.contains { $0["kind"] as? String == "peer" && $0["state"] as? String == "up" }, "\(parts)")
      #expect(pids.count == 6)

      // One VPC across the underlay: ping both ways, then TCP.
      let router = RackPlan.namespacePrefix(rack: rack) + "ul"
      var ping = ""
      let geneve = try Self.capture(namespace: router, link: "u1", directory: directory) {
        ping = try dpuctl.exec("a1", "ping -c 3 -W 5 172.16.2.10")
      }
      #expect(ping.contains("3 packets received"), "\(ping)")
      #expect(geneve.contains("Geneve"), "\(geneve)")
      #expect(geneve.contains("vni 0x3e9"), "VNI 1001 on the underlay:\n\(geneve)")
      let back = try dpuctl.exec("a2", "ping -c 2 -W 5 172.16.1.10")
      #expect(back.contains("2 packets received"), "\(back)")
      _ = try dpuctl.exec("a2", "iperf3 -s -D -1 && sleep 1")
      let tcp = try dpuctl.exec("a1", "timeout 60 iperf3 -c 172.16.2.10 -t 3 -f k")
      #expect(tcp.contains("receiver"), "\(tcp)")

      // Linux's own geneve device on the underlay, as a VTEP of the VPC.
      let linux = try dpuctl.exec("lx1", "ping -c 3 -W 5 172.16.2.10")
      #expect(linux.contains("3 packets received"), "\(linux)")

      // Another tenant on the same cards, in an overlapping range, reaches
      // neither acme guest; card1 counts the drops.
      let dropsBefore = try dpuctl.drops("card1")
      let isolated = try dpuctl.exec(
        "g1", "ping -c 3 -W 2 172.16.2.10; ping -c 2 -W 2 172.16.1.10", expectStatus: nil)
      #expect(isolated.contains("0 packets received"), "\(isolated)")
      #expect(
        !isolated.contains(" 1 packets received") && !isolated.contains(" 2 packets received")
          && !isolated.contains(" 3 packets received"), "\(isolated)")
      let dropsAfter = try dpuctl.drops("card1")
      #expect(dropsAfter > dropsBefore, "card1's pipeline drops: \(dropsBefore) before, \(dropsAfter) after")

      // The host agent: a1's NIC leaves the running guest (a PCIe
      // hot-unplug the guest's kernel answers; card1 sees the front-end
      // go), is refused to a second guest while in use, and comes back:
      // the guest takes its lease again and reaches a2.
      let slots = try dpuctl.run(["list", "a1", "--output", "json"], group: "guest").output
      #expect(slots.contains("\"function\" : \"a1\""), "\(slots)")
      let twice = try dpuctl.run(["attach", "a2", "--nic", "a1"], group: "guest", expectStatus: 1)
      #expect(twice.output.contains("attached to guest a1"), "\(twice.output)")
      let detached = try dpuctl.run(["detach", "a1", "--nic", "a1"], group: "guest")
      #expect(detached.output.contains("a1: a1 detached"), "\(detached.output)")
      let without = try dpuctl.exec("a1", "ls /sys/class/net")
      #expect(!without.contains("eth0"), "the guest still has its NIC:\n\(without)")
      let freeSlots = try dpuctl.run(["list", "a1"], group: "guest").output
      #expect(!freeSlots.contains(" a1\n"), "\(freeSlots)")
      let cardLog = (try? String(contentsOfFile: stateDirectory + "/logs/card1.log", encoding: .utf8)) ?? ""
      #expect(cardLog.contains("front-end disconnected"), "card1 did not see the front-end go")
      let attached = try dpuctl.run(["attach", "a1", "--nic", "a1"], group: "guest")
      #expect(attached.output.contains("a1: a1 attached on bh-port"), "\(attached.output)")
      let again = try dpuctl.exec(
        "a1",
        "ip link set eth0 up && busybox udhcpc -i eth0 -n -q -t 20 -T 2 -s /tmp/dhcp.sh && ping -c 2 -W 5 172.16.2.10"
      )
      #expect(again.contains("2 packets received"), "\(again)")

      try Self.expectA1sVolumeComesAndGoes(dpuctl: dpuctl, stateDirectory: stateDirectory)

      // A changed topology, applied to the running cards: acme's group no
      // longer lets ICMP in (TCP 5201 still), and its VPC moves to VXLAN.
      let changedFile = directory + "/changed.toml"
      try Self.topology(name: rack) {
        $0.replacingOccurrences(of: "  \"inbound icmp from group:acme-web\",\n", with: "")
          .replacingOccurrences(of: "vni = 1001\nencap = \"geneve\"", with: "vni = 1001\nencap = \"vxlan\"")
      }.write(toFile: changedFile, atomically: true, encoding: .utf8)
      let applied = try dpuctl.run(["apply", changedFile])
      #expect(
        applied.output.contains("card card1: reloaded") && applied.output.contains("card card2: reloaded"),
        "\(applied.output)")
      let blocked = try dpuctl.exec("a1", "ping -c 2 -W 2 172.16.2.10", expectStatus: nil)
      #expect(blocked.contains("0 packets received"), "ICMP is no longer allowed in:\n\(blocked)")
      _ = try dpuctl.exec("a2", "iperf3 -s -D -1 && sleep 1")
      var tcpAgain = ""
      let vxlan = try Self.capture(namespace: router, link: "u1", directory: directory) {
        tcpAgain = try dpuctl.exec("a1", "timeout 60 iperf3 -c 172.16.2.10 -t 2 -f k")
      }
      #expect(tcpAgain.contains("receiver"), "TCP 5201 is still allowed:\n\(tcpAgain)")
      #expect(vxlan.contains("VXLAN") && vxlan.contains("vni 1001"), "\(vxlan)")
      // Linux's vxlan device now, TCP (ICMP is no longer allowed in).
      _ = try dpuctl.exec("lx1", "sh /root/tunnel.sh vxlan")
      _ = try dpuctl.exec("a2", "iperf3 -s -D -1 && sleep 1")
      let linuxTCP = try dpuctl.exec("lx1", "timeout 60 iperf3 -c 172.16.2.10 -t 2 -f k")
      #expect(linuxTCP.contains("receiver"), "\(linuxTCP)")

      // Down leaves nothing: no process, no namespace, no socket.
      let down = try dpuctl.run(["down"])
      #expect(down.output.contains("namespace \(router): deleted"), "\(down.output)")
      try Self.expectNothingLeft(rack: rack, pids: pids, stateDirectory: stateDirectory)
    }

    @Test(.enabled(if: canRun, "needs root and iproute2"), .timeLimit(.minutes(10)))
    func downAfterAKilledUpLeavesNothing() throws {
      let (rack, _, stateDirectory, topologyFile, _) = try Self.newRack(prefix: "k", folder: "rack-killed")
      try Self.topology(name: rack).write(toFile: topologyFile, atomically: true, encoding: .utf8)
      let up = Process()
      up.executableURL = URL(fileURLWithPath: BulkheadVhostUserTests.binary("dpuctl"))
      up.arguments = ["emu", "up", topologyFile, "--state-dir", stateDirectory]
      up.standardOutput = FileHandle.nullDevice
      up.standardError = FileHandle.nullDevice
      try up.run()
      // Kill it once the guests are starting: cards run, QEMUs boot.
      var state: RackState?
      let deadline = Date(timeIntervalSinceNow: 240)
      while Date() < deadline && up.isRunning {
        state = try? RackState.load(from: stateDirectory)
        if state?.parts.contains(where: { $0.kind == "guest" }) == true { break }
        usleep(100_000)
      }
      #expect(up.isRunning, "dpuctl emu up ended before it could be killed")
      kill(up.processIdentifier, SIGKILL)
      up.waitUntilExit()
      state = try RackState.load(from: stateDirectory)
      let pids = state?.parts.map { Int($0.process.pid) } ?? []
      #expect(!pids.isEmpty)
      #expect(
        state?.parts.contains { $0.process.isRunning } == true, "the rack's processes outlive a killed up")
      try Dpuctl(stateDirectory: stateDirectory).run(["down"])
      try Self.expectNothingLeft(rack: rack, pids: pids, stateDirectory: stateDirectory)
    }

    /// The aarch64 firmware, built by Firmware/build.sh (the test script's
    /// self-test step builds it before the guest tests run).
    static var aarch64Card: String { repository + "/.build-aarch64/release/bulkhead-card" }

    /// The same rack with `esp = "aes-gcm-128"`: the cards protect every
    /// underlay packet between them with ESP (transport mode), so the wire
    /// between the cards carries only ESP, while the Linux peer still speaks
    /// clear Geneve to its card (no policy covers it). A rekey (a higher
    /// `esp-generation`, applied make-before-break) under a continuous ping
    /// loses nothing; a wrong key on one card stops traffic and is counted
    /// as authentication failures, the card keeps running, and applying the
    /// topology again heals it.
    @Test(.enabled(if: canRun, "needs root and iproute2"), .timeLimit(.minutes(15)))
    func twoCardsEncryptTheUnderlayWithESP() throws {
      let (rack, directory, stateDirectory, topologyFile, dpuctl) = try Self.newRack(
        prefix: "e", folder: "rack-esp")
      func topology(generation: Int) throws -> String {
        try Self.topology(
          name: rack, rackSettings: ["esp = \"aes-gcm-128\"", "esp-generation = \(generation)"],
          change: Self.withSite)
      }
      try topology(generation: 1).write(toFile: topologyFile, atomically: true, encoding: .utf8)
      defer { _ = try? dpuctl.run(["down"], expectStatus: nil) }
      let up = try dpuctl.run(["up", topologyFile])
      #expect(up.output.contains("guest a2: up, 172.16.2.10"), "\(up.output)")
      // Commands back to back through the agent API (one connection each):
      // none is lost while QEMU takes the next connection.
      let agent = try Rack(stateDirectory: stateDirectory).agent(for: "a1")
      for i in 0..<3 {
        #expect(try agent.run("echo back-to-back \(i)", timeout: 30).output == "back-to-back \(i)\n")
      }
      let keys = try String(contentsOfFile: stateDirectory + "/esp-keys", encoding: .utf8)
      #expect(
        keys.split(separator: "\n").count == 6,
        "one key per direction between the cards, and between each card and the site:\n\(keys)")
      let permissions =
        try FileManager.default.attributesOfItem(atPath: stateDirectory + "/esp-keys")[
          .posixPermissions] as? Int
      #expect(permissions == 0o600)

      // Between the cards: ESP only, with the SPI card2 chose for card1.
      let router = RackPlan.namespacePrefix(rack: rack) + "ul"
      let spi1to2 = EspKeyring.spi(generation: 1, senderIndex: 1, receiverIndex: 2)
      var ping = ""
      let wire = try Self.capture(
        namespace: router, link: "u1", directory: directory, filter: ["ip", "proto", "50", "or", "udp"]
      ) {
        ping = try dpuctl.exec("a1", "ping -c 3 -W 5 172.16.2.10")
      }
      #expect(ping.contains("3 packets received"), "\(ping)")
      #expect(wire.contains("ESP(spi=0x" + String(format: "%08x", spi1to2)), "\(wire)")
      #expect(!wire.contains("Geneve") && !wire.contains("vni"), "clear text between the cards:\n\(wire)")
      let sealed = try dpuctl.run(["counters", "card1"]).output
      #expect((Self.espCounter(sealed, "out spi \(spi1to2)", "packets") ?? 0) >= 3, "\(sealed)")
      let opened = try dpuctl.run(["counters", "card2"]).output
      #expect((Self.espCounter(opened, "in spi \(spi1to2)", "packets") ?? 0) >= 3, "\(opened)")

      // TCP through ESP (the guests' MTU leaves room for it), and the
      // Linux peer's clear Geneve to card2 still works.
      _ = try dpuctl.exec("a2", "iperf3 -s -D -1 && sleep 1")
      let tcp = try dpuctl.exec("a1", "timeout 60 iperf3 -c 172.16.2.10 -t 3 -f m")
      #expect(tcp.contains("receiver"), "\(tcp)")
      print("rack ESP tunnel, iperf3 a1 -> a2 across two cards (TCG guests):\n\(tcp)")
      let linux = try dpuctl.exec("lx1", "ping -c 2 -W 5 172.16.2.10")
      #expect(linux.contains("2 packets received"), "\(linux)")

      try Self.expectSiteTunnels(dpuctl: dpuctl, router: router, directory: directory)

      // Rekey under a continuous flow: nothing lost.
      _ = try dpuctl.exec("a1", "(ping -c 60 -i 0.2 -W 3 172.16.2.10 > /tmp/rekey.txt 2>&1 &) ; sleep 2")
      try topology(generation: 2).write(toFile: topologyFile, atomically: true, encoding: .utf8)
      let rekey = try dpuctl.run(["apply", topologyFile]).output
      #expect(rekey.split(separator: "\n").filter { $0.contains("reloaded") }.count == 6, "\(rekey)")
      var flow = ""
      for _ in 0..<40 where !flow.contains("packet loss") {
        sleep(1)
        flow = try dpuctl.exec("a1", "cat /tmp/rekey.txt", expectStatus: nil)
      }
      #expect(flow.contains("60 packets transmitted, 60 packets received"), "\(flow)")
      let spi1to2New = EspKeyring.spi(generation: 2, senderIndex: 1, receiverIndex: 2)
      let afterRekey = try dpuctl.run(["counters", "card2"]).output
      #expect((Self.espCounter(afterRekey, "in spi \(spi1to2New)", "packets") ?? 0) > 0, "\(afterRekey)")
      #expect(!afterRekey.contains("authentication-failed"), "\(afterRekey)")

      // A wrong key for one SA on card2: traffic stops, the card counts it
      // and keeps running; apply writes the right file back.
      let configuration = stateDirectory + "/cards/card2/card.conf"
      let good = try String(contentsOfFile: configuration, encoding: .utf8)
      let wrong =
        good.split(separator: "\n").map { line -> String in
          guard line.contains("direction=inbound spi=\(spi1to2New) ") else { return String(line) }
          return line.replacingOccurrences(
            of: #"key=[0-9a-f]+"#, with: "key=" + String(repeating: "5a", count: 20),
            options: .regularExpression)
        }.joined(separator: "\n") + "\n"
      #expect(wrong != good)
      try wrong.write(toFile: configuration, atomically: true, encoding: .utf8)
      let reload = try dpuctl.run(["reload", "card2"]).output
      #expect(reload.contains("reloaded"), "\(reload)")
      let broken = try dpuctl.exec("a1", "ping -c 2 -W 2 172.16.2.10", expectStatus: nil)
      #expect(broken.contains("0 packets received"), "\(broken)")
      let failures = try dpuctl.run(["counters", "card2"]).output
      #expect(
        (Self.espCounter(failures, "in spi \(spi1to2New)", "authentication-failed") ?? 0) >= 2, "\(failures)")
      #expect(
        try dpuctl.status().filter { $0["kind"] as? String == "card" && $0["state"] as? String == "running" }
          .count == 2)
      let healed = try dpuctl.run(["apply"]).output
      #expect(healed.contains("card card2: reloaded"), "\(healed)")
      let again = try dpuctl.exec("a1", "ping -c 2 -W 5 172.16.2.10")
      #expect(again.contains("2 packets received"), "\(again)")

      let pids = try dpuctl.status().compactMap { $0["pid"] as? Int }
      try dpuctl.run(["down"])
      try Self.expectNothingLeft(rack: rack, pids: pids, stateDirectory: stateDirectory)
    }

    /// The example plus an outside site, hq (192.168.50.0/24, a Linux
    /// guest with `ip xfrm`), that acme-prod's guests admit ICMP and TCP
    /// 5201 from.
    static func withSite(_ topology: String) -> String {
      topology.replacingOccurrences(
        of: "  \"inbound tcp 5201 from group:acme-web\",\n",
        with: """
            "inbound tcp 5201 from group:acme-web",
            "inbound icmp from 192.168.50.0/24",
            "inbound tcp 5201 from 192.168.50.0/24",

          """)
          + """

          [[site]]
          name = "hq"
          vpc = "acme-prod"
          cidr = "192.168.50.0/24"

          """
    }

    /// Issue 9's interoperability with Linux in the rack: the site hq's
    /// kernel xfrm (`rfc4106(gcm(aes))`, tunnel mode, ESN) and the cards'
    /// tunnels to it. a2 (card2) pings the site and the site's link carries
    /// only ESP with the SPI hq chose for card2; hq pings a1 (card1's own
    /// tunnel) and moves TCP to it; both cards and Linux count the packets.
    static func expectSiteTunnels(dpuctl: Dpuctl, router: String, directory: String) throws {
      let siteIndex = RackPlan.siteSPIIndexBase + 1
      let card2ToSite = EspKeyring.spi(generation: 1, senderIndex: 2, receiverIndex: siteIndex)
      let siteToCard1 = EspKeyring.spi(generation: 1, senderIndex: siteIndex, receiverIndex: 1)
      var ping = ""
      let wire = try capture(
        namespace: router, link: "s1", directory: directory,
        filter: ["ip", "proto", "50", "or", "udp", "or", "icmp"]
      ) {
        ping = try dpuctl.exec("a2", "ping -c 3 -W 5 192.168.50.1")
      }
      #expect(ping.contains("3 packets received"), "a2 -> site hq:\n\(ping)")
      #expect(wire.contains("ESP(spi=0x" + String(format: "%08x", card2ToSite)), "\(wire)")
      #expect(!wire.contains("ICMP") && !wire.contains("Geneve"), "clear text to the site:\n\(wire)")

      let fromSite = try dpuctl.exec("hq", "ping -c 3 -W 5 172.16.1.10")
      #expect(fromSite.contains("3 packets received"), "site hq -> a1:\n\(fromSite)")
      _ = try dpuctl.exec("a1", "iperf3 -s -D -1 && sleep 1")
      let tcp = try dpuctl.exec("hq", "timeout 60 iperf3 -c 172.16.1.10 -t 2 -f m")
      #expect(tcp.contains("receiver"), "\(tcp)")
      print("rack IPsec site tunnel, iperf3 hq (Linux xfrm) -> a1 (card1), TCG guests:\n\(tcp)")

      let card1 = try dpuctl.run(["counters", "card1"]).output
      #expect((espCounter(card1, "in spi \(siteToCard1)", "packets") ?? 0) >= 3, "\(card1)")
      #expect(card1.contains("esp sites 1: not-the-site-vpc 0"), "\(card1)")
      let card2 = try dpuctl.run(["counters", "card2"]).output
      #expect((espCounter(card2, "out spi \(card2ToSite)", "packets") ?? 0) >= 3, "\(card2)")
      // Linux's own view: its SA from card2 opened our packets.
      let states = try dpuctl.exec("hq", "ip -s xfrm state")
      let block = states.components(separatedBy: "\nsrc ").first {
        $0.contains("spi 0x" + String(format: "%08x", card2ToSite))
      }
      let packets = block.flatMap { text in
        text.range(of: #"(\d+)\(bytes\), (\d+)\(packets\)"#, options: .regularExpression).map {
          Int(text[$0].split(separator: " ")[1].prefix { $0.isNumber }) ?? 0
        }
      }
      #expect((packets ?? 0) >= 3, "\(states)")
    }

    /// One counter (`packets`, or a drop reason such as
    /// `authentication-failed`) of the ESP SA whose report line names `sa`
    /// ("esp sa in spi 65794 peer 10.255.1.2: packets 3 bytes 252, …");
    /// nil if the SA or the counter is not in the report.
    static func espCounter(_ counters: String, _ sa: String, _ name: String) -> Int? {
      guard let line = counters.split(separator: "\n").first(where: { $0.contains("esp sa " + sa + " ") }),
        let range = line.range(of: " " + name + " ")
      else { return nil }
      return Int(line[range.upperBound...].prefix { $0.isNumber })
    }

    /// The same rack with both cards running the aarch64 firmware under
    /// qemu-aarch64 (the card's own instruction set) and ESP with
    /// AES-GCM-256 between them: guests of one VPC on the two cards talk
    /// across the underlay, which carries only ESP, and the other tenant's
    /// guest is kept out.
    @Test(
      .enabled(
        if: canRun && FileManager.default.isExecutableFile(atPath: aarch64Card),
        "needs root, iproute2 and the aarch64 firmware (Firmware/build.sh)"),
      .timeLimit(.minutes(15)))
    func twoCardsWithTheAarch64Firmware() throws {
      let (rack, directory, stateDirectory, topologyFile, dpuctl) = try Self.newRack(
        prefix: "a", folder: "rack-aarch64")
      try Self.topology(name: rack, rackSettings: ["esp = \"aes-gcm-256\""])
        .write(toFile: topologyFile, atomically: true, encoding: .utf8)
      defer { _ = try? dpuctl.run(["down"], expectStatus: nil) }

      let up = try dpuctl.run(["up", topologyFile, "--arch", "aarch64"])
      #expect(up.output.contains("guest a1: up, 172.16.1.10"), "\(up.output)")
      #expect(up.output.contains("guest a2: up, 172.16.2.10"), "\(up.output)")
      let parts = try dpuctl.status()
      let cards = parts.filter { $0["kind"] as? String == "card" && $0["state"] as? String == "running" }
      #expect(cards.count == 2, "\(parts)")
      for card in cards {
        let pid = card["pid"] as? Int ?? 0
        let command = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
        #expect(command.contains("qemu-aarch64"), "card pid \(pid) is not the aarch64 firmware: \(command)")
      }

      let router = RackPlan.namespacePrefix(rack: rack) + "ul"
      var ping = ""
      let wire = try Self.capture(
        namespace: router, link: "u1", directory: directory, filter: ["ip", "proto", "50", "or", "udp"]
      ) {
        ping = try dpuctl.exec("a1", "ping -c 3 -W 5 172.16.2.10")
      }
      #expect(ping.contains("3 packets received"), "\(ping)")
      let spi = EspKeyring.spi(generation: 1, senderIndex: 1, receiverIndex: 2)
      #expect(wire.contains("ESP(spi=0x" + String(format: "%08x", spi)), "\(wire)")
      #expect(!wire.contains("Geneve"), "clear text between the cards:\n\(wire)")
      let counters = try dpuctl.run(["counters", "card2"]).output
      #expect((Self.espCounter(counters, "in spi \(spi)", "packets") ?? 0) >= 3, "\(counters)")
      _ = try dpuctl.exec("a2", "iperf3 -s -D -1 && sleep 1")
      let tcp = try dpuctl.exec("a1", "timeout 60 iperf3 -c 172.16.2.10 -t 2 -f k")
      #expect(tcp.contains("receiver"), "\(tcp)")
      let isolated = try dpuctl.exec("g1", "ping -c 2 -W 2 172.16.2.10", expectStatus: nil)
      #expect(isolated.contains("0 packets received"), "\(isolated)")
      #expect(try dpuctl.drops("card1") > 0)

      let pids = parts.compactMap { $0["pid"] as? Int }
      try dpuctl.run(["down"])
      try Self.expectNothingLeft(rack: rack, pids: pids, stateDirectory: stateDirectory)
    }

    /// The example's volume, data1 on card1, which a1 boots with: a 64 MiB
    /// virtio-blk disk in the guest; a pattern written with O_DIRECT reads
    /// back, and the backing file holds only its ciphertext. The host agent
    /// takes the disk out of the running guest (the guest's kernel removes
    /// vda), refuses it to another guest while a1 has it, and plugs it back:
    /// the pattern is still there.
    static func expectA1sVolumeComesAndGoes(dpuctl: Dpuctl, stateDirectory: String) throws {
      let status = try dpuctl.status()
      let volume = status.first { $0["kind"] as? String == "volume" && $0["name"] as? String == "data1" }
      #expect(volume?["state"] as? String == "listening", "\(status)")
      #expect(volume?["card"] as? String == "card1" && volume?["guest"] as? String == "a1", "\(status)")
      #expect(volume?["sizeBytes"] as? Int == 64 << 20, "\(status)")

      let disk = try dpuctl.exec("a1", "cat /sys/block/vda/size /sys/block/vda/serial")
      #expect(disk.hasPrefix("\(64 << 20 / 512)\n") && disk.contains("bulkhead-vol-1"), "\(disk)")
      let marker = "BULKHEAD-RACK-VOLUME-PATTERN"
      let written = try dpuctl.exec(
        "a1",
        "yes \(marker) | head -c 1048576 > /tmp/pattern.bin"
          + " && dd if=/tmp/pattern.bin of=/dev/vda bs=1M seek=3 count=1 oflag=direct conv=fsync 2>/dev/null"
          + " && dd if=/dev/vda of=/tmp/back.bin bs=1M skip=3 count=1 iflag=direct 2>/dev/null"
          + " && cmp /tmp/pattern.bin /tmp/back.bin && sha256sum /tmp/pattern.bin")
      let sum = String(written.prefix(64))
      #expect(sum.count == 64 && sum.allSatisfy(\.isHexDigit), "\(written)")

      // Encrypted at rest: the MiB the guest wrote is in the file, but
      // not the pattern.
      let backing = try Data(contentsOf: URL(fileURLWithPath: stateDirectory + "/volumes/data1.img"))
      #expect(backing.count == 64 << 20)
      let region = backing.subdata(in: (3 << 20)..<(4 << 20))
      let written0 = region.contains { $0 != 0 }
      let clear = backing.range(of: Data(marker.utf8)) != nil
      #expect(written0, "nothing reached the backing file")
      #expect(!clear, "the backing file holds the guest's plaintext")

      // Out of the running guest: vda goes.
      let detached = try dpuctl.run(["detach", "a1", "--volume", "data1"], group: "guest")
      #expect(detached.output.contains("a1: data1 detached"), "\(detached.output)")
      let without = try dpuctl.exec("a1", "ls /sys/block")
      #expect(!without.contains("vda"), "the guest still has its disk:\n\(without)")
      let slots = try dpuctl.run(["list", "a1"], group: "guest").output
      #expect(!slots.contains("data1"), "\(slots)")

      // Back in a1; meanwhile refused to g1 while a1 holds it.
      let attached = try dpuctl.run(["attach", "a1", "--volume", "data1"], group: "guest")
      #expect(attached.output.contains("a1: data1 attached on bh-port"), "\(attached.output)")
      let twice = try dpuctl.run(["attach", "g1", "--volume", "data1"], group: "guest", expectStatus: 1)
      #expect(
        twice.output.contains("volume data1 is attached to guest a1")
          && twice.output.contains("dpuctl guest detach a1 --volume data1"), "\(twice.output)")
      let listed = try dpuctl.run(["list", "a1"], group: "guest").output
      #expect(listed.contains("data1") && listed.contains("volume"), "\(listed)")
      let back = try dpuctl.exec(
        "a1",
        "i=0; while [ ! -e /sys/block/vda ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done;"
          + " dd if=/dev/vda of=/tmp/again.bin bs=1M skip=3 count=1 iflag=direct 2>/dev/null && sha256sum /tmp/again.bin"
      )
      #expect(back.hasPrefix(sum), "the data did not survive detach and attach:\n\(back)")
    }

    static func expectNothingLeft(rack: String, pids: [Int], stateDirectory: String) throws {
      let prefix = RackPlan.namespacePrefix(rack: rack)
      #expect(try NetworkNamespace.existing().filter { $0.hasPrefix(prefix) } == [])
      for pid in pids {
        let stat = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)
        #expect(stat == nil || !stat!.contains(stateDirectory), "pid \(pid) still runs: \(stat ?? "")")
      }
      // Also what no state file names: every process with the rack's mark.
      let marked = DetachedProcess.marked(rack: Rack(stateDirectory: stateDirectory).processMark)
      #expect(marked.isEmpty, "marked processes still run: \(marked.map(\.pid))")
      let sockets =
        FileManager.default.enumerator(atPath: stateDirectory)?.compactMap { $0 as? String }
        .filter { $0.hasSuffix(".sock") } ?? []
      #expect(sockets == [], "sockets left: \(sockets)")
      // Volumes: backing files, the wrapped keys and the cards' KEKs go too.
      let volumeFiles =
        FileManager.default.enumerator(atPath: stateDirectory)?.compactMap { $0 as? String }
        .filter { $0.hasSuffix(".img") || $0.hasSuffix("/kek") || $0 == VolumeKeyring.fileName } ?? []
      #expect(volumeFiles == [], "volume files left: \(volumeFiles)")
    }
  }
}
