import ProviderAPI
import Testing

@testable import Controller

@Test func aRetryWithTheSameKeyReturnsTheFirstResultWithoutNewWork() async throws {
  let fixture = try Fixture()
  try await fixture.tenant("acme")
  let first = try await fixture.vpc("blue", key: "k-1")
  let revision = try await fixture.store.currentRevision()
  let again = try await fixture.vpc("blue", key: "k-1")
  #expect(again == first)
  #expect(try await fixture.store.currentRevision() == revision)
}

@Test func theSameKeyWithADifferentRequestIsRejected() async throws {
  let fixture = try Fixture()
  try await fixture.tenant("acme")
  try await fixture.vpc("blue", key: "k-1")
  let error = await apiError { try await fixture.vpc("green", cidrs: ["10.1.0.0/16"], key: "k-1") }
  #expect(error?.code == .invalidArgument)
  #expect(error?.message.contains("request_id 'k-1' was already used for a different request") == true)
}

@Test func keysAreScopedPerPrincipal() async throws {
  let fixture = try Fixture()
  try await fixture.tenant("acme")
  try await fixture.tenant("beta")
  try await fixture.vpc("blue", tenant: "acme", key: "shared", principal: .tenant("acme"))
  // Another tenant using the same key gets its own work done.
  let other = try await fixture.vpc("blue", tenant: "beta", key: "shared", principal: .tenant("beta"))
  #expect(other.name == "tenants/beta/vpcs/blue")
}

@Test func keysExpireAfterTheTTL() async throws {
  let fixture = try Fixture(ttlSeconds: 60)
  try await fixture.tenant("acme")
  let first = try await fixture.vpc("blue", key: "k-1")
  fixture.clock.advance(by: 61)
  // Past the TTL the key is new again: the create runs and finds the VPC.
  let error = await apiError { try await fixture.vpc("blue", key: "k-1") }
  #expect(error?.code == .alreadyExists)
  #expect(first.vni == 4096)
  #expect(try await fixture.store.purgeIdempotencyRecords(expiredBefore: fixture.clock.now) >= 1)
}

@Test func concurrentCallsWithTheSameKeyDoTheWorkOnce() async throws {
  let fixture = try Fixture()
  try await fixture.tenant("acme")
  let before = try await fixture.store.currentRevision()
  let results = try await withThrowingTaskGroup(of: Bulkhead_V1_Vpc.self) { group in
    for _ in 0..<8 { group.addTask { try await fixture.vpc("blue", key: "same") } }
    return try await group.reduce(into: []) { $0.append($1) }
  }
  #expect(results.count == 8)
  #expect(Set(results.map(\.vni)).count == 1)
  #expect(results.allSatisfy { $0 == results[0] })
  // One commit: the VPC and its VNI index entry.
  #expect(try await fixture.store.currentRevision() == before + 1)
  let vnis = try await fixture.store.list(prefix: "index/vni/", startAfter: nil, limit: 10)
  #expect(vnis.entries.count == 1)
}

@Test func concurrentCreatesOfDifferentVPCsGetDistinctVNIs() async throws {
  let fixture = try Fixture()
  try await fixture.tenant("acme")
  let vnis = try await withThrowingTaskGroup(of: UInt32.self) { group in
    for index in 0..<6 {
      group.addTask { try await fixture.vpc("v\(index)", cidrs: ["10.\(index).0.0/16"]).vni }
    }
    return try await group.reduce(into: []) { $0.append($1) }
  }
  #expect(Set(vnis) == Set(4096...4101))
}

@Test func aMissingRequestIDIsRejected() async throws {
  let fixture = try Fixture()
  let error = await apiError {
    let request = Bulkhead_V1_CreateTenantRequest.with { $0.tenantID = "acme" }
    return try await fixture.service.create(
      request.tenant, id: "acme", parent: "", rules: TenantRules(), request: request, requestID: "",
      principal: .providerAdmin)
  }
  #expect(error?.message.contains("request_id '' is empty; send a fresh UUID") == true)
}
