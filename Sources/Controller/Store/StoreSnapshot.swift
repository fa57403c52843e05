import Foundation

/// Every key of a store at one revision, held in memory and read-only: the
/// reconciler reads the store once per revision and builds every card's
/// slice from this copy, instead of reading the store once per card.
public struct StoreSnapshot: DesiredStateStore {
  public let revision: Int64
  /// Sorted by key.
  private let entries: [StoredEntry]

  /// Reads all of `store`, page by page.
  public static func take(of store: any DesiredStateStore, prefix: String = "") async throws -> StoreSnapshot
  {
    let listing = try await store.listAll(prefix: prefix, pageSize: 1000)
    return StoreSnapshot(revision: listing.revision == .max ? 0 : listing.revision, entries: listing.entries)
  }

  public func currentRevision() async throws -> Int64 { revision }

  public func read(_ key: String) async throws -> StoredEntry? {
    let index = firstIndex(notBefore: key)
    return index < entries.count && entries[index].key == key ? entries[index] : nil
  }

  public func list(prefix: String, startAfter: String?, limit: Int) async throws -> StoreListing {
    var index = firstIndex(notBefore: prefix)
    if let startAfter, startAfter >= prefix {
      index = firstIndex(notBefore: startAfter)
      if index < entries.count && entries[index].key == startAfter { index += 1 }
    }
    var found: [StoredEntry] = []
    while index < entries.count, found.count < limit, entries[index].key.hasPrefix(prefix) {
      found.append(entries[index])
      index += 1
    }
    return StoreListing(entries: found, revision: revision)
  }

  public func commit(_ commit: StoreCommit) async throws -> CommitOutcome {
    throw StoreSnapshotError.readOnly
  }
  public func idempotencyRecord(scope: String, key: String, now: Date) async throws -> IdempotencyRecord? {
    nil
  }
  public func purgeIdempotencyRecords(expiredBefore now: Date) async throws -> Int { 0 }
  public func changes(prefix: String, after revision: Int64, limit: Int) async throws -> [StoreEvent] {
    throw StoreSnapshotError.readOnly
  }

  private func firstIndex(notBefore key: String) -> Int {
    var low = 0
    var high = entries.count
    while low < high {
      let middle = (low + high) / 2
      if entries[middle].key < key { low = middle + 1 } else { high = middle }
    }
    return low
  }
}

public enum StoreSnapshotError: Error { case readOnly }
