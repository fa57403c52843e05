import ControlPlaneTestSupport
import Foundation
import Management
import ProviderAPI
import Testing

/// A controller and card agents in one process over real mutual TLS on
/// loopback; resources are made through the gRPC provider API.
@Suite(.serialized) struct ConvergenceTests {
  @Test func everyAffectedCardReachesTheNewGeneration() async throws {
    let world = try ChannelHarness()
    try await world.startController()
    for (index, name) in ["c1", "c2", "c3"].enumerated() {
      try await world.api.registerCard(name, underlay: "192.0.2.\(index + 1)")
    }
    let cards = try ["c1", "c2", "c3"].map { try world.startCard($0) }
    try await world.api.tenantWithSubnet("acme")
    try await world.api.createNic(tenant: "acme", index: 1, card: "c1")
    try await world.api.createNic(tenant: "acme", index: 2, card: "c2")

    let converged = await eventually {
      world.converged(cards) && cards[0].log.last?.nics.count == 1 && cards[1].log.last?.nics.count == 1
    }
    #expect(converged)
    // c1 runs its NIC and knows where c2's NIC lives; c3 has nothing.
    let c1 = try #require(cards[0].log.last)
    #expect(c1.mappings.map(\.underlayAddress) == [.host([192, 0, 2, 2])])
    #expect(cards[2].log.last?.nics.isEmpty ?? true)
    // The API shows what the cards reported.
    let shown = try await world.api.card("c1")
    #expect(shown.firmwareVersion == "test-1.0")
    #expect(shown.appliedGeneration == shown.desiredGeneration)
    #expect(shown.appliedGeneration == c1.generation)
    #expect(shown.health == .healthy)
    await world.tearDown()
  }

  @Test func controllerRestartKeepsCardStateAndReconverges() async throws {
    let world = try ChannelHarness()
    try await world.startController()
    try await world.api.registerCard("c1", underlay: "192.0.2.1")
    try await world.api.registerCard("c2", underlay: "192.0.2.2")
    let cards = try ["c1", "c2"].map { try world.startCard($0) }
    try await world.api.tenantWithSubnet("acme")
    try await world.api.createNic(tenant: "acme", index: 1, card: "c1")
    #expect(await eventually { world.converged(cards) && cards[0].log.last?.nics.count == 1 })
    let before = cards.map(\.appliedGeneration)
    let applies = cards.map { $0.log.all.count }

    let port = world.controller.channel.port
    await world.controller.stop()
    // Without a controller the cards keep what they run.
    #expect(cards.map(\.appliedGeneration) == before)
    #expect(cards[0].log.last?.nics.count == 1)
    #expect(cards.map { $0.log.all.count } == applies)

    try await world.startController(port: port)
    try await world.api.createNic(tenant: "acme", index: 2, card: "c2")
    #expect(
      await eventually {
        world.converged(cards) && cards[1].log.last?.nics.count == 1 && cards[0].log.last?.mappings.count == 1
      })
    #expect(zip(cards.map(\.appliedGeneration), before).allSatisfy { $0 > $1 })
    await world.tearDown()
  }

  @Test func cardRestartingWithoutControllerComesBackWithItsState() async throws {
    let world = try ChannelHarness()
    try await world.startController()
    try await world.api.registerCard("c1", underlay: "192.0.2.1")
    let card = try world.startCard("c1")
    try await world.api.tenantWithSubnet("acme")
    try await world.api.createNic(tenant: "acme", index: 1, card: "c1")
    #expect(await eventually { world.converged([card]) && card.log.last?.nics.count == 1 })
    let running = try #require(card.log.last)

    await world.controller.stop()
    card.stop()
    world.cards.removeAll()
    // The card reboots: no controller to ask, only its state file.
    let rebooted = try world.startCard("c1")
    #expect(rebooted.log.all.first == running)
    #expect(rebooted.appliedGeneration == running.generation)
    await world.tearDown()
  }

  @Test func aRefusedGenerationIsReportedAndPushedAgain() async throws {
    let world = try ChannelHarness()
    try await world.startController()
    try await world.api.registerCard("c1", underlay: "192.0.2.1")
    let card = try world.startCard("c1")
    try await world.api.tenantWithSubnet("acme")
    #expect(await eventually { world.converged([card]) })
    let before = card.appliedGeneration

    card.log.isRefusing = true
    try await world.api.createNic(tenant: "acme", index: 1, card: "c1")
    // The card says why; the old generation stays in force.
    #expect(await eventually { world.controller.reconciler.board.status(of: "c1")?.lastError != nil })
    let status = try #require(world.controller.reconciler.board.status(of: "c1"))
    #expect(status.lastError == "flow table full (test)")
    #expect(status.appliedGeneration == before)
    #expect(card.appliedGeneration == before)
    #expect(card.agent.counters.applyFailures.load(ordering: .relaxed) >= 1)

    // Once the card can take it, the reconciler's retry gets it there.
    card.log.isRefusing = false
    #expect(await eventually { world.converged([card]) && card.log.last?.nics.count == 1 })
    #expect(world.controller.reconciler.board.status(of: "c1")?.lastError == nil)
    await world.tearDown()
  }
}
