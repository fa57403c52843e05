import Foundation
import GRPCCore
import Management
import ProviderAPI

/// The Cards service: provider-admin only. Health fields are filled by the
/// management channel's heartbeats (`CardHealthTracker`), never by callers.
public struct CardsService: Bulkhead_V1_Cards.ServiceProtocol {
  let resources: ResourceService
  let authenticator: Authenticator
  let health: CardHealthTracker
  let board: CardStatusBoard
  /// Monotonic time for the health tracker.
  let now: @Sendable () -> Duration
  var endpoints: CollectionEndpoints<CardRules> {
    CollectionEndpoints(resources: resources, authenticator: authenticator, rules: CardRules())
  }

  public init(
    resources: ResourceService, authenticator: Authenticator, health: CardHealthTracker = CardHealthTracker(),
    board: CardStatusBoard = CardStatusBoard(),
    now: @escaping @Sendable () -> Duration = CardsService.monotonicNow
  ) {
    self.resources = resources
    self.authenticator = authenticator
    self.health = health
    self.board = board
    self.now = now
  }

  public static let monotonicNow: @Sendable () -> Duration = {
    let clock = ContinuousClock()
    let origin = clock.now
    return { clock.now - origin }
  }()

  /// Health, phi, firmware, generations and counters are live figures from the
  /// management channel, not stored state: fill them at read.
  private func withHealth(_ card: Bulkhead_V1_Card) -> Bulkhead_V1_Card {
    var card = card
    let id = CardReconciler.cardID(card.name)
    (card.health, card.phi) = health.health(of: id, at: now())
    if let status = board.status(of: id) {
      card.firmwareVersion = status.firmwareVersion
      card.bootState = status.bootState
      card.capabilities = Capabilities.named.filter { status.capabilities.contains($0.0) }.map(\.1)
      card.desiredGeneration = status.desiredGeneration
      card.appliedGeneration = status.appliedGeneration
      if let last = status.lastHeartbeat { card.lastHeartbeatTime = .init(date: last) }
      card.counters = status.counters
      if let time = status.countersTime { card.countersTime = .init(date: time) }
    }
    return card
  }

  public func registerCard(
    request: ServerRequest<Bulkhead_V1_RegisterCardRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_Card> { try await endpoints.create(request) }

  public func getCard(
    request: ServerRequest<Bulkhead_V1_GetCardRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_Card> {
    try await handle(request, authenticator) { request, principal in
      withHealth(try await resources.get(Bulkhead_V1_Card.self, name: request.name, principal: principal))
    }
  }

  public func listCards(
    request: ServerRequest<Bulkhead_V1_ListCardsRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_ListCardsResponse> {
    try await handle(request, authenticator) { request, principal in
      let page = try await resources.list(
        Bulkhead_V1_Card.self, parent: "", pageSize: request.pageSize, pageToken: request.pageToken,
        principal: principal)
      return .with {
        $0.cards = page.resources.map(withHealth)
        $0.nextPageToken = page.nextPageToken
      }
    }
  }

  public func deregisterCard(
    request: ServerRequest<Bulkhead_V1_DeregisterCardRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_DeleteResponse> { try await endpoints.delete(request) }
}

/// Every service of the provider API, ready to hand to a `GRPCServer`.
/// `reconciler` (when the management channel runs) supplies the cards'
/// health, firmware and generations.
public func providerAPIServices(
  resources: ResourceService, authenticator: Authenticator, reconciler: CardReconciler? = nil
)
  -> [any RegistrableRPCService]
{
  [
    CardsService(
      resources: resources, authenticator: authenticator, health: reconciler?.health ?? CardHealthTracker(),
      board: reconciler?.board ?? CardStatusBoard()),
    TenantsService(resources: resources, authenticator: authenticator),
    VpcsService(resources: resources, authenticator: authenticator),
    SubnetsService(resources: resources, authenticator: authenticator),
    NicsService(resources: resources, authenticator: authenticator),
    SecurityGroupsService(resources: resources, authenticator: authenticator),
    RouteTablesService(resources: resources, authenticator: authenticator),
    VolumesService(
      resources: resources, authenticator: authenticator, storeKey: reconciler?.keyring?.storeKey),
    IpsecTunnelsService(
      resources: resources, authenticator: authenticator, storeKey: reconciler?.keyring?.storeKey),
    GuestAttachmentsService(resources: resources, authenticator: authenticator),
  ]
}
