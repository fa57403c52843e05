import GRPCCore
import ProviderAPI

// The gRPC face of each resource collection: every method hands its request
// to `CollectionEndpoints`, which authenticates and calls `ResourceService`
// with the kind's rules. One struct per service of Proto/bulkhead/v1.

public struct SecurityGroupsService: Bulkhead_V1_SecurityGroups.ServiceProtocol {
  let endpoints: CollectionEndpoints<SecurityGroupRules>

  public init(resources: ResourceService, authenticator: Authenticator) {
    endpoints = CollectionEndpoints(
      resources: resources, authenticator: authenticator, rules: SecurityGroupRules())
  }

  public func createSecurityGroup(
    request: ServerRequest<Bulkhead_V1_CreateSecurityGroupRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_SecurityGroup> { try await endpoints.create(request) }

  public func getSecurityGroup(
    request: ServerRequest<Bulkhead_V1_GetSecurityGroupRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_SecurityGroup> { try await endpoints.get(request) }

  public func listSecurityGroups(
    request: ServerRequest<Bulkhead_V1_ListSecurityGroupsRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_ListSecurityGroupsResponse> {
    try await endpoints.list(request)
  }

  public func updateSecurityGroup(
    request: ServerRequest<Bulkhead_V1_UpdateSecurityGroupRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_SecurityGroup> { try await endpoints.update(request) }

  public func deleteSecurityGroup(
    request: ServerRequest<Bulkhead_V1_DeleteSecurityGroupRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_DeleteResponse> { try await endpoints.delete(request) }
}

public struct RouteTablesService: Bulkhead_V1_RouteTables.ServiceProtocol {
  let endpoints: CollectionEndpoints<RouteTableRules>

  public init(resources: ResourceService, authenticator: Authenticator) {
    endpoints = CollectionEndpoints(
      resources: resources, authenticator: authenticator, rules: RouteTableRules())
  }

  public func createRouteTable(
    request: ServerRequest<Bulkhead_V1_CreateRouteTableRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_RouteTable> { try await endpoints.create(request) }

  public func getRouteTable(
    request: ServerRequest<Bulkhead_V1_GetRouteTableRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_RouteTable> { try await endpoints.get(request) }

  public func listRouteTables(
    request: ServerRequest<Bulkhead_V1_ListRouteTablesRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_ListRouteTablesResponse> { try await endpoints.list(request) }

  public func updateRouteTable(
    request: ServerRequest<Bulkhead_V1_UpdateRouteTableRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_RouteTable> { try await endpoints.update(request) }

  public func deleteRouteTable(
    request: ServerRequest<Bulkhead_V1_DeleteRouteTableRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_DeleteResponse> { try await endpoints.delete(request) }
}

public struct VolumesService: Bulkhead_V1_Volumes.ServiceProtocol {
  let endpoints: CollectionEndpoints<VolumeRules>

  /// `storeKey` wraps the volumes' data keys at rest (`ProviderKeySeed.storeKey`).
  public init(resources: ResourceService, authenticator: Authenticator, storeKey: [UInt8]? = nil) {
    endpoints = CollectionEndpoints(
      resources: resources, authenticator: authenticator,
      rules: VolumeRules(storeKey: storeKey, volumeRoot: resources.configuration.volumeRoot))
  }

  public func createVolume(
    request: ServerRequest<Bulkhead_V1_CreateVolumeRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_Volume> { try await endpoints.create(request) }

  public func getVolume(
    request: ServerRequest<Bulkhead_V1_GetVolumeRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_Volume> { try await endpoints.get(request) }

  public func listVolumes(
    request: ServerRequest<Bulkhead_V1_ListVolumesRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_ListVolumesResponse> { try await endpoints.list(request) }

  public func updateVolume(
    request: ServerRequest<Bulkhead_V1_UpdateVolumeRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_Volume> { try await endpoints.update(request) }

  public func deleteVolume(
    request: ServerRequest<Bulkhead_V1_DeleteVolumeRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_DeleteResponse> { try await endpoints.delete(request) }
}

public struct IpsecTunnelsService: Bulkhead_V1_IpsecTunnels.ServiceProtocol {
  let endpoints: CollectionEndpoints<IpsecTunnelRules>

  /// `storeKey` wraps the tunnels' keys at rest (`ProviderKeySeed.storeKey`).
  public init(resources: ResourceService, authenticator: Authenticator, storeKey: [UInt8]? = nil) {
    endpoints = CollectionEndpoints(
      resources: resources, authenticator: authenticator, rules: IpsecTunnelRules(storeKey: storeKey))
  }

  public func createIpsecTunnel(
    request: ServerRequest<Bulkhead_V1_CreateIpsecTunnelRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_IpsecTunnel> { try await endpoints.create(request) }

  public func getIpsecTunnel(
    request: ServerRequest<Bulkhead_V1_GetIpsecTunnelRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_IpsecTunnel> { try await endpoints.get(request) }

  public func listIpsecTunnels(
    request: ServerRequest<Bulkhead_V1_ListIpsecTunnelsRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_ListIpsecTunnelsResponse> { try await endpoints.list(request) }

  public func updateIpsecTunnel(
    request: ServerRequest<Bulkhead_V1_UpdateIpsecTunnelRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_IpsecTunnel> { try await endpoints.update(request) }

  public func deleteIpsecTunnel(
    request: ServerRequest<Bulkhead_V1_DeleteIpsecTunnelRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_DeleteResponse> { try await endpoints.delete(request) }
}

public struct GuestAttachmentsService: Bulkhead_V1_GuestAttachments.ServiceProtocol {
  let endpoints: CollectionEndpoints<GuestAttachmentRules>

  public init(resources: ResourceService, authenticator: Authenticator) {
    endpoints = CollectionEndpoints(
      resources: resources, authenticator: authenticator, rules: GuestAttachmentRules())
  }

  public func createGuestAttachment(
    request: ServerRequest<Bulkhead_V1_CreateGuestAttachmentRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_GuestAttachment> { try await endpoints.create(request) }

  public func getGuestAttachment(
    request: ServerRequest<Bulkhead_V1_GetGuestAttachmentRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_GuestAttachment> { try await endpoints.get(request) }

  public func listGuestAttachments(
    request: ServerRequest<Bulkhead_V1_ListGuestAttachmentsRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_ListGuestAttachmentsResponse> {
    try await endpoints.list(request)
  }

  public func updateGuestAttachment(
    request: ServerRequest<Bulkhead_V1_UpdateGuestAttachmentRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_GuestAttachment> { try await endpoints.update(request) }

  public func deleteGuestAttachment(
    request: ServerRequest<Bulkhead_V1_DeleteGuestAttachmentRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_DeleteResponse> { try await endpoints.delete(request) }
}
