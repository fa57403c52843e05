import CardAgent
import CardTLS
import Foundation
import Management
import Testing

/// The controller process with its management channel on: certificates
/// made by `dpuctl pki`, a card agent connecting over mutual TLS, and what
/// the card reported visible through `dpuctl cards show`.
@Suite(.serialized) struct ManagementChannelThroughDpuctlTests {
  /// Applies nothing: the firmware's run loop stands here.
  struct AcceptingTarget: DesiredStateTarget {
    mutating func apply(_ state: DesiredState) throws(ApplyFailure) {}
  }

  @Test func cardsShowFirmwareAndAppliedGeneration() async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pki-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let pki = folder.appendingPathComponent("pki").path
    try makeProviderPKI(pki, cards: ["c1"])
    let again = try dpuctl(["pki", "init", "--dir", pki], controller: "unix:/nonexistent")
    #expect(again.status == 1)
    #expect(again.errorOutput.contains("already exists"))

    let controller = try await RunningController(vniRange: "100-200", pki: pki)
    defer { controller.stop() }
    let port = try #require(controller.managementPort)
    let at = "unix:\(controller.socket)"
    func run(_ arguments: String...) throws -> Invocation { try dpuctl(arguments, controller: at) }
    #expect(try run("cards", "register", "c1", "--underlay-ip", "192.0.2.1").status == 0)

    let context = try TLSContext(
      role: .client, certificateAuthorityPath: pki + "/ca.crt", certificatePath: pki + "/cards/c1.crt",
      privateKeyPath: pki + "/cards/c1.key")
    let agent = try CardAgent(
      configuration: CardAgentConfiguration(
        cardName: "c1", firmwareVersion: "it-1.2", controllerHost: "127.0.0.1", controllerPort: port,
        stateFilePath: folder.appendingPathComponent("c1.state").path, heartbeatIntervalMilliseconds: 100,
        backoffInitialMilliseconds: 20, backoffMaximumMilliseconds: 200),
      context: context, target: AcceptingTarget())
    let done = DispatchSemaphore(value: 0)
    Thread.detachNewThread {
      agent.run()
      done.signal()
    }
    defer {
      agent.stop()
      done.wait()
    }

    #expect(try run("tenants", "create", "acme").status == 0)
    #expect(try run("vpcs", "create", "blue", "--tenant", "acme", "--cidr", "10.0.0.0/16").status == 0)
    #expect(
      try run("subnets", "create", "web", "--tenant", "acme", "--vpc", "blue", "--cidr", "10.0.1.0/24").status
        == 0)
    let nic = try run(
      "nics", "create", "web-1", "--tenant", "acme", "--subnet", "blue/web", "--mac", "02:00:00:00:01:05",
      "--ip",
      "10.0.1.5", "--card", "c1")
    #expect(nic.status == 0, "\(nic.errorOutput)")

    // Converged: the card applied the generation that holds its NIC.
    var shown: [String: Any] = [:]
    let clock = ContinuousClock()
    let deadline = clock.now + .seconds(20)
    while clock.now < deadline {
      shown = try run("cards", "show", "c1", "-o", "json").object
      let desired = shown["desiredGeneration"] as? String
      if desired != nil, desired == shown["appliedGeneration"] as? String,
        agent.appliedGeneration.load(ordering: .acquiring) == UInt64(desired ?? "") ?? 0,
        agent.counters.generationsApplied.load(ordering: .relaxed) >= 1
      {
        break
      }
      try await Task.sleep(for: .milliseconds(50))
    }
    #expect(shown["firmwareVersion"] as? String == "it-1.2")
    #expect(shown["health"] as? String == "CARD_HEALTH_HEALTHY")
    #expect(shown["appliedGeneration"] as? String == shown["desiredGeneration"] as? String)
    #expect(agent.appliedGeneration.load(ordering: .acquiring) > 0)

    // The data plane's totals (the firmware's run loop stores them) reach
    // the provider with the next heartbeat: a COUNTERS table in `cards
    // show`, packet and drop columns in `cards list`.
    agent.dataPlaneCounters.store(.rxPackets, 4242)
    agent.dataPlaneCounters.store(.pipelineDrops, 3)
    agent.dataPlaneCounters.store(.portDrops, 4)
    agent.dataPlaneCounters.markPublished()
    /// The lines of `text`, each as its words (tables pad with spaces).
    func rows(_ text: String) -> [[Substring]] {
      text.split(separator: "\n").map { $0.split(separator: " ") }
    }
    var table = ""
    // Heartbeats go every second; the deadline only bounds a hang (on a
    // loaded machine running the whole suite, 10 s was once too short).
    let countersDeadline = clock.now + .seconds(60)
    while clock.now < countersDeadline {
      table = try run("cards", "show", "c1").output
      if rows(table).contains(["rx-packets", "4242"]) { break }
      try await Task.sleep(for: .milliseconds(50))
    }
    #expect(table.contains("COUNTERS (heartbeat of "), "\(table)")
    #expect(
      rows(table).contains(["rx-packets", "4242"]) && rows(table).contains(["volume-errors", "0"]), "\(table)"
    )
    // RX-PKTS, TX-PKTS, DROPS (pipeline and port) close each row.
    let listed = rows(try run("cards", "list").output)
    #expect(listed.first?.suffix(3) == ["RX-PKTS", "TX-PKTS", "DROPS"], "\(listed)")
    #expect(listed.last?.suffix(3) == ["4242", "0", "7"], "\(listed)")
  }
}
