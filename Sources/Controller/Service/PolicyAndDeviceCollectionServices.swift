import GRPCCore
import ProviderAPI

// The gRPC face of each resource collection: authenticate, then hand the
// request to `ResourceService`. One struct per service of Proto/bulkhead/v1.

public struct SecurityGroupsService: Bulkhead_V1_SecurityGroups.ServiceProtocol {
  let resources: ResourceService
  let authenticator: Authenticator
  var rules: SecurityGroupRules { SecurityGroupRules() }

  public init(resources: ResourceService, authenticator: Authenticator) {
    self.resources = resources
    self.authenticator = authenticator
  }

  public func createSecurityGroup(
    request: ServerRequest<Bulkhead_V1_CreateSecurityGroupRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_SecurityGroup> {
    try await handle(request, authenticator) { request, principal in
      try await resources.create(
        request.securityGroup, id: request.securityGroupID, parent: request.parent, rules: rules,
        request: request,
        requestID: request.requestID, principal: principal)
    }
  }

  public func getSecurityGroup(
    request: ServerRequest<Bulkhead_V1_GetSecurityGroupRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_SecurityGroup> {
    try await handle(request, authenticator) { request, principal in
      try await resources.get(Bulkhead_V1_SecurityGroup.self, name: request.name, principal: principal)
    }
  }

  public func listSecurityGroups(
    request: ServerRequest<Bulkhead_V1_ListSecurityGroupsRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_ListSecurityGroupsResponse> {
    try await handle(request, authenticator) { request, principal in
      let page = try await resources.list(
        Bulkhead_V1_SecurityGroup.self, parent: request.parent, pageSize: request.pageSize,
        pageToken: request.pageToken,
        principal: principal)
      return .with {
        $0.securityGroups = page.resources
        $0.nextPageToken = page.nextPageToken
      }
    }
  }

  public func updateSecurityGroup(
    request: ServerRequest<Bulkhead_V1_UpdateSecurityGroupRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_SecurityGroup> {
    try await handle(request, authenticator) { request, principal in
      try await resources.update(
        request.securityGroup, mask: request.updateMask, rules: rules, request: request,
        requestID: request.requestID,
        principal: principal)
    }
  }

  public func deleteSecurityGroup(
    request: ServerRequest<Bulkhead_V1_DeleteSecurityGroupRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_DeleteResponse> {
    try await handle(request, authenticator) { request, principal in
      try await resources.delete(
        Bulkhead_V1_SecurityGroup.self, name: request.name, rules: rules, request: request,
        requestID: request.requestID,
        principal: principal)
    }
  }
}

public struct RouteTablesService: Bulkhead_V1_RouteTables.ServiceProtocol {
  let resources: ResourceService
  let authenticator: Authenticator
  var rules: RouteTableRules { RouteTableRules() }

  public init(resources: ResourceService, authenticator: Authenticator) {
    self.resources = resources
    self.authenticator = authenticator
  }

  public func createRouteTable(
    request: ServerRequest<Bulkhead_V1_CreateRouteTableRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_RouteTable> {
    try await handle(request, authenticator) { request, principal in
      try await resources.create(
        request.routeTable, id: request.routeTableID, parent: request.parent, rules: rules, request: request,
        requestID: request.requestID, principal: principal)
    }
  }

  public func getRouteTable(
    request: ServerRequest<Bulkhead_V1_GetRouteTableRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_RouteTable> {
    try await handle(request, authenticator) { request, principal in
      try await resources.get(Bulkhead_V1_RouteTable.self, name: request.name, principal: principal)
    }
  }

  public func listRouteTables(
    request: ServerRequest<Bulkhead_V1_ListRouteTablesRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_ListRouteTablesResponse> {
    try await handle(request, authenticator) { request, principal in
      let page = try await resources.list(
        Bulkhead_V1_RouteTable.self, parent: request.parent, pageSize: request.pageSize,
        pageToken: request.pageToken,
        principal: principal)
      return .with {
        $0.routeTables = page.resources
        $0.nextPageToken = page.nextPageToken
      }
    }
  }

  public func updateRouteTable(
    request: ServerRequest<Bulkhead_V1_UpdateRouteTableRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_RouteTable> {
    try await handle(request, authenticator) { request, principal in
      try await resources.update(
        request.routeTable, mask: request.updateMask, rules: rules, request: request,
        requestID: request.requestID,
        principal: principal)
    }
  }

  public func deleteRouteTable(
    request: ServerRequest<Bulkhead_V1_DeleteRouteTableRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_DeleteResponse> {
    try await handle(request, authenticator) { request, principal in
      try await resources.delete(
        Bulkhead_V1_RouteTable.self, name: request.name, rules: rules, request: request,
        requestID: request.requestID,
        principal: principal)
    }
  }
}

public struct VolumesService: Bulkhead_V1_Volumes.ServiceProtocol {
  let resources: ResourceService
  let authenticator: Authenticator
  var rules: VolumeRules { VolumeRules() }

  public init(resources: ResourceService, authenticator: Authenticator) {
    self.resources = resources
    self.authenticator = authenticator
  }

  public func createVolume(
    request: ServerRequest<Bulkhead_V1_CreateVolumeRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_Volume> {
    try await handle(request, authenticator) { request, principal in
      try await resources.create(
        request.volume, id: request.volumeID, parent: request.parent, rules: rules, request: request,
        requestID: request.requestID, principal: principal)
    }
  }

  public func getVolume(
    request: ServerRequest<Bulkhead_V1_GetVolumeRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_Volume> {
    try await handle(request, authenticator) { request, principal in
      try await resources.get(Bulkhead_V1_Volume.self, name: request.name, principal: principal)
    }
  }

  public func listVolumes(
    request: ServerRequest<Bulkhead_V1_ListVolumesRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_ListVolumesResponse> {
    try await handle(request, authenticator) { request, principal in
      let page = try await resources.list(
        Bulkhead_V1_Volume.self, parent: request.parent, pageSize: request.pageSize,
        pageToken: request.pageToken,
        principal: principal)
      return .with {
        $0.volumes = page.resources
        $0.nextPageToken = page.nextPageToken
      }
    }
  }

  public func updateVolume(
    request: ServerRequest<Bulkhead_V1_UpdateVolumeRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_Volume> {
    try await handle(request, authenticator) { request, principal in
      try await resources.update(
        request.volume, mask: request.updateMask, rules: rules, request: request,
        requestID: request.requestID,
        principal: principal)
    }
  }

  public func deleteVolume(
    request: ServerRequest<Bulkhead_V1_DeleteVolumeRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_DeleteResponse> {
    try await handle(request, authenticator) { request, principal in
      try await resources.delete(
        Bulkhead_V1_Volume.self, name: request.name, rules: rules, request: request,
        requestID: request.requestID,
        principal: principal)
    }
  }
}

public struct IpsecTunnelsService: Bulkhead_V1_IpsecTunnels.ServiceProtocol {
  let resources: ResourceService
  let authenticator: Authenticator
  var rules: IpsecTunnelRules { IpsecTunnelRules() }

  public init(resources: ResourceService, authenticator: Authenticator) {
    self.resources = resources
    self.authenticator = authenticator
  }

  public func createIpsecTunnel(
    request: ServerRequest<Bulkhead_V1_CreateIpsecTunnelRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_IpsecTunnel> {
    try await handle(request, authenticator) { request, principal in
      try await resources.create(
        request.ipsecTunnel, id: request.ipsecTunnelID, parent: request.parent, rules: rules,
        request: request,
        requestID: request.requestID, principal: principal)
    }
  }

  public func getIpsecTunnel(
    request: ServerRequest<Bulkhead_V1_GetIpsecTunnelRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_IpsecTunnel> {
    try await handle(request, authenticator) { request, principal in
      try await resources.get(Bulkhead_V1_IpsecTunnel.self, name: request.name, principal: principal)
    }
  }

  public func listIpsecTunnels(
    request: ServerRequest<Bulkhead_V1_ListIpsecTunnelsRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_ListIpsecTunnelsResponse> {
    try await handle(request, authenticator) { request, principal in
      let page = try await resources.list(
        Bulkhead_V1_IpsecTunnel.self, parent: request.parent, pageSize: request.pageSize,
        pageToken: request.pageToken,
        principal: principal)
      return .with {
        $0.ipsecTunnels = page.resources
        $0.nextPageToken = page.nextPageToken
      }
    }
  }

  public func updateIpsecTunnel(
    request: ServerRequest<Bulkhead_V1_UpdateIpsecTunnelRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_IpsecTunnel> {
    try await handle(request, authenticator) { request, principal in
      try await resources.update(
        request.ipsecTunnel, mask: request.updateMask, rules: rules, request: request,
        requestID: request.requestID,
        principal: principal)
    }
  }

  public func deleteIpsecTunnel(
    request: ServerRequest<Bulkhead_V1_DeleteIpsecTunnelRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_DeleteResponse> {
    try await handle(request, authenticator) { request, principal in
      try await resources.delete(
        Bulkhead_V1_IpsecTunnel.self, name: request.name, rules: rules, request: request,
        requestID: request.requestID,
        principal: principal)
    }
  }
}

public struct GuestAttachmentsService: Bulkhead_V1_GuestAttachments.ServiceProtocol {
  let resources: ResourceService
  let authenticator: Authenticator
  var rules: GuestAttachmentRules { GuestAttachmentRules() }

  public init(resources: ResourceService, authenticator: Authenticator) {
    self.resources = resources
    self.authenticator = authenticator
  }

  public func createGuestAttachment(
    request: ServerRequest<Bulkhead_V1_CreateGuestAttachmentRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_GuestAttachment> {
    try await handle(request, authenticator) { request, principal in
      try await resources.create(
        request.guestAttachment, id: request.guestAttachmentID, parent: request.parent, rules: rules,
        request: request,
        requestID: request.requestID, principal: principal)
    }
  }

  public func getGuestAttachment(
    request: ServerRequest<Bulkhead_V1_GetGuestAttachmentRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_GuestAttachment> {
    try await handle(request, authenticator) { request, principal in
      try await resources.get(Bulkhead_V1_GuestAttachment.self, name: request.name, principal: principal)
    }
  }

  public func listGuestAttachments(
    request: ServerRequest<Bulkhead_V1_ListGuestAttachmentsRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_ListGuestAttachmentsResponse> {
    try await handle(request, authenticator) { request, principal in
      let page = try await resources.list(
        Bulkhead_V1_GuestAttachment.self, parent: request.parent, pageSize: request.pageSize,
        pageToken: request.pageToken,
        principal: principal)
      return .with {
        $0.guestAttachments = page.resources
        $0.nextPageToken = page.nextPageToken
      }
    }
  }

  public func updateGuestAttachment(
    request: ServerRequest<Bulkhead_V1_UpdateGuestAttachmentRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_GuestAttachment> {
    try await handle(request, authenticator) { request, principal in
      try await resources.update(
        request.guestAttachment, mask: request.updateMask, rules: rules, request: request,
        requestID: request.requestID,
        principal: principal)
    }
  }

  public func deleteGuestAttachment(
    request: ServerRequest<Bulkhead_V1_DeleteGuestAttachmentRequest>, context: ServerContext
  ) async throws -> ServerResponse<Bulkhead_V1_DeleteResponse> {
    try await handle(request, authenticator) { request, principal in
      try await resources.delete(
        Bulkhead_V1_GuestAttachment.self, name: request.name, rules: rules, request: request,
        requestID: request.requestID,
        principal: principal)
    }
  }
}
