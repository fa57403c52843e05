import Foundation
import ProviderAPI
import Testing

@testable import Controller

/// A site tunnel's manual keys: checked, wrapped with the store key, never
/// kept or returned in the clear; refusals name the field and the fix.
struct IpsecTunnelRulesTests {
  let storeKey: [UInt8] = (0..<32).map { UInt8($0 ^ 0x5a) }
  let keyIn = String(repeating: "ab", count: 36)
  let keyOut = String(repeating: "cd", count: 36)

  func fixture() async throws -> Fixture {
    let fixture = try Fixture()
    try await fixture.standardTenant()
    let request = Bulkhead_V1_RegisterCardRequest.with {
      $0.cardID = "edge"
      $0.card.underlayIp = "192.0.2.1"
      $0.requestID = Fixture.key()
    }
    _ = try await fixture.service.create(
      request.card, id: "edge", parent: "", rules: CardRules(), request: request,
      requestID: request.requestID,
      principal: .providerAdmin)
    return fixture
  }

  func create(
    _ fixture: Fixture, storeKey: [UInt8]?, _ change: (inout Bulkhead_V1_IpsecTunnel) -> Void = { _ in }
  ) async throws -> Bulkhead_V1_IpsecTunnel {
    let request = Bulkhead_V1_CreateIpsecTunnelRequest.with {
      $0.parent = "tenants/acme/vpcs/blue"
      $0.ipsecTunnelID = "hq"
      $0.ipsecTunnel.localIp = "192.0.2.1"
      $0.ipsecTunnel.remoteIp = "203.0.113.9"
      $0.ipsecTunnel.remoteCidrs = ["10.254.1.0/24"]
      $0.ipsecTunnel.cipher = .aesGcm256
      $0.ipsecTunnel.inboundSpi = 0x1001
      $0.ipsecTunnel.outboundSpi = 0x2002
      $0.ipsecTunnel.inboundKey = keyIn
      $0.ipsecTunnel.outboundKey = keyOut
      $0.requestID = Fixture.key()
      change(&$0.ipsecTunnel)
    }
    return try await fixture.service.create(
      request.ipsecTunnel, id: "hq", parent: request.parent, rules: IpsecTunnelRules(storeKey: storeKey),
      request: request, requestID: request.requestID, principal: .providerAdmin)
  }

  @Test func keysAreWrappedAndNeverKept() async throws {
    let fixture = try await fixture()
    let made = try await create(fixture, storeKey: storeKey)
    #expect(made.inboundKey.isEmpty && made.outboundKey.isEmpty)
    #expect(
      try UnderlayKeyring.unwrap(Array(made.wrappedInboundKey), with: storeKey)
        == [UInt8](repeating: 0xab, count: 36))
    #expect(
      try UnderlayKeyring.unwrap(Array(made.wrappedOutboundKey), with: storeKey)
        == [UInt8](repeating: 0xcd, count: 36))
    #expect(made.mode == .tunnel && made.antiReplayWindow == 1024)
    // Nothing in the store holds the key in the clear.
    let entries = try await fixture.store.listAll(prefix: "").entries
    #expect(!entries.contains { String(decoding: $0.value, as: UTF8.self).contains(keyIn) })
  }

  @Test func refusalsNameTheFieldAndTheFix() async throws {
    let cases: [([UInt8]?, (inout Bulkhead_V1_IpsecTunnel) -> Void, String)] = [
      (storeKey, { $0.inboundKey = "" }, "ipsec_tunnel.inbound_key"),
      (storeKey, { $0.outboundKey = "zz" }, "is not 72 hex digits"),
      (storeKey, { $0.cipher = .aesGcm128 }, "is not 40 hex digits"),
      (nil, { _ in }, "no key seed"),
      (storeKey, { $0.inboundSpi = 255 }, "ipsec_tunnel.inbound_spi"),
      (storeKey, { $0.localIp = "192.0.2.77" }, "is no registered card's underlay address"),
      (storeKey, { $0.remoteCidrs = ["10.254.1.0/24", "10.254.2.0/24"] }, "exactly one prefix"),
    ]
    for (key, change, expected) in cases {
      let fixture = try await fixture()
      let error = await apiError { _ = try await create(fixture, storeKey: key, change) }
      #expect(error?.code == .invalidArgument)
      #expect(error?.message.contains(expected) == true, "\(expected): \(error?.message ?? "accepted")")
    }
  }
}
