import Foundation
import ProviderAPI

@testable import Controller

/// A wall clock the test moves by hand.
final class ManualClock: @unchecked Sendable {
  // @unchecked: `date` is only touched under `lock`.
  private let lock = NSLock()
  private var date = Date(timeIntervalSince1970: 1_800_000_000)

  var now: Date {
    lock.lock()
    defer { lock.unlock() }
    return date
  }

  func advance(by seconds: TimeInterval) {
    lock.lock()
    date += seconds
    lock.unlock()
  }
}

/// A controller API over a private in-memory store, with helpers that build
/// a small tenant: card `cards/c1`, tenant `acme`, VPC `blue` 10.0.0.0/16,
/// subnet `web` 10.0.1.0/24.
struct Fixture {
  let clock = ManualClock()
  let store: SQLiteDesiredStateStore
  let service: ResourceService
  private static let counter = Counter()

  init(vniRange: ClosedRange<UInt32> = 4096...0xFF_FFFF, ttlSeconds: Int64 = 3600) throws {
    store = try SQLiteDesiredStateStore(path: ":memory:")
    let clock = clock
    service = ResourceService(
      store: store,
      configuration: ControllerConfiguration(
        idempotencyTTL: .seconds(ttlSeconds), vniRange: vniRange, now: { clock.now }))
  }

  static func key() -> String { "key-\(counter.next())" }

  func card(_ id: String = "c1") async throws {
    let request = Bulkhead_V1_RegisterCardRequest.with {
      $0.cardID = id
      $0.requestID = Self.key()
    }
    _ = try await service.create(
      request.card, id: id, parent: "", rules: CardRules(), request: request, requestID: request.requestID,
      principal: .providerAdmin)
  }

  func tenant(_ id: String) async throws {
    let request = Bulkhead_V1_CreateTenantRequest.with {
      $0.tenantID = id
      $0.requestID = Self.key()
    }
    _ = try await service.create(
      request.tenant, id: id, parent: "", rules: TenantRules(), request: request,
      requestID: request.requestID,
      principal: .providerAdmin)
  }

  @discardableResult
  func vpc(
    _ id: String, tenant: String = "acme", cidrs: [String] = ["10.0.0.0/16"], key: String = Fixture.key(),
    principal: Principal = .providerAdmin
  ) async throws -> Bulkhead_V1_Vpc {
    let request = Bulkhead_V1_CreateVpcRequest.with {
      $0.parent = "tenants/\(tenant)"
      $0.vpcID = id
      $0.vpc.cidrBlocks = cidrs
      $0.requestID = key
    }
    return try await service.create(
      request.vpc, id: id, parent: request.parent, rules: VpcRules(vniRange: service.configuration.vniRange),
      request: request, requestID: key, principal: principal)
  }

  @discardableResult
  func subnet(
    _ id: String, tenant: String = "acme", vpc: String = "blue", cidr: String,
    principal: Principal = .providerAdmin
  ) async throws -> Bulkhead_V1_Subnet {
    let request = Bulkhead_V1_CreateSubnetRequest.with {
      $0.parent = "tenants/\(tenant)/vpcs/\(vpc)"
      $0.subnetID = id
      $0.subnet.cidrBlock = cidr
      $0.requestID = Self.key()
    }
    return try await service.create(
      request.subnet, id: id, parent: request.parent, rules: SubnetRules(), request: request,
      requestID: request.requestID, principal: principal)
  }

  @discardableResult
  func nic(
    _ id: String, tenant: String = "acme", subnet: String = "tenants/acme/vpcs/blue/subnets/web", mac: String,
    ips: [String], card: String = "cards/c1", principal: Principal = .providerAdmin
  ) async throws -> Bulkhead_V1_Nic {
    let request = Bulkhead_V1_CreateNicRequest.with {
      $0.parent = "tenants/\(tenant)"
      $0.nicID = id
      $0.nic.subnet = subnet
      $0.nic.macAddress = mac
      $0.nic.ipAddresses = ips
      $0.nic.card = card
      $0.requestID = Self.key()
    }
    return try await service.create(
      request.nic, id: id, parent: request.parent, rules: NicRules(), request: request,
      requestID: request.requestID, principal: principal)
  }

  /// Card c1, tenant acme, VPC blue 10.0.0.0/16, subnet web 10.0.1.0/24.
  func standardTenant() async throws {
    try await card()
    try await tenant("acme")
    try await vpc("blue")
    try await subnet("web", cidr: "10.0.1.0/24")
  }
}

final class Counter: @unchecked Sendable {
  private let lock = NSLock()
  private var value = 0
  func next() -> Int {
    lock.lock()
    defer { lock.unlock() }
    value += 1
    return value
  }
}

/// The APIError a call threw, or nil.
func apiError(_ body: () async throws -> some Any) async -> APIError? {
  do {
    _ = try await body()
    return nil
  } catch {
    return error as? APIError
  }
}
