import CardTLS
import ControlPlaneTestSupport
import Foundation
import Management
import Testing

/// Cards the controller must refuse, and hostile frames it must survive.
@Suite(.serialized) struct RefusalTests {
  @Test func unregisteredCardIsRefusedAndCounted() async throws {
    let world = try ChannelHarness()
    try await world.startController()
    try await world.api.registerCard("c1", underlay: "192.0.2.1")
    // "ghost" has a certificate from the provider CA but was never registered.
    let ghost = try world.startCard("ghost")
    let c1 = try world.startCard("c1")
    try await world.api.tenantWithSubnet("acme")
    try await world.api.createNic(tenant: "acme", index: 1, card: "c1")
    #expect(await eventually { world.converged([c1]) && c1.log.last?.nics.count == 1 })
    #expect(await eventually { world.controller.channel.counters.unknownCards.load(ordering: .relaxed) >= 1 })
    #expect(ghost.appliedGeneration == 0)
    #expect(ghost.log.all.isEmpty)
    await world.tearDown()
  }

  @Test func hostileFramesAreRefusedCountedAndOthersKeepBeingServed() async throws {
    let world = try ChannelHarness()
    try await world.startController()
    for name in ["c1", "c2", "c3"] { try await world.api.registerCard(name, underlay: "192.0.2.9") }
    let c1 = try world.startCard("c1")
    try await world.api.tenantWithSubnet("acme")
    #expect(await eventually { world.converged([c1]) })

    // c2 (a genuine certificate) says Hello, then sends garbage.
    let c2 = try rawConnection(world, card: "c2")
    try c2.write(
      try ManagementMessage.hello(Hello(cardID: "c2", firmwareVersion: "x", capabilities: [])).encodeFrame())
    try c2.write([0x42, 0x4D, 9, 1, 0, 0, 0, 0, 0, 0])  // version 9
    #expect(
      await eventually { world.controller.channel.counters.rejectedFrames.load(ordering: .relaxed) >= 1 })
    // c3 claims to be c1 in its Hello.
    let c3 = try rawConnection(world, card: "c3")
    try c3.write(
      try ManagementMessage.hello(Hello(cardID: "c1", firmwareVersion: "x", capabilities: [])).encodeFrame())
    #expect(
      await eventually { world.controller.channel.counters.identityMismatches.load(ordering: .relaxed) >= 1 })
    // A card sending a desired state is refused too (counted, ignored).
    let c3b = try rawConnection(world, card: "c3")
    try c3b.write(
      try ManagementMessage.hello(Hello(cardID: "c3", firmwareVersion: "x", capabilities: [])).encodeFrame())
    try c3b.write(try ManagementMessage.desiredState(DesiredState(generation: 1)).encodeFrame())
    #expect(
      await eventually { world.controller.channel.counters.unexpectedMessages.load(ordering: .relaxed) >= 1 })

    // The well-behaved card is still served.
    let before = c1.appliedGeneration
    try await world.api.createNic(tenant: "acme", index: 1, card: "c1")
    #expect(await eventually { world.converged([c1]) && c1.appliedGeneration > before })
    c2.close()
    c3.close()
    c3b.close()
    await world.tearDown()
  }

  private func rawConnection(_ world: ChannelHarness, card: String) throws -> TLSConnection {
    let identity = try world.authority.issueCard(card)
    let context = try TLSContext(
      role: .client, certificateAuthorityPath: world.authority.certificatePath,
      certificatePath: identity.certificatePath, privateKeyPath: identity.keyPath)
    return try TLSConnection.connect(
      host: "127.0.0.1", port: world.controller.channel.port, context: context,
      expectedPeerName: "bulkhead-controller", timeoutMilliseconds: 5_000)
  }
}
