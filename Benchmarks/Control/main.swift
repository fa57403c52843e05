// bench-control: how long from one provider-API write until every card
// runs the new generation. A controller (gRPC API on a unix socket, SQLite
// store, reconciler, management channel) and N cards run in this process,
// each with its own mutual-TLS 1.3 connection over loopback. Two kinds of
// card: full agents (`SimulatedCard`: a thread and an fsync'd state file
// each), used up to 100 cards, and simulated endpoints sharing four threads
// (`SimulatedCardFleet`: Hello, Heartbeats, Applied; no state file) above
// that, so that 1000 cards measure the controller, not 2000 threads.
//
//   swift run -c release bench-control [--cards=10,100,1000] [--writes=N]
//     [--fleet-above=100]
//
// Setup: one tenant, VPC and subnet; one NIC per card, so every card's
// slice holds a mapping for every other card's NIC. Each measured write
// creates one more NIC (through the gRPC API), which changes every card's
// slice. Reported per N: the API write's latency, the reconciler's pass
// (read the store once, build N slices), and the time from the write's
// start until each card / the last card reported Applied (p50, p99).
import ControlPlaneTestSupport
import Foundation
import ProviderPKI

let argumentCards = CommandLine.arguments.first { $0.hasPrefix("--cards=") }.map {
  $0.dropFirst(8).split(separator: ",").compactMap { Int($0) }
}
let cardCounts = argumentCards ?? [10, 100, 1000]
let fleetAbove =
  CommandLine.arguments.first { $0.hasPrefix("--fleet-above=") }.flatMap { Int($0.dropFirst(14)) } ?? 100
let writeCount =
  CommandLine.arguments.first { $0.hasPrefix("--writes=") }.flatMap { Int($0.dropFirst(9)) } ?? 30

print(
  "bench-control: \(ProcessInfo.processInfo.activeProcessorCount) cores; \(writeCount) writes per size after \(Measurement.warmUp) warm-up"
)
print(
  "cards | kind | write ms p50 | reconcile pass ms p50 | each card applied ms p50 / p99 | all cards applied ms p50 / p99 / max"
)
for count in cardCounts {
  print(try await Measurement(count: count, writes: writeCount).run())
}

/// One size: a controller and `count` cards, `writes` measured writes.
struct Measurement {
  static let warmUp = 3
  let count: Int
  let writes: Int

  func run() async throws -> String {
    let clock = ContinuousClock()
    let warmUp = Self.warmUp
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "bench-control-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let authority = ProviderCertificateAuthority(folder: folder.appendingPathComponent("pki"))
    try authority.initialize()
    try authority.issueController()
    let controller = try InProcessController(
      databasePath: folder.appendingPathComponent("state.sqlite").path, authority: authority,
      apiSocket: folder.appendingPathComponent("api.sock").path)
    try await controller.start()
    let api = ProviderAPICalls(socket: controller.apiSocket)
    try await api.tenantWithSubnet("acme")
    // The network first, then the cards: each card starts from its full
    // slice instead of following every setup write.
    for index in 0..<count {
      try await api.registerCard("card-\(index)", underlay: "192.0.\(2 + index / 250).\(index % 250 + 1)")
      try await api.createNic(tenant: "acme", index: index, card: "card-\(index)")
    }
    let names = (0..<count).map { "card-\($0)" }
    let cards: any CardGroup =
      count > fleetAbove
      ? try SimulatedCardFleet(
        names: names, authority: authority, controllerPort: controller.channel.port,
        heartbeatMilliseconds: 1_000)
      : try AgentGroup(
        names: names, authority: authority, controllerPort: controller.channel.port,
        folder: folder.appendingPathComponent("cards"))
    cards.start()
    func converged() -> Bool {
      zip(names, cards.appliedGenerations).allSatisfy { name, applied in
        guard let status = controller.reconciler.board.status(of: name) else { return false }
        return status.desiredGeneration > 0 && applied == status.desiredGeneration
      }
    }
    guard await eventually(timeout: .seconds(600), converged) else {
      return "\(count) | \(cards.kind) | setup did not converge"
    }

    var writeTimes: [Double] = []
    var eachCard: [Double] = []
    var allCards: [Double] = []
    for iteration in 0..<(warmUp + writes) {
      let before = cards.appliedGenerations
      var reached = [Double?](repeating: nil, count: count)
      let start = clock.now
      try await api.createNic(tenant: "acme", index: count + iteration, card: names[iteration % count])
      let written = clock.now - start
      // Poll the cards' applied generations (atomics) until all moved.
      while reached.contains(where: { $0 == nil }) {
        for (index, applied) in cards.appliedGenerations.enumerated()
        where reached[index] == nil && applied > before[index] {
          reached[index] = milliseconds(clock.now - start)
        }
        if clock.now - start > .seconds(120) { break }
        try await Task.sleep(for: .microseconds(100))
      }
      guard iteration >= warmUp else { continue }
      let times = reached.compactMap { $0 }
      writeTimes.append(milliseconds(written))
      eachCard += times
      allCards.append(times.count == count ? times.max()! : .infinity)
    }

    // The reconciler's own share: one pass over a changed store.
    var passes: [Double] = []
    for _ in 0..<5 {
      let start = clock.now
      try await controller.reconciler.rebuildAll()
      passes.append(milliseconds(clock.now - start))
    }
    let result =
      ("\(count) | \(cards.kind) | \(format(percentile(writeTimes, 0.5))) | \(format(percentile(passes, 0.5))) | "
        + "\(format(percentile(eachCard, 0.5))) / \(format(percentile(eachCard, 0.99))) | "
        + "\(format(percentile(allCards, 0.5))) / \(format(percentile(allCards, 0.99))) / \(format(allCards.max() ?? .nan))")
    cards.stop()
    await controller.stop()
    return result
  }
}

func percentile(_ values: [Double], _ p: Double) -> Double {
  let sorted = values.sorted()
  guard !sorted.isEmpty else { return .nan }
  return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

func milliseconds(_ duration: Duration) -> Double {
  Double(duration.components.seconds) * 1e3 + Double(duration.components.attoseconds) / 1e15
}

func format(_ value: Double) -> String { String(format: "%.2f", value) }

/// The cards of one measurement: full agents or shared-thread endpoints.
protocol CardGroup {
  var kind: String { get }
  var appliedGenerations: [UInt64] { get }
  func start()
  func stop()
}

extension SimulatedCardFleet: CardGroup {
  var kind: String { "endpoints" }
}

/// Full card agents, a thread and a state file each.
struct AgentGroup: CardGroup {
  let cards: [SimulatedCard]
  var kind: String { "agents" }

  init(names: [String], authority: ProviderCertificateAuthority, controllerPort: UInt16, folder: URL) throws {
    cards = try names.map {
      try SimulatedCard(
        name: $0, authority: authority, controllerPort: controllerPort, folder: folder,
        heartbeatMilliseconds: 1_000)
    }
  }

  var appliedGenerations: [UInt64] { cards.map(\.appliedGeneration) }
  func start() { for card in cards { card.start() } }
  func stop() { for card in cards { card.stop() } }
}
