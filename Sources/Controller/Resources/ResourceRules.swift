/// What is particular to one resource kind: its checks against the rest of
/// the desired state and the index entries it keeps.
protocol ResourceRules<Resource>: Sendable {
  associatedtype Resource: ManagedResource
  /// Checks a new (`previous == nil`) or changed resource and records the
  /// index writes and allocations it needs in `transaction`. May fill
  /// output-only fields (a VPC's VNI).
  func admit(_ resource: inout Resource, previous: Resource?, in transaction: StoreTransaction) async throws
  /// Refuses a delete that would leave references dangling; drops indexes.
  func release(_ resource: Resource, in transaction: StoreTransaction) async throws
  /// Before a create: refuses what `principal` may not set, fills what the
  /// provider decides for it. Most kinds take anything their caller may.
  func prepare(_ resource: inout Resource, id: String, parent: String, principal: Principal) throws
}

extension ResourceRules {
  func prepare(_ resource: inout Resource, id: String, parent: String, principal: Principal) throws {}
}

extension StoreTransaction {
  /// Refuses when any `R` under `parent` passes `references`, naming one.
  func refuseIfReferenced<R: ManagedResource>(
    by _: R.Type, under parent: String, _ what: String, where references: (R) -> Bool = { _ in true }
  ) async throws {
    let referencing = try await resources(under: parent, as: R.self).filter(references)
    if let first = referencing.first {
      throw APIError(
        .failedPrecondition,
        "\(what) is still used by \(referencing.count) \(R.kind)(s), e.g. '\(first.name)'; delete or change those first"
      )
    }
  }
}
