import Foundation
import Testing

/// Real `bulkhead-controller` and real `bulkhead-card` processes, driven
/// only through `dpuctl`: the cards enrol with their certificates, apply
/// the slices the controller pushes, report the generation, survive the
/// controller's crash and their own restart without it, and a card whose
/// certificate another CA issued is refused.
@Suite(.serialized) struct CardFirmwareAgainstControllerTests {
  @Test func cardsFollowTheControllerThroughCrashesAndCutoffs() async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cards-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let pki = folder.appendingPathComponent("pki").path
    let rogue = folder.appendingPathComponent("rogue-pki").path
    try makeProviderPKI(pki, cards: ["c1", "c2"])
    // The same card name, but from a CA the controller does not trust.
    try makeProviderPKI(rogue, cards: ["c3"], controller: false)
    let store = folder.appendingPathComponent("controller")
    var controller = try await RunningController(vniRange: "100-200", pki: pki, directory: store)
    let port = try #require(controller.managementPort)
    var at = "unix:\(controller.socket)"
    func run(_ arguments: String...) throws -> Invocation {
      let invocation = try dpuctl(arguments, controller: at)
      #expect(invocation.status == 0, "dpuctl \(arguments.joined(separator: " ")): \(invocation.errorOutput)")
      return invocation
    }
    for (card, ip) in [("c1", "192.0.2.1"), ("c2", "192.0.2.2"), ("c3", "192.0.2.3")] {
      _ = try run("cards", "register", card, "--underlay-ip", ip)
    }
    func linked(_ card: String, pki: String) -> [String] {
      ["--controller", "127.0.0.1:\(port)", "--pki-dir", pki, "--card-name", card, "--heartbeat-ms", "100"]
    }
    let cardFolder = folder.appendingPathComponent("cards")
    var c1 = try RunningCard(
      name: "c1", underlay: "192.0.2.1", folder: cardFolder, arguments: linked("c1", pki: pki))
    // c2 booted its previous slot after a new image failed to confirm.
    let fellBack = "slot=A fell-back-from=B version=2.0.0 reason=not-confirmed"
    let c2 = try RunningCard(
      name: "c2", underlay: "192.0.2.2", folder: cardFolder, arguments: linked("c2", pki: pki),
      bootState: fellBack)
    let c3 = try RunningCard(
      name: "c3", underlay: "192.0.2.3", folder: cardFolder, arguments: linked("c3", pki: rogue))
    defer {
      for card in [c1, c2, c3] { card.stop() }
      controller.stop()
    }

    _ = try run("tenants", "create", "acme")
    _ = try run("vpcs", "create", "blue", "--tenant", "acme", "--cidr", "10.0.0.0/16")
    _ = try run("subnets", "create", "web", "--tenant", "acme", "--vpc", "blue", "--cidr", "10.0.1.0/24")
    _ = try run("subnets", "create", "db", "--tenant", "acme", "--vpc", "blue", "--cidr", "10.0.2.0/24")
    _ = try run(
      "security-groups", "create", "web-sg", "--tenant", "acme", "--vpc", "blue", "--rule",
      "ingress:tcp:443:0.0.0.0/0", "--rule", "ingress:icmp:all:10.0.0.0/16")
    _ = try run(
      "nics", "create", "web-1", "--tenant", "acme", "--subnet", "blue/web", "--mac", "02:00:00:00:01:05",
      "--ip",
      "10.0.1.5", "--security-group", "blue/web-sg", "--card", "c1")
    _ = try run(
      "nics", "create", "db-1", "--tenant", "acme", "--subnet", "blue/db", "--mac", "02:00:00:00:02:05",
      "--ip",
      "10.0.2.5", "--card", "c2")

    // Each card applies its slice: its NIC, the VPC, the group, a mapping
    // to the other card's NIC; and reports the generation.
    // c1 and c2 serve one VPC: the controller keyed the pair, an inbound
    // and an outbound SA each.
    #expect(
      c1.line(containing: "in force: 1 NICs, 1 VPCs, 1 security groups, 1 mappings, 2 ESP SAs") != nil,
      "\(c1.output)")
    #expect(
      c2.line(containing: "in force: 1 NICs, 1 VPCs, 0 security groups, 1 mappings, 2 ESP SAs") != nil,
      "\(c2.output)")
    var generation = try await converged("c1", "c2", controller: at)
    #expect(c1.line(containing: "generation \(generation["c1"]!) in force: 1 NICs") != nil, "\(c1.output)")
    #expect(c2.line(containing: "generation \(generation["c2"]!) in force: 1 NICs") != nil, "\(c2.output)")
    let shown = try run("cards", "show", "c1", "-o", "json").object
    #expect(shown["firmwareVersion"] as? String == "test-c1")
    #expect(shown["health"] as? String == "CARD_HEALTH_HEALTHY")
    #expect(try run("cards", "show", "c2", "-o", "json").object["bootState"] as? String == fellBack)
    let table = try run("cards", "list").output
    #expect(table.contains("test-c2") && table.contains("fell-back-from=B"))

    // The card with a certificate from another CA was never let in (by
    // now it has tried several times: its backoff starts at 100 ms).
    let refused = try run("cards", "show", "c3", "-o", "json").object
    #expect(refused["health"] as? String == "CARD_HEALTH_PENDING")
    #expect((refused["firmwareVersion"] as? String ?? "").isEmpty)
    #expect(c3.isRunning)
    #expect(c3.line(containing: "in force", within: 0) == nil)

    // The controller dies right after a change, before (or while) it is
    // pushed; restarted over the same store it converges.
    _ = try run(
      "nics", "create", "web-2", "--tenant", "acme", "--subnet", "blue/web", "--mac", "02:00:00:00:01:06",
      "--ip",
      "10.0.1.6", "--card", "c1")
    controller.kill()
    controller = try await RunningController(
      vniRange: "100-200", pki: pki, directory: store, listenPort: port)
    at = "unix:\(controller.socket)"
    #expect(
      c1.line(containing: "in force: 2 NICs, 1 VPCs, 1 security groups, 1 mappings") != nil, "\(c1.output)")
    #expect(
      c2.line(containing: "in force: 1 NICs, 1 VPCs, 0 security groups, 2 mappings") != nil, "\(c2.output)")
    generation = try await converged("c1", "c2", controller: at)
    #expect(c1.line(containing: "generation \(generation["c1"]!) in force: 2 NICs") != nil, "\(c1.output)")

    // Cut off: the controller is gone. The card keeps running; restarted
    // without a controller it comes back with the state it last applied.
    controller.kill()
    #expect(c1.isRunning && c2.isRunning)
    c1.stop()
    // Its PKI folder (no controller) holds the key-encryption key its
    // restored SAs need.
    let alone = try RunningCard(
      name: "c1", underlay: "192.0.2.1", folder: cardFolder,
      arguments: ["--pki-dir", pki, "--card-name", "c1"])
    #expect(
      alone.line(containing: "no controller: restored generation \(generation["c1"]!)") != nil,
      "\(alone.output)")
    #expect(
      alone.line(containing: "generation \(generation["c1"]!) in force: 2 NICs", "2 ESP SAs") != nil,
      "\(alone.output)")
    alone.stop()

    // The link returns (the card first, retrying; then the controller) and
    // a change made since reaches the card.
    c1 = try RunningCard(
      name: "c1", underlay: "192.0.2.1", folder: cardFolder, arguments: linked("c1", pki: pki))
    #expect(c1.line(containing: "restored generation \(generation["c1"]!)") != nil, "\(c1.output)")
    controller = try await RunningController(
      vniRange: "100-200", pki: pki, directory: store, listenPort: port)
    at = "unix:\(controller.socket)"
    let (mark1, mark2) = (c1.mark, c2.mark)
    _ = try run("nics", "delete", "web-2", "--tenant", "acme")
    #expect(
      c2.line(containing: "in force: 1 NICs, 1 VPCs, 0 security groups, 1 mappings", after: mark2) != nil,
      "\(c2.output)")
    #expect(
      c1.line(containing: "in force: 1 NICs, 1 VPCs, 1 security groups, 1 mappings", after: mark1) != nil,
      "\(c1.output)")
    generation = try await converged("c1", "c2", controller: at)
    #expect(c1.line(containing: "generation \(generation["c1"]!) in force: 1 NICs") != nil, "\(c1.output)")
  }

  /// Waits (polling `dpuctl cards show`, the only view a script has) until
  /// every card reports applied == desired; the generations.
  func converged(_ cards: String..., controller: String) async throws -> [String: UInt64] {
    var result: [String: UInt64] = [:]
    let clock = ContinuousClock()
    let deadline = clock.now + .seconds(30)
    while clock.now < deadline {
      result = [:]
      for card in cards {
        let shown = try dpuctl(["cards", "show", card, "-o", "json"], controller: controller).object
        guard let desired = (shown["desiredGeneration"] as? String).flatMap({ UInt64($0) }), desired > 0,
          shown["appliedGeneration"] as? String == String(desired)
        else { break }
        result[card] = desired
      }
      if result.count == cards.count { return result }
      try await Task.sleep(for: .milliseconds(100))
    }
    Issue.record("cards \(cards) did not converge")
    throw NotConverged()
  }

  struct NotConverged: Error {}
}
