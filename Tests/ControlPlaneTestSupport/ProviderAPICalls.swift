import ControlClient
import Foundation
import ProviderAPI

/// The provider API calls the channel tests and the benchmark make, through
/// the real gRPC client (as dpuctl does).
public struct ProviderAPICalls: Sendable {
  public let socket: String

  public init(socket: String) { self.socket = socket }

  public func run<T: Sendable>(_ body: (ProviderClient) async throws -> T) async throws -> T {
    try await withProviderClient(
      address: ControllerAddress("unix:" + socket)!, token: InProcessController.adminToken, body)
  }

  public func registerCard(_ id: String, underlay: String) async throws {
    try await run { client in
      let request = Bulkhead_V1_RegisterCardRequest.with {
        $0.cardID = id
        $0.card.underlayIp = underlay
        $0.requestID = UUID().uuidString
      }
      _ = try await client.call(.idempotentWithRequestID) {
        try await client.cards.registerCard(request, metadata: $0, options: $1)
      }
    }
  }

  /// Tenant `tenant`, VPC `blue` 10.0.0.0/16, subnet `web` 10.0.0.0/17.
  public func tenantWithSubnet(_ tenant: String) async throws {
    try await run { client in
      let tenantRequest = Bulkhead_V1_CreateTenantRequest.with {
        $0.tenantID = tenant
        $0.requestID = UUID().uuidString
      }
      _ = try await client.call(.idempotentWithRequestID) {
        try await client.tenants.createTenant(tenantRequest, metadata: $0, options: $1)
      }
      let vpcRequest = Bulkhead_V1_CreateVpcRequest.with {
        $0.parent = "tenants/" + tenant
        $0.vpcID = "blue"
        $0.vpc.cidrBlocks = ["10.0.0.0/16"]
        $0.requestID = UUID().uuidString
      }
      _ = try await client.call(.idempotentWithRequestID) {
        try await client.vpcs.createVpc(vpcRequest, metadata: $0, options: $1)
      }
      let subnetRequest = Bulkhead_V1_CreateSubnetRequest.with {
        $0.parent = "tenants/\(tenant)/vpcs/blue"
        $0.subnetID = "web"
        $0.subnet.cidrBlock = "10.0.0.0/17"
        $0.requestID = UUID().uuidString
      }
      _ = try await client.call(.idempotentWithRequestID) {
        try await client.subnets.createSubnet(subnetRequest, metadata: $0, options: $1)
      }
    }
  }

  /// NIC number `index` (MAC and address derived from it) on `card`.
  @discardableResult
  public func createNic(tenant: String, index: Int, card: String) async throws -> Bulkhead_V1_Nic {
    let request = Bulkhead_V1_CreateNicRequest.with {
      $0.parent = "tenants/" + tenant
      $0.nicID = "nic-\(index)"
      $0.nic.subnet = "tenants/\(tenant)/vpcs/blue/subnets/web"
      $0.nic.macAddress = String(format: "02:00:00:00:%02x:%02x", (index >> 8) & 0xFF, index & 0xFF)
      $0.nic.ipAddresses = ["10.0.\(index / 250).\(index % 250 + 2)"]
      $0.nic.card = "cards/" + card
      $0.requestID = UUID().uuidString
    }
    return try await run { client in
      try await client.call(.idempotentWithRequestID) {
        try await client.nics.createNic(request, metadata: $0, options: $1)
      }
    }
  }

  public func card(_ id: String) async throws -> Bulkhead_V1_Card {
    let request = Bulkhead_V1_GetCardRequest.with { $0.name = "cards/" + id }
    return try await run { client in
      try await client.call(.safe) { try await client.cards.getCard(request, metadata: $0, options: $1) }
    }
  }
}
