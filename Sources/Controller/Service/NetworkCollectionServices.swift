import GRPCCore
import ProviderAPI

// The gRPC face of each resource collection: every method hands its request
// to `CollectionEndpoints`, which authenticates and calls `ResourceService`
// with the kind's rules. One struct per service of Proto/bulkhead/v1.

public struct TenantsService: Bulkhead_V1_Tenants.ServiceProtocol {
  let endpoints: CollectionEndpoints<TenantRules>

  public init(resources: ResourceService, authenticator: Authenticator) {
    endpoints = CollectionEndpoints(resources: resources, authenticator: authenticator, rules: TenantRules())
  }

  public func createTenant(
    request: ServerRequest<Bulkhead_V1_CreateTenantRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_Tenant> { try await endpoints.create(request) }

  public func getTenant(
    request: ServerRequest<Bulkhead_V1_GetTenantRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_Tenant> { try await endpoints.get(request) }

  public func listTenants(
    request: ServerRequest<Bulkhead_V1_ListTenantsRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_ListTenantsResponse> { try await endpoints.list(request) }

  public func updateTenant(
    request: ServerRequest<Bulkhead_V1_UpdateTenantRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_Tenant> { try await endpoints.update(request) }

  public func deleteTenant(
    request: ServerRequest<Bulkhead_V1_DeleteTenantRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_DeleteResponse> { try await endpoints.delete(request) }
}

public struct VpcsService: Bulkhead_V1_Vpcs.ServiceProtocol {
  let endpoints: CollectionEndpoints<VpcRules>

  public init(resources: ResourceService, authenticator: Authenticator) {
    endpoints = CollectionEndpoints(
      resources: resources, authenticator: authenticator,
      rules: VpcRules(vniRange: resources.configuration.vniRange))
  }

  public func createVpc(
    request: ServerRequest<Bulkhead_V1_CreateVpcRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_Vpc> { try await endpoints.create(request) }

  public func getVpc(
    request: ServerRequest<Bulkhead_V1_GetVpcRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_Vpc> { try await endpoints.get(request) }

  public func listVpcs(
    request: ServerRequest<Bulkhead_V1_ListVpcsRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_ListVpcsResponse> { try await endpoints.list(request) }

  public func updateVpc(
    request: ServerRequest<Bulkhead_V1_UpdateVpcRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_Vpc> { try await endpoints.update(request) }

  public func deleteVpc(
    request: ServerRequest<Bulkhead_V1_DeleteVpcRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_DeleteResponse> { try await endpoints.delete(request) }
}

public struct SubnetsService: Bulkhead_V1_Subnets.ServiceProtocol {
  let endpoints: CollectionEndpoints<SubnetRules>

  public init(resources: ResourceService, authenticator: Authenticator) {
    endpoints = CollectionEndpoints(resources: resources, authenticator: authenticator, rules: SubnetRules())
  }

  public func createSubnet(
    request: ServerRequest<Bulkhead_V1_CreateSubnetRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_Subnet> { try await endpoints.create(request) }

  public func getSubnet(
    request: ServerRequest<Bulkhead_V1_GetSubnetRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_Subnet> { try await endpoints.get(request) }

  public func listSubnets(
    request: ServerRequest<Bulkhead_V1_ListSubnetsRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_ListSubnetsResponse> { try await endpoints.list(request) }

  public func updateSubnet(
    request: ServerRequest<Bulkhead_V1_UpdateSubnetRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_Subnet> { try await endpoints.update(request) }

  public func deleteSubnet(
    request: ServerRequest<Bulkhead_V1_DeleteSubnetRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_DeleteResponse> { try await endpoints.delete(request) }
}

public struct NicsService: Bulkhead_V1_Nics.ServiceProtocol {
  let endpoints: CollectionEndpoints<NicRules>

  public init(resources: ResourceService, authenticator: Authenticator) {
    endpoints = CollectionEndpoints(resources: resources, authenticator: authenticator, rules: NicRules())
  }

  public func createNic(
    request: ServerRequest<Bulkhead_V1_CreateNicRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_Nic> { try await endpoints.create(request) }

  public func getNic(
    request: ServerRequest<Bulkhead_V1_GetNicRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_Nic> { try await endpoints.get(request) }

  public func listNics(
    request: ServerRequest<Bulkhead_V1_ListNicsRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_ListNicsResponse> { try await endpoints.list(request) }

  public func updateNic(
    request: ServerRequest<Bulkhead_V1_UpdateNicRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_Nic> { try await endpoints.update(request) }

  public func deleteNic(
    request: ServerRequest<Bulkhead_V1_DeleteNicRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_DeleteResponse> { try await endpoints.delete(request) }
}
