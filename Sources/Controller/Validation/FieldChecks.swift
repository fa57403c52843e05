/// Parsers that turn a request field into a value or an `APIError` naming
/// the field, the value and the fix.
enum FieldChecks {
  static func cidr(_ text: String, field: String) throws -> CIDRBlock {
    switch CIDRBlock.parse(text) {
    case .success(let block): return block
    case .failure(.hostBitsSet(let canonical)):
      throw APIError.invalid(field, text, "has host bits set", fix: "use the network address, \(canonical)")
    case .failure(.malformed):
      throw APIError.invalid(
        field, text, "is not a CIDR block", fix: "write it like 10.0.0.0/16 or fd00::/48")
    }
  }

  static func address(_ text: String, field: String) throws -> IPAddressValue {
    guard let address = IPAddressValue(Substring(text)) else {
      throw APIError.invalid(field, text, "is not an IP address", fix: "write it like 10.0.1.5 or fd00::5")
    }
    return address
  }

  static func mac(_ text: String, field: String) throws -> MACAddress {
    guard let mac = MACAddress(text.lowercased()) else {
      throw APIError.invalid(field, text, "is not a MAC address", fix: "write it like 02:00:00:00:00:01")
    }
    guard !mac.isMulticast else {
      throw APIError.invalid(
        field, text, "is a multicast address", fix: "clear the low bit of the first octet (e.g. 02:...)")
    }
    return mac
  }

  static func required(_ value: String, field: String, example: String) throws {
    if value.isEmpty { throw APIError.invalid(field, value, "is empty", fix: "set it, e.g. \(example)") }
  }

  /// A host function as the card takes it (`VolumeSlice.hostFunction`): a
  /// plain name, never a path, so that in the emulator it stays a file in
  /// the card's host-function folder.
  static func hostFunction(_ text: String, field: String) throws {
    let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:")
    guard (1...64).contains(text.count), !text.hasPrefix("."), text.allSatisfy({ allowed.contains($0) })
    else {
      throw APIError.invalid(
        field, text,
        "is not a plain name of 1 to 64 letters, digits, '.', '-', '_' or ':' (not starting with '.')",
        fix: "use a PCI function such as 0000:3b:00.2 or a socket name such as vol-a.sock")
    }
  }

  /// A reference must name a resource of the same tenant (and, where
  /// given, the same VPC): tenants never point into each other.
  static func reference<R: ManagedResource>(
    _ name: String, _: R.Type, field: String, tenant: String?, vpc: String? = nil,
    in transaction: StoreTransaction
  ) async throws -> R {
    let parsed = try ResourceName.parse(name, as: R.self, field: field)
    if let tenant, parsed.tenant != tenant {
      throw APIError.invalid(
        field, name, "belongs to another tenant", fix: "reference a resource of tenants/\(tenant)")
    }
    if let vpc, !name.hasPrefix(vpc + "/") {
      throw APIError.invalid(field, name, "is not in \(vpc)", fix: "reference a \(R.kind) of the same VPC")
    }
    guard let resource = try await transaction.resource(name, as: R.self) else {
      throw APIError.notFound(name, referencedBy: field)
    }
    return resource
  }
}
