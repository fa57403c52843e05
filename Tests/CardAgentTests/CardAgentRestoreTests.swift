import CardAgent
import CardTLS
import Foundation
import Management
import ProviderPKI
import Testing

/// Static stability without a network: the agent puts its persisted state
/// in force before reaching any controller.
@Suite struct CardAgentRestoreTests {
  struct Recorder: DesiredStateTarget {
    var applied: [DesiredState] = []
    var refuse = false
    mutating func apply(_ state: DesiredState) throws(ApplyFailure) {
      if refuse { throw ApplyFailure(message: "refused by the test") }
      applied.append(state)
    }
  }

  let folder = FileManager.default.temporaryDirectory.appendingPathComponent("agent-\(UUID().uuidString)")

  func agent(refuse: Bool = false) throws -> CardAgent<Recorder> {
    let authority = ProviderCertificateAuthority(folder: folder.appendingPathComponent("pki"))
    if !FileManager.default.fileExists(atPath: authority.keyPath) { try authority.initialize() }
    let identity = try authority.issueCard("c1")
    let context = try TLSContext(
      role: .client, certificateAuthorityPath: authority.certificatePath,
      certificatePath: identity.certificatePath,
      privateKeyPath: identity.keyPath)
    return try CardAgent(
      configuration: CardAgentConfiguration(
        cardName: "c1", firmwareVersion: "1", controllerHost: "127.0.0.1", controllerPort: 1,
        stateFilePath: folder.appendingPathComponent("c1.state").path),
      context: context, target: Recorder(refuse: refuse))
  }

  @Test func restoresThePersistedState() throws {
    let state = DesiredState(
      generation: 7,
      routes: [
        RouteSlice(vni: 9, destination: IPPrefix(address: [10, 0, 0, 0], length: 8), target: .drop)
      ])
    let first = try agent()
    #expect(first.restorePersistedState() == nil)
    try StateFile(path: first.configuration.stateFilePath).save(state)
    let second = try agent()
    #expect(second.restorePersistedState() == 7)
    #expect(second.target.applied == [state])
    #expect(second.appliedGeneration.load(ordering: .relaxed) == 7)
  }

  @Test func aStateTheTargetRefusesIsCountedAndNotInForce() throws {
    let first = try agent()
    try StateFile(path: first.configuration.stateFilePath).save(DesiredState(generation: 3))
    let refusing = try agent(refuse: true)
    #expect(refusing.restorePersistedState() == nil)
    #expect(refusing.appliedGeneration.load(ordering: .relaxed) == 0)
    #expect(refusing.counters.applyFailures.load(ordering: .relaxed) == 1)
  }
}
