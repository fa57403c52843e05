import CardAgent
import ControlPlaneTestSupport
import Controller
import Foundation
import Management
import ProviderAPI
import Testing

/// The card's data-plane counters from its heartbeats to the provider API.
@Suite(.serialized) struct HeartbeatCountersTests {
  @Test func getCardShowsTheLatestHeartbeatsCounters() async throws {
    let world = try ChannelHarness()
    try await world.startController()
    try await world.api.registerCard("c1", underlay: "192.0.2.1")
    let card = try world.startCard("c1")
    let board = card.agent.dataPlaneCounters
    // Nothing published yet: heartbeats carry no counters and the API shows none.
    #expect(await eventually { world.controller.reconciler.board.status(of: "c1")?.lastHeartbeat != nil })
    #expect(try await world.api.card("c1").counters.isEmpty)

    for counter in CardCounter.allCases { board.store(counter, UInt64(counter.rawValue) * 1000) }
    board.markPublished()
    #expect(
      await eventually {
        world.controller.reconciler.board.status(of: "c1")?.counters["volume-errors"] == 9000
      })
    let shown = try await world.api.card("c1")
    #expect(shown.counters.count == CardCounter.allCases.count)
    #expect(shown.counters["rx-packets"] == 1000)
    #expect(shown.counters["tx-packets"] == 2000)
    #expect(shown.counters["pipeline-drops"] == 5000)
    #expect(shown.hasCountersTime)

    // Totals move on; a later heartbeat replaces them.
    board.store(.rxPackets, 1234)
    #expect(
      await eventually { world.controller.reconciler.board.status(of: "c1")?.counters["rx-packets"] == 1234 })
    #expect(try await world.api.card("c1").counters["rx-packets"] == 1234)
    await world.tearDown()
  }

  @Test func unknownIDsAreKeptByNumberAndAnEmptyHeartbeatKeepsTheLast() {
    var status = CardChannelStatus()
    let first = Date(timeIntervalSince1970: 1_000)
    status.record([.init(id: CardCounter.txPackets.rawValue, value: 7), .init(id: 300, value: 9)], at: first)
    #expect(status.counters == ["tx-packets": 7, "counter-300": 9])
    #expect(status.countersTime == first)
    status.record([], at: Date(timeIntervalSince1970: 2_000))
    #expect(status.counters == ["tx-packets": 7, "counter-300": 9])
    #expect(status.countersTime == first)
  }
}
