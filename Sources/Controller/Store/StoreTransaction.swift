import SwiftProtobuf

/// One optimistic attempt at a change: records what was read (as commit
/// conditions) and what is to be written. Used by one task at a time.
final class StoreTransaction {
  let store: any DesiredStateStore
  private(set) var conditions: [StoreCondition] = []
  private(set) var operations: [StoreOperation] = []

  init(store: any DesiredStateStore) { self.store = store }

  func read(_ key: String) async throws -> StoredEntry? {
    let entry = try await store.read(key)
    conditions.append(.keyRevision(key, entry?.modRevision ?? 0))
    return entry
  }

  /// Every entry under `prefix`; the commit fails if any is added, changed
  /// or removed before it.
  func list(_ prefix: String) async throws -> [StoredEntry] {
    let listing = try await store.listAll(prefix: prefix)
    conditions.append(.prefixUnchangedSince(prefix, listing.revision))
    return listing.entries
  }

  func resource<R: ManagedResource>(_ name: String, as _: R.Type = R.self) async throws -> R? {
    guard let entry = try await read(R.key(name)) else { return nil }
    return try R.decoded(entry)
  }

  func resources<R: ManagedResource>(under parent: String, as _: R.Type = R.self) async throws -> [R] {
    try await list(R.prefix(under: parent)).map { try R.decoded($0) }
  }

  func put<R: ManagedResource>(_ resource: R) throws {
    var stored = resource
    // Revisions come from the store entry on every read, never from the value.
    stored.meta.createRevision = 0
    stored.meta.updateRevision = 0
    operations.append(.put(R.key(resource.name), try stored.serializedBytes()))
  }

  func delete<R: ManagedResource>(_: R.Type, _ name: String) {
    operations.append(.delete(R.key(name)))
  }

  func putIndex(_ key: String, owner: String) { operations.append(.put(key, Array(owner.utf8))) }
  func deleteIndex(_ key: String) { operations.append(.delete(key)) }

  /// The owner recorded under an index key, if any.
  func indexOwner(_ key: String) async throws -> String? {
    try await read(key).map { String(decoding: $0.value, as: UTF8.self) }
  }
}

extension ManagedResource {
  static func decoded(_ entry: StoredEntry) throws -> Self {
    var resource = try Self(serializedBytes: entry.value)
    resource.meta.createRevision = entry.createRevision
    resource.meta.updateRevision = entry.modRevision
    return resource
  }
}
