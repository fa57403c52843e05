/// A parsed resource name such as `tenants/acme/vpcs/blue` (AIP-122).
struct ResourceName: Equatable {
  var segments: [Substring]

  /// The tenant the resource belongs to, nil for provider resources.
  var tenant: String? { segments.first == "tenants" && segments.count >= 2 ? String(segments[1]) : nil }

  /// The name of the ancestor `levels` up (`tenants/acme` for a subnet at
  /// level 2).
  func ancestor(levels: Int) -> String { segments.dropLast(2 * levels).joined(separator: "/") }

  /// Parses `name` as a name of `R`, with an error that shows the expected
  /// pattern.
  static func parse<R: ManagedResource>(_ name: String, as _: R.Type, field: String = "name") throws
    -> ResourceName
  {
    let segments = name.split(separator: "/", omittingEmptySubsequences: false)
    let collections = R.parentCollections + [R.collection]
    var valid = segments.count == 2 * collections.count
    if valid {
      for (index, collection) in collections.enumerated() {
        valid = valid && segments[2 * index] == collection && isValidID(segments[2 * index + 1])
      }
    }
    guard valid else {
      throw APIError.invalid(
        field, name, "is not a \(R.kind) name",
        fix: "use the form \(collections.map { "\($0)/{\($0.dropLast())}" }.joined(separator: "/"))")
    }
    return ResourceName(segments: segments)
  }

  /// Parses the `parent` of a Create or List for `R` ("" when R has none).
  static func parseParent<R: ManagedResource>(_ parent: String, of _: R.Type) throws -> ResourceName {
    let collections = R.parentCollections
    let segments = parent.isEmpty ? [] : parent.split(separator: "/", omittingEmptySubsequences: false)
    var valid = segments.count == 2 * collections.count
    if valid {
      for (index, collection) in collections.enumerated() {
        valid = valid && segments[2 * index] == collection && isValidID(segments[2 * index + 1])
      }
    }
    guard valid else {
      throw APIError.invalid(
        "parent", parent, "is not a parent of \(R.kind)",
        fix: collections.isEmpty
          ? "leave parent empty"
          : "use the form \(collections.map { "\($0)/{\($0.dropLast())}" }.joined(separator: "/"))")
    }
    return ResourceName(segments: segments)
  }

  /// RFC 1123 label: lowercase letters, digits and '-', 1..63, starting
  /// with a letter and not ending with '-'.
  static func isValidID<S: StringProtocol>(_ id: S) -> Bool {
    guard let first = id.first, let last = id.last, id.count <= 63, first.isLowercase, first.isASCII,
      last != "-"
    else { return false }
    return id.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" }
  }
}
