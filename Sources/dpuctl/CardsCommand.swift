import ArgumentParser
import Foundation
import ProviderAPI

struct CardsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cards", abstract: "Register, list, show and deregister cards (provider-admin).",
    subcommands: [Register.self, List.self, Show.self, Deregister.self])

  static var columns: [(String, (Bulkhead_V1_Card) -> String)] {
    [
      ("name", \.name), ("host", \.host), ("underlay", \.underlayIp), ("serial", \.serialNumber),
      ("health", { health($0.health) }),
      ("phi", { String(format: "%.1f", $0.phi) }), ("firmware", \.firmwareVersion),
      ("generation", { "\($0.appliedGeneration)/\($0.desiredGeneration)" }),
      ("boot", { $0.bootState.isEmpty ? "-" : $0.bootState }),
    ]
  }

  /// `cards list` adds what each card's data plane has done (`cards show`
  /// prints every counter in a section of its own).
  static var listColumns: [(String, (Bulkhead_V1_Card) -> String)] {
    columns + [
      ("rx-pkts", { counter($0, "rx-packets") }), ("tx-pkts", { counter($0, "tx-packets") }),
      ("drops", { counter($0, "pipeline-drops", "port-drops") }),
    ]
  }

  /// The sum of the named counters, "-" before the card's first heartbeat
  /// with counters.
  static func counter(_ card: Bulkhead_V1_Card, _ names: String...) -> String {
    guard !card.counters.isEmpty else { return "-" }
    return String(names.reduce(UInt64(0)) { $0 &+ (card.counters[$1] ?? 0) })
  }

  /// The order the card's counter table numbers them (the API's comment on
  /// `Card.counters`); names a newer card adds follow, sorted.
  static let counterOrder = [
    "rx-packets", "tx-packets", "rx-bytes", "tx-bytes", "pipeline-drops", "port-drops", "volume-reads",
    "volume-writes", "volume-errors",
  ]

  /// The counters section `cards show` prints under the card's fields.
  static func printCounters(_ card: Bulkhead_V1_Card) {
    print("")
    guard !card.counters.isEmpty else {
      print("COUNTERS  none yet (no heartbeat with counters)")
      return
    }
    let known = counterOrder.filter { card.counters[$0] != nil }
    let others = card.counters.keys.filter { !counterOrder.contains($0) }.sorted()
    let time =
      card.hasCountersTime
      ? " (heartbeat of " + ISO8601DateFormatter().string(from: card.countersTime.date) + ")" : ""
    print("COUNTERS" + time)
    Printer.table(
      headers: ["COUNTER", "VALUE"], rows: (known + others).map { [$0, String(card.counters[$0] ?? 0)] })
  }

  static func health(_ health: Bulkhead_V1_CardHealth) -> String {
    switch health {
    case .pending: return "pending"
    case .healthy: return "healthy"
    case .suspect: return "suspect"
    case .unreachable: return "unreachable"
    default: return "unknown"
    }
  }

  struct Register: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Register a card.",
      discussion:
        "Example: dpuctl cards register rack1-slot3 --serial MT2231X01234 --host host-17 --underlay-ip 192.0.2.17"
    )
    @Argument(help: "Card id.") var id: String
    @Option(help: "Serial number.") var serial = ""
    @Option(help: "The server the card sits in.") var host = ""
    @Option(help: "The card's underlay (VTEP) address.") var underlayIp = ""
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_RegisterCardRequest.with {
        $0.cardID = id
        $0.card.serialNumber = serial
        $0.card.host = host
        $0.card.underlayIp = underlayIp
        $0.requestID = options.resolvedRequestID
      }
      let card = try await options.run { client in
        try await client.call(.idempotentWithRequestID) {
          try await client.cards.registerCard(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).show(card, columns: CardsCommand.columns)
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List cards with their health.")
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let page = try await options.run { client in
        try await client.call(.safe) { try await client.cards.listCards(.init(), metadata: $0, options: $1) }
      }
      try Printer(format: options.output).list(
        page.cards, nextPageToken: page.nextPageToken, columns: CardsCommand.listColumns)
    }
  }

  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show a card: health, phi, firmware, generations and its data-plane counters.")
    @Argument(help: "Card id.") var id: String
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_GetCardRequest.with { $0.name = Names.card(id) }
      let card = try await options.run { client in
        try await client.call(.safe) { try await client.cards.getCard(request, metadata: $0, options: $1) }
      }
      try Printer(format: options.output).show(card, columns: CardsCommand.columns)
      if options.output == .table { CardsCommand.printCounters(card) }
    }
  }

  struct Deregister: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Deregister a card that serves no NIC.")
    @Argument(help: "Card id.") var id: String
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_DeregisterCardRequest.with {
        $0.name = Names.card(id)
        $0.requestID = options.resolvedRequestID
      }
      let response = try await options.run { client in
        try await client.call(.idempotentWithRequestID) {
          try await client.cards.deregisterCard(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).deleted(response)
    }
  }
}
