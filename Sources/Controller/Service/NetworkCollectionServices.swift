import GRPCCore
import ProviderAPI

// The gRPC face of each resource collection: authenticate, then hand the
// request to `ResourceService`. One struct per service of Proto/bulkhead/v1.

public struct TenantsService: Bulkhead_V1_Tenants.ServiceProtocol {
  let resources: ResourceService
  let authenticator: Authenticator
  var rules: TenantRules { TenantRules() }

  public init(resources: ResourceService, authenticator: Authenticator) {
    self.resources = resources
    self.authenticator = authenticator
  }

  public func createTenant(
    request: ServerRequest<Bulkhead_V1_CreateTenantRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_Tenant> {
    try await handle(request, authenticator) { request, principal in
      try await resources.create(
        request.tenant, id: request.tenantID, parent: "", rules: rules, request: request,
        requestID: request.requestID, principal: principal)
    }
  }

  public func getTenant(
    request: ServerRequest<Bulkhead_V1_GetTenantRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_Tenant> {
    try await handle(request, authenticator) { request, principal in
      try await resources.get(Bulkhead_V1_Tenant.self, name: request.name, principal: principal)
    }
  }

  public func listTenants(
    request: ServerRequest<Bulkhead_V1_ListTenantsRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_ListTenantsResponse> {
    try await handle(request, authenticator) { request, principal in
      let page = try await resources.list(
        Bulkhead_V1_Tenant.self, parent: "", pageSize: request.pageSize, pageToken: request.pageToken,
        principal: principal)
      return .with {
        $0.tenants = page.resources
        $0.nextPageToken = page.nextPageToken
      }
    }
  }

  public func updateTenant(
    request: ServerRequest<Bulkhead_V1_UpdateTenantRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_Tenant> {
    try await handle(request, authenticator) { request, principal in
      try await resources.update(
        request.tenant, mask: request.updateMask, rules: rules, request: request,
        requestID: request.requestID,
        principal: principal)
    }
  }

  public func deleteTenant(
    request: ServerRequest<Bulkhead_V1_DeleteTenantRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_DeleteResponse> {
    try await handle(request, authenticator) { request, principal in
      try await resources.delete(
        Bulkhead_V1_Tenant.self, name: request.name, rules: rules, request: request,
        requestID: request.requestID,
        principal: principal)
    }
  }
}

public struct VpcsService: Bulkhead_V1_Vpcs.ServiceProtocol {
  let resources: ResourceService
  let authenticator: Authenticator
  var rules: VpcRules { VpcRules(vniRange: resources.configuration.vniRange) }

  public init(resources: ResourceService, authenticator: Authenticator) {
    self.resources = resources
    self.authenticator = authenticator
  }

  public func createVpc(
    request: ServerRequest<Bulkhead_V1_CreateVpcRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_Vpc> {
    try await handle(request, authenticator) { request, principal in
      try await resources.create(
        request.vpc, id: request.vpcID, parent: request.parent, rules: rules, request: request,
        requestID: request.requestID, principal: principal)
    }
  }

  public func getVpc(
    request: ServerRequest<Bulkhead_V1_GetVpcRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_Vpc> {
    try await handle(request, authenticator) { request, principal in
      try await resources.get(Bulkhead_V1_Vpc.self, name: request.name, principal: principal)
    }
  }

  public func listVpcs(
    request: ServerRequest<Bulkhead_V1_ListVpcsRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_ListVpcsResponse> {
    try await handle(request, authenticator) { request, principal in
      let page = try await resources.list(
        Bulkhead_V1_Vpc.self, parent: request.parent, pageSize: request.pageSize,
        pageToken: request.pageToken,
        principal: principal)
      return .with {
        $0.vpcs = page.resources
        $0.nextPageToken = page.nextPageToken
      }
    }
  }

  public func updateVpc(
    request: ServerRequest<Bulkhead_V1_UpdateVpcRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_Vpc> {
    try await handle(request, authenticator) { request, principal in
      try await resources.update(
        request.vpc, mask: request.updateMask, rules: rules, request: request, requestID: request.requestID,
        principal: principal)
    }
  }

  public func deleteVpc(
    request: ServerRequest<Bulkhead_V1_DeleteVpcRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_DeleteResponse> {
    try await handle(request, authenticator) { request, principal in
      try await resources.delete(
        Bulkhead_V1_Vpc.self, name: request.name, rules: rules, request: request,
        requestID: request.requestID,
        principal: principal)
    }
  }
}

public struct SubnetsService: Bulkhead_V1_Subnets.ServiceProtocol {
  let resources: ResourceService
  let authenticator: Authenticator
  var rules: SubnetRules { SubnetRules() }

  public init(resources: ResourceService, authenticator: Authenticator) {
    self.resources = resources
    self.authenticator = authenticator
  }

  public func createSubnet(
    request: ServerRequest<Bulkhead_V1_CreateSubnetRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_Subnet> {
    try await handle(request, authenticator) { request, principal in
      try await resources.create(
        request.subnet, id: request.subnetID, parent: request.parent, rules: rules, request: request,
        requestID: request.requestID, principal: principal)
    }
  }

  public func getSubnet(
    request: ServerRequest<Bulkhead_V1_GetSubnetRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_Subnet> {
    try await handle(request, authenticator) { request, principal in
      try await resources.get(Bulkhead_V1_Subnet.self, name: request.name, principal: principal)
    }
  }

  public func listSubnets(
    request: ServerRequest<Bulkhead_V1_ListSubnetsRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_ListSubnetsResponse> {
    try await handle(request, authenticator) { request, principal in
      let page = try await resources.list(
        Bulkhead_V1_Subnet.self, parent: request.parent, pageSize: request.pageSize,
        pageToken: request.pageToken,
        principal: principal)
      return .with {
        $0.subnets = page.resources
        $0.nextPageToken = page.nextPageToken
      }
    }
  }

  public func updateSubnet(
    request: ServerRequest<Bulkhead_V1_UpdateSubnetRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_Subnet> {
    try await handle(request, authenticator) { request, principal in
      try await resources.update(
        request.subnet, mask: request.updateMask, rules: rules, request: request,
        requestID: request.requestID,
        principal: principal)
    }
  }

  public func deleteSubnet(
    request: ServerRequest<Bulkhead_V1_DeleteSubnetRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_DeleteResponse> {
    try await handle(request, authenticator) { request, principal in
      try await resources.delete(
        Bulkhead_V1_Subnet.self, name: request.name, rules: rules, request: request,
        requestID: request.requestID,
        principal: principal)
    }
  }
}

public struct NicsService: Bulkhead_V1_Nics.ServiceProtocol {
  let resources: ResourceService
  let authenticator: Authenticator
  var rules: NicRules { NicRules() }

  public init(resources: ResourceService, authenticator: Authenticator) {
    self.resources = resources
    self.authenticator = authenticator
  }

  public func createNic(
    request: ServerRequest<Bulkhead_V1_CreateNicRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_Nic> {
    try await handle(request, authenticator) { request, principal in
      try await resources.create(
        request.nic, id: request.nicID, parent: request.parent, rules: rules, request: request,
        requestID: request.requestID, principal: principal)
    }
  }

  public func getNic(
    request: ServerRequest<Bulkhead_V1_GetNicRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_Nic> {
    try await handle(request, authenticator) { request, principal in
      try await resources.get(Bulkhead_V1_Nic.self, name: request.name, principal: principal)
    }
  }

  public func listNics(
    request: ServerRequest<Bulkhead_V1_ListNicsRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_ListNicsResponse> {
    try await handle(request, authenticator) { request, principal in
      let page = try await resources.list(
        Bulkhead_V1_Nic.self, parent: request.parent, pageSize: request.pageSize,
        pageToken: request.pageToken,
        principal: principal)
      return .with {
        $0.nics = page.resources
        $0.nextPageToken = page.nextPageToken
      }
    }
  }

  public func updateNic(
    request: ServerRequest<Bulkhead_V1_UpdateNicRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_Nic> {
    try await handle(request, authenticator) { request, principal in
      try await resources.update(
        request.nic, mask: request.updateMask, rules: rules, request: request, requestID: request.requestID,
        principal: principal)
    }
  }

  public func deleteNic(
    request: ServerRequest<Bulkhead_V1_DeleteNicRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_DeleteResponse> {
    try await handle(request, authenticator) { request, principal in
      try await resources.delete(
        Bulkhead_V1_Nic.self, name: request.name, rules: rules, request: request,
        requestID: request.requestID,
        principal: principal)
    }
  }
}
