import Foundation

/// A store that tells a listener after each successful commit, so the
/// reconciler reacts to an API write at once instead of at its next poll.
/// (Writers in other processes are still seen by the reconciler's periodic
/// resync.)
public final class ObservedDesiredStateStore: DesiredStateStore, @unchecked Sendable {
  // @unchecked: `listener` is set once before use, under `lock`.
  public let base: any DesiredStateStore
  private let lock = NSLock()
  private var listener: (@Sendable () -> Void)?

  public init(_ base: any DesiredStateStore) { self.base = base }

  public func onCommit(_ listener: @escaping @Sendable () -> Void) {
    lock.lock()
    self.listener = listener
    lock.unlock()
  }

  public func currentRevision() async throws -> Int64 { try await base.currentRevision() }
  public func read(_ key: String) async throws -> StoredEntry? { try await base.read(key) }
  public func list(prefix: String, startAfter: String?, limit: Int) async throws -> StoreListing {
    try await base.list(prefix: prefix, startAfter: startAfter, limit: limit)
  }
  public func commit(_ commit: StoreCommit) async throws -> CommitOutcome {
    let outcome = try await base.commit(commit)
    if case .committed = outcome { currentListener?() }
    return outcome
  }

  private var currentListener: (@Sendable () -> Void)? {
    lock.withLock { listener }
  }
  public func idempotencyRecord(scope: String, key: String, now: Date) async throws -> IdempotencyRecord? {
    try await base.idempotencyRecord(scope: scope, key: key, now: now)
  }
  public func purgeIdempotencyRecords(expiredBefore now: Date) async throws -> Int {
    try await base.purgeIdempotencyRecords(expiredBefore: now)
  }
  public func changes(prefix: String, after revision: Int64, limit: Int) async throws -> [StoreEvent] {
    try await base.changes(prefix: prefix, after: revision, limit: limit)
  }
}
