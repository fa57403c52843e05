import ProviderAPI

// How each collection's generated request and response messages map onto
// the shapes `CollectionEndpoints` works with (field names differ per kind:
// `vpc`/`vpc_id`, `nic`/`nic_id`, ...).

extension Bulkhead_V1_CreateTenantRequest: CreateResourceRequest {
  var resource: Bulkhead_V1_Tenant { tenant }
  var resourceID: String { tenantID }
  var parentName: String { "" }
}
extension Bulkhead_V1_GetTenantRequest: NamedResourceRequest {}
extension Bulkhead_V1_ListTenantsRequest: PageRequest {
  var parentName: String { "" }
}
extension Bulkhead_V1_ListTenantsResponse: PageResponse {
  init(page: [Bulkhead_V1_Tenant], nextPageToken: String) {
    self.init()
    tenants = page
    self.nextPageToken = nextPageToken
  }
}
extension Bulkhead_V1_UpdateTenantRequest: UpdateResourceRequest {
  var resource: Bulkhead_V1_Tenant { tenant }
}
extension Bulkhead_V1_DeleteTenantRequest: DeleteResourceRequest {}

extension Bulkhead_V1_CreateVpcRequest: CreateResourceRequest {
  var resource: Bulkhead_V1_Vpc { vpc }
  var resourceID: String { vpcID }
  var parentName: String { parent }
}
extension Bulkhead_V1_GetVpcRequest: NamedResourceRequest {}
extension Bulkhead_V1_ListVpcsRequest: PageRequest {
  var parentName: String { parent }
}
extension Bulkhead_V1_ListVpcsResponse: PageResponse {
  init(page: [Bulkhead_V1_Vpc], nextPageToken: String) {
    self.init()
    vpcs = page
    self.nextPageToken = nextPageToken
  }
}
extension Bulkhead_V1_UpdateVpcRequest: UpdateResourceRequest {
  var resource: Bulkhead_V1_Vpc { vpc }
}
extension Bulkhead_V1_DeleteVpcRequest: DeleteResourceRequest {}

extension Bulkhead_V1_CreateSubnetRequest: CreateResourceRequest {
  var resource: Bulkhead_V1_Subnet { subnet }
  var resourceID: String { subnetID }
  var parentName: String { parent }
}
extension Bulkhead_V1_GetSubnetRequest: NamedResourceRequest {}
extension Bulkhead_V1_ListSubnetsRequest: PageRequest {
  var parentName: String { parent }
}
extension Bulkhead_V1_ListSubnetsResponse: PageResponse {
  init(page: [Bulkhead_V1_Subnet], nextPageToken: String) {
    self.init()
    subnets = page
    self.nextPageToken = nextPageToken
  }
}
extension Bulkhead_V1_UpdateSubnetRequest: UpdateResourceRequest {
  var resource: Bulkhead_V1_Subnet { subnet }
}
extension Bulkhead_V1_DeleteSubnetRequest: DeleteResourceRequest {}

extension Bulkhead_V1_CreateNicRequest: CreateResourceRequest {
  var resource: Bulkhead_V1_Nic { nic }
  var resourceID: String { nicID }
  var parentName: String { parent }
}
extension Bulkhead_V1_GetNicRequest: NamedResourceRequest {}
extension Bulkhead_V1_ListNicsRequest: PageRequest {
  var parentName: String { parent }
}
extension Bulkhead_V1_ListNicsResponse: PageResponse {
  init(page: [Bulkhead_V1_Nic], nextPageToken: String) {
    self.init()
    nics = page
    self.nextPageToken = nextPageToken
  }
}
extension Bulkhead_V1_UpdateNicRequest: UpdateResourceRequest {
  var resource: Bulkhead_V1_Nic { nic }
}
extension Bulkhead_V1_DeleteNicRequest: DeleteResourceRequest {}

extension Bulkhead_V1_CreateSecurityGroupRequest: CreateResourceRequest {
  var resource: Bulkhead_V1_SecurityGroup { securityGroup }
  var resourceID: String { securityGroupID }
  var parentName: String { parent }
}
extension Bulkhead_V1_GetSecurityGroupRequest: NamedResourceRequest {}
extension Bulkhead_V1_ListSecurityGroupsRequest: PageRequest {
  var parentName: String { parent }
}
extension Bulkhead_V1_ListSecurityGroupsResponse: PageResponse {
  init(page: [Bulkhead_V1_SecurityGroup], nextPageToken: String) {
    self.init()
    securityGroups = page
    self.nextPageToken = nextPageToken
  }
}
extension Bulkhead_V1_UpdateSecurityGroupRequest: UpdateResourceRequest {
  var resource: Bulkhead_V1_SecurityGroup { securityGroup }
}
extension Bulkhead_V1_DeleteSecurityGroupRequest: DeleteResourceRequest {}

extension Bulkhead_V1_CreateRouteTableRequest: CreateResourceRequest {
  var resource: Bulkhead_V1_RouteTable { routeTable }
  var resourceID: String { routeTableID }
  var parentName: String { parent }
}
extension Bulkhead_V1_GetRouteTableRequest: NamedResourceRequest {}
extension Bulkhead_V1_ListRouteTablesRequest: PageRequest {
  var parentName: String { parent }
}
extension Bulkhead_V1_ListRouteTablesResponse: PageResponse {
  init(page: [Bulkhead_V1_RouteTable], nextPageToken: String) {
    self.init()
    routeTables = page
    self.nextPageToken = nextPageToken
  }
}
extension Bulkhead_V1_UpdateRouteTableRequest: UpdateResourceRequest {
  var resource: Bulkhead_V1_RouteTable { routeTable }
}
extension Bulkhead_V1_DeleteRouteTableRequest: DeleteResourceRequest {}

extension Bulkhead_V1_CreateVolumeRequest: CreateResourceRequest {
  var resource: Bulkhead_V1_Volume { volume }
  var resourceID: String { volumeID }
  var parentName: String { parent }
}
extension Bulkhead_V1_GetVolumeRequest: NamedResourceRequest {}
extension Bulkhead_V1_ListVolumesRequest: PageRequest {
  var parentName: String { parent }
}
extension Bulkhead_V1_ListVolumesResponse: PageResponse {
  init(page: [Bulkhead_V1_Volume], nextPageToken: String) {
    self.init()
    volumes = page
    self.nextPageToken = nextPageToken
  }
}
extension Bulkhead_V1_UpdateVolumeRequest: UpdateResourceRequest {
  var resource: Bulkhead_V1_Volume { volume }
}
extension Bulkhead_V1_DeleteVolumeRequest: DeleteResourceRequest {}

extension Bulkhead_V1_CreateIpsecTunnelRequest: CreateResourceRequest {
  var resource: Bulkhead_V1_IpsecTunnel { ipsecTunnel }
  var resourceID: String { ipsecTunnelID }
  var parentName: String { parent }
}
extension Bulkhead_V1_GetIpsecTunnelRequest: NamedResourceRequest {}
extension Bulkhead_V1_ListIpsecTunnelsRequest: PageRequest {
  var parentName: String { parent }
}
extension Bulkhead_V1_ListIpsecTunnelsResponse: PageResponse {
  init(page: [Bulkhead_V1_IpsecTunnel], nextPageToken: String) {
    self.init()
    ipsecTunnels = page
    self.nextPageToken = nextPageToken
  }
}
extension Bulkhead_V1_UpdateIpsecTunnelRequest: UpdateResourceRequest {
  var resource: Bulkhead_V1_IpsecTunnel { ipsecTunnel }
}
extension Bulkhead_V1_DeleteIpsecTunnelRequest: DeleteResourceRequest {}

extension Bulkhead_V1_CreateGuestAttachmentRequest: CreateResourceRequest {
  var resource: Bulkhead_V1_GuestAttachment { guestAttachment }
  var resourceID: String { guestAttachmentID }
  var parentName: String { parent }
}
extension Bulkhead_V1_GetGuestAttachmentRequest: NamedResourceRequest {}
extension Bulkhead_V1_ListGuestAttachmentsRequest: PageRequest {
  var parentName: String { parent }
}
extension Bulkhead_V1_ListGuestAttachmentsResponse: PageResponse {
  init(page: [Bulkhead_V1_GuestAttachment], nextPageToken: String) {
    self.init()
    guestAttachments = page
    self.nextPageToken = nextPageToken
  }
}
extension Bulkhead_V1_UpdateGuestAttachmentRequest: UpdateResourceRequest {
  var resource: Bulkhead_V1_GuestAttachment { guestAttachment }
}
extension Bulkhead_V1_DeleteGuestAttachmentRequest: DeleteResourceRequest {}

// Cards: registered and deregistered like any collection; Get and List
// add the channel's live figures, so they stay in CardsService.
extension Bulkhead_V1_RegisterCardRequest: CreateResourceRequest {
  var resource: Bulkhead_V1_Card { card }
  var resourceID: String { cardID }
  var parentName: String { "" }
}
extension Bulkhead_V1_DeregisterCardRequest: DeleteResourceRequest {}
