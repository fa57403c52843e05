import Foundation
import ProviderAPI
import SwiftProtobuf

/// A resource kind of the provider API, as the generic create/get/list/
/// update/delete code sees it.
public protocol ManagedResource: SwiftProtobuf.Message, SwiftProtobuf._ProtoNameProviding, Equatable {
  /// Used in store keys and messages ("Vpc").
  static var kind: String { get }
  /// The collection segment of names ("vpcs").
  static var collection: String { get }
  /// Collections of the ancestors, outermost first (["tenants"] for a VPC).
  static var parentCollections: [String] { get }
  /// Fields an Update may name in its mask; all others are fixed at create
  /// or output only.
  static var mutableFields: [String] { get }
  /// Created and deleted only by the provider (tenants, cards).
  static var isProviderManaged: Bool { get }
  var name: String { get set }
  var meta: Bulkhead_V1_ResourceMeta { get set }
  /// The resource as callers see it: the stored value without what is
  /// kept for the cards only (a volume's wrapped data key).
  var answered: Self { get }
}

extension ManagedResource {
  public static var isProviderManaged: Bool { false }
  public var answered: Self { self }

  /// The store key of the resource named `name`.
  static func key(_ name: String) -> String { "resource/\(kind)/\(name)" }

  /// The store prefix of the resources under `parent`.
  static func prefix(under parent: String) -> String {
    parent.isEmpty ? "resource/\(kind)/" : "resource/\(kind)/\(parent)/"
  }
}

extension Bulkhead_V1_Tenant: ManagedResource {
  public static let kind = "Tenant"
  public static let collection = "tenants"
  public static let parentCollections: [String] = []
  public static let mutableFields = ["display_name"]
  public static var isProviderManaged: Bool { true }
}

extension Bulkhead_V1_Card: ManagedResource {
  public static let kind = "Card"
  public static let collection = "cards"
  public static let parentCollections: [String] = []
  public static let mutableFields = ["serial_number", "host", "underlay_ip"]
  public static var isProviderManaged: Bool { true }
}

extension Bulkhead_V1_Vpc: ManagedResource {
  public static let kind = "Vpc"
  public static let collection = "vpcs"
  public static let parentCollections = ["tenants"]
  public static let mutableFields = ["cidr_blocks"]
}

extension Bulkhead_V1_Subnet: ManagedResource {
  public static let kind = "Subnet"
  public static let collection = "subnets"
  public static let parentCollections = ["tenants", "vpcs"]
  public static let mutableFields = ["route_table"]
}

extension Bulkhead_V1_Nic: ManagedResource {
  public static let kind = "Nic"
  public static let collection = "nics"
  public static let parentCollections = ["tenants"]
  public static let mutableFields = ["ip_addresses", "security_groups", "source_guard", "rate_limits"]
}

extension Bulkhead_V1_SecurityGroup: ManagedResource {
  public static let kind = "SecurityGroup"
  public static let collection = "securityGroups"
  public static let parentCollections = ["tenants", "vpcs"]
  public static let mutableFields = ["description", "rules"]
}

extension Bulkhead_V1_RouteTable: ManagedResource {
  public static let kind = "RouteTable"
  public static let collection = "routeTables"
  public static let parentCollections = ["tenants", "vpcs"]
  public static let mutableFields = ["routes"]
}

extension Bulkhead_V1_Volume: ManagedResource {
  public static let kind = "Volume"
  public static let collection = "volumes"
  public static let parentCollections = ["tenants"]
  public static let mutableFields = ["size_bytes", "read_only", "queues", "max_iops", "max_bandwidth_mbps"]

  public var answered: Bulkhead_V1_Volume {
    var volume = self
    volume.wrappedDataKey = Data()
    return volume
  }
}

extension Bulkhead_V1_IpsecTunnel: ManagedResource {
  public static let kind = "IpsecTunnel"
  public static let collection = "ipsecTunnels"
  public static let parentCollections = ["tenants", "vpcs"]
  public static let mutableFields = [
    "remote_cidrs", "anti_replay_window", "soft_lifetime_bytes", "hard_lifetime_bytes",
    "soft_lifetime_seconds", "hard_lifetime_seconds", "key_handle",
    // A rekey (step 1), then its commit (step 2).
    "next_inbound_spi", "next_outbound_spi", "next_inbound_key", "next_outbound_key", "commit_rekey",
  ]
}

extension Bulkhead_V1_GuestAttachment: ManagedResource {
  public static let kind = "GuestAttachment"
  public static let collection = "guestAttachments"
  public static let parentCollections = ["tenants"]
  public static let mutableFields = ["queue_pairs", "mtu"]
}
