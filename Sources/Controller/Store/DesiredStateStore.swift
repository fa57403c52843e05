import Foundation

/// Where the controller keeps desired state: a revisioned key-value store in
/// the shape of etcd's API, so that SQLite (one machine) and etcd (a fleet of
/// controller replicas) can both sit behind it.
///
/// Writers are optimistic: they read what they need, noting each key's
/// revision (and the store revision of each prefix they listed), then commit
/// their writes on the condition that none of it changed meanwhile
/// (etcd's `Txn` compare-and-swap). An idempotency claim rides in the same
/// commit, so the record of a request and its effect land together or not
/// at all.
public protocol DesiredStateStore: Sendable {
  /// The revision of the last commit; 0 for an empty store.
  func currentRevision() async throws -> Int64
  func read(_ key: String) async throws -> StoredEntry?
  /// Keys starting with `prefix`, in key order, after `startAfter`, at most
  /// `limit`; with the revision they were read at.
  func list(prefix: String, startAfter: String?, limit: Int) async throws -> StoreListing
  func commit(_ commit: StoreCommit) async throws -> CommitOutcome
  /// The unexpired record of an earlier request with this key, if any.
  func idempotencyRecord(scope: String, key: String, now: Date) async throws -> IdempotencyRecord?
  /// Drops records that expired before `now`; returns how many.
  func purgeIdempotencyRecords(expiredBefore now: Date) async throws -> Int
  /// Changes to keys under `prefix` after `revision`, in revision order: the
  /// building block of watches (a reconciler resumes from its last revision).
  func changes(prefix: String, after revision: Int64, limit: Int) async throws -> [StoreEvent]
}

extension DesiredStateStore {
  /// Every entry under `prefix`, page by page, and the lowest revision a
  /// page was read at (what a caller may condition a commit on).
  public func listAll(prefix: String, pageSize: Int = 500) async throws -> StoreListing {
    var entries: [StoredEntry] = []
    var after: String?
    var revision = Int64.max
    while true {
      let page = try await list(prefix: prefix, startAfter: after, limit: pageSize)
      entries += page.entries
      revision = min(revision, page.revision)
      guard page.entries.count == pageSize, let last = page.entries.last else { break }
      after = last.key
    }
    return StoreListing(entries: entries, revision: revision)
  }
}

public struct StoredEntry: Sendable, Equatable {
  public var key: String
  public var value: [UInt8]
  public var createRevision: Int64
  public var modRevision: Int64
}

public struct StoreListing: Sendable {
  public var entries: [StoredEntry]
  public var revision: Int64
}

/// A condition a commit checks before writing.
public enum StoreCondition: Sendable, Equatable {
  /// The key's modification revision is `revision`; 0 means absent.
  case keyRevision(String, Int64)
  /// No key under the prefix was put or deleted after `revision`.
  case prefixUnchangedSince(String, Int64)
}

public enum StoreOperation: Sendable, Equatable {
  case put(String, [UInt8])
  case delete(String)
}

/// The record of a mutating request, kept until `expiresAt` so that a retry
/// gets the same answer.
public struct IdempotencyClaim: Sendable {
  public var scope: String
  public var key: String
  /// SHA-256 of the request: the same key with a different request is
  /// refused rather than answered with another request's result.
  public var fingerprint: [UInt8]
  public var response: [UInt8]
  public var expiresAt: Date
}

public struct IdempotencyRecord: Sendable, Equatable {
  public var fingerprint: [UInt8]
  public var response: [UInt8]
  public var revision: Int64
}

public struct StoreCommit: Sendable {
  public var conditions: [StoreCondition]
  public var operations: [StoreOperation]
  public var idempotency: IdempotencyClaim?
  /// The clock of the caller, for telling an expired claim from a live one.
  public var now: Date

  public init(
    conditions: [StoreCondition], operations: [StoreOperation], idempotency: IdempotencyClaim?, now: Date
  ) {
    self.conditions = conditions
    self.operations = operations
    self.idempotency = idempotency
    self.now = now
  }
}

public enum CommitOutcome: Sendable, Equatable {
  case committed(revision: Int64)
  /// A condition failed: someone changed what the caller read; read again.
  case conflict
  /// A live record with the same scope and key was committed first (a
  /// concurrent duplicate); nothing was written.
  case alreadyRecorded(IdempotencyRecord)
}

public struct StoreEvent: Sendable, Equatable {
  public enum Kind: String, Sendable { case put, delete }
  public var revision: Int64
  public var key: String
  public var kind: Kind
  public var value: [UInt8]
}
