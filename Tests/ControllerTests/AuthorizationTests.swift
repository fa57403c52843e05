import GRPCCore
import ProviderAPI
import Testing

@testable import Controller

/// Two tenants, acme and beta, each with a VPC; tokens see only their own.
@Suite struct TenantIsolationTests {
  let fixture: Fixture

  init() async throws {
    fixture = try Fixture()
    try await fixture.card()
    try await fixture.tenant("acme")
    try await fixture.tenant("beta")
    try await fixture.vpc("blue", tenant: "acme")
    try await fixture.vpc("red", tenant: "beta")
    try await fixture.subnet("web", tenant: "beta", vpc: "red", cidr: "10.0.1.0/24")
  }

  @Test func aTenantCannotReadOrListAnotherTenant() async throws {
    let get = await apiError {
      try await fixture.service.get(
        Bulkhead_V1_Vpc.self, name: "tenants/beta/vpcs/red", principal: .tenant("acme"))
    }
    #expect(get?.code == .permissionDenied)
    let list = await apiError {
      try await fixture.service.list(
        Bulkhead_V1_Vpc.self, parent: "tenants/beta", pageSize: 0, pageToken: "", principal: .tenant("acme"))
    }
    #expect(list?.code == .permissionDenied)
    let own = try await fixture.service.list(
      Bulkhead_V1_Vpc.self, parent: "tenants/acme", pageSize: 0, pageToken: "", principal: .tenant("acme"))
    #expect(own.resources.map(\.name) == ["tenants/acme/vpcs/blue"])
  }

  @Test func aTenantSeesOnlyItselfInTheTenantList() async throws {
    try await fixture.tenant("beta2")  // shares a prefix with beta
    let page = try await fixture.service.list(
      Bulkhead_V1_Tenant.self, parent: "", pageSize: 0, pageToken: "", principal: .tenant("beta"))
    #expect(page.resources.map(\.name) == ["tenants/beta"])
    let all = try await fixture.service.list(
      Bulkhead_V1_Tenant.self, parent: "", pageSize: 0, pageToken: "", principal: .providerAdmin)
    #expect(all.resources.map(\.name) == ["tenants/acme", "tenants/beta", "tenants/beta2"])
  }

  @Test func aTenantCannotChangeAnotherTenantOrProviderResources() async throws {
    let create = await apiError { try await fixture.vpc("evil", tenant: "beta", principal: .tenant("acme")) }
    #expect(create?.code == .permissionDenied)
    let tenant = await apiError {
      let request = Bulkhead_V1_CreateTenantRequest.with { $0.tenantID = "gamma" }
      return try await fixture.service.create(
        request.tenant, id: "gamma", parent: "", rules: TenantRules(), request: request, requestID: "k",
        principal: .tenant("acme"))
    }
    #expect(tenant?.code == .permissionDenied)
    let card = await apiError {
      try await fixture.service.get(Bulkhead_V1_Card.self, name: "cards/c1", principal: .tenant("acme"))
    }
    #expect(card?.code == .permissionDenied)
    let delete = await apiError {
      let request = Bulkhead_V1_DeleteVpcRequest.with { $0.name = "tenants/beta/vpcs/red" }
      return try await fixture.service.delete(
        Bulkhead_V1_Vpc.self, name: request.name, rules: VpcRules(vniRange: 1...10), request: request,
        requestID: "k", principal: .tenant("acme"))
    }
    #expect(delete?.code == .permissionDenied)
  }

  @Test func aNICCannotReferenceAnotherTenantsSubnet() async throws {
    let error = await apiError {
      try await fixture.nic(
        "sneaky", tenant: "acme", subnet: "tenants/beta/vpcs/red/subnets/web", mac: "02:00:00:00:00:09",
        ips: ["10.0.1.9"], principal: .tenant("acme"))
    }
    #expect(error?.code == .invalidArgument)
    #expect(error?.message.contains("belongs to another tenant") == true)
  }
}

@Test func bearerTokensMapToPrincipals() throws {
  let authenticator = Authenticator(tokens: ["root": .providerAdmin, "a": .tenant("acme")])
  #expect(try authenticator.principal(for: ["authorization": "Bearer root"]) == .providerAdmin)
  #expect(try authenticator.principal(for: ["authorization": "Bearer a"]) == .tenant("acme"))
  #expect(throws: APIError.self) { try authenticator.principal(for: ["authorization": "Bearer b"]) }
  #expect(throws: APIError.self) { try authenticator.principal(for: ["authorization": "Basic a"]) }
  #expect(throws: APIError.self) { try authenticator.principal(for: [:]) }
}
