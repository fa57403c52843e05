import CardTLS
import ControlPlaneTestSupport
import Foundation
import ProviderPKI

/// One test's world: a PKI, a database file, a controller, and cards.
final class ChannelHarness: @unchecked Sendable {
  let folder = FileManager.default.temporaryDirectory.appendingPathComponent("channel-\(UUID().uuidString)")
  let authority: ProviderCertificateAuthority
  var controller: InProcessController!
  var cards: [SimulatedCard] = []
  var api: ProviderAPICalls { ProviderAPICalls(socket: controller.apiSocket) }

  init() throws {
    authority = ProviderCertificateAuthority(folder: folder.appendingPathComponent("pki"))
    try authority.initialize()
    try authority.issueController()
  }

  /// Starts (or restarts) the controller on the same database and port.
  func startController(port: UInt16 = 0) async throws {
    controller = try InProcessController(
      databasePath: folder.appendingPathComponent("state.sqlite").path, authority: authority,
      apiSocket: folder.appendingPathComponent("api.sock").path, managementPort: port,
      retryInterval: .milliseconds(500))
    try await controller.start()
  }

  @discardableResult
  func startCard(_ name: String) throws -> SimulatedCard {
    let card = try SimulatedCard(
      name: name, authority: authority, controllerPort: controller.channel.port,
      folder: folder.appendingPathComponent("cards"))
    card.start()
    cards.append(card)
    return card
  }

  /// True once every card runs the generation the controller wants for it.
  func converged(_ cards: [SimulatedCard]) -> Bool {
    cards.allSatisfy { card in
      guard let status = controller.reconciler.board.status(of: card.name) else { return false }
      return status.desiredGeneration > 0 && status.appliedGeneration == status.desiredGeneration
        && card.appliedGeneration == status.desiredGeneration
    }
  }

  func tearDown() async {
    for card in cards { card.stop() }
    await controller?.stop()
    try? FileManager.default.removeItem(at: folder)
  }
}
