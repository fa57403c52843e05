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
        page.cards, nextPageToken: page.nextPageToken, columns: CardsCommand.columns)
    }
  }

  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show a card: health, phi, firmware, generations.")
    @Argument(help: "Card id.") var id: String
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_GetCardRequest.with { $0.name = Names.card(id) }
      let card = try await options.run { client in
        try await client.call(.safe) { try await client.cards.getCard(request, metadata: $0, options: $1) }
      }
      try Printer(format: options.output).show(card, columns: CardsCommand.columns)
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
