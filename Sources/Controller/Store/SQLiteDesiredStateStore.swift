import Foundation
import GRDB

/// The single-machine `DesiredStateStore`: one SQLite file (WAL mode), all
/// writes serialised by SQLite's writer, so a commit's conditions, its
/// writes, its event log entries and its idempotency record are one
/// transaction.
public final class SQLiteDesiredStateStore: DesiredStateStore {
  private let database: DatabaseQueue

  /// Opens (creating if needed) the store at `path` and brings its schema
  /// up to date; `":memory:"` gives a private in-memory store.
  public init(path: String) throws {
    var configuration = Configuration()
    configuration.busyMode = .timeout(5)
    database =
      path == ":memory:"
      ? try DatabaseQueue(configuration: configuration)
      : try DatabaseQueue(path: path, configuration: configuration)
    try Self.migrator.migrate(database)
  }

  /// Schema history. Append migrations; never edit a shipped one.
  static var migrator: DatabaseMigrator {
    var migrator = DatabaseMigrator()
    migrator.registerMigration("v1-kv-events-idempotency") { db in
      try db.execute(
        sql: """
          CREATE TABLE kv (
            key TEXT PRIMARY KEY NOT NULL,
            value BLOB NOT NULL,
            create_revision INTEGER NOT NULL,
            mod_revision INTEGER NOT NULL
          ) WITHOUT ROWID;
          CREATE TABLE events (
            revision INTEGER NOT NULL,
            key TEXT NOT NULL,
            kind TEXT NOT NULL,
            value BLOB NOT NULL
          );
          CREATE INDEX events_by_key ON events(key, revision);
          CREATE INDEX events_by_revision ON events(revision);
          CREATE TABLE store_revision (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            revision INTEGER NOT NULL
          );
          INSERT INTO store_revision (id, revision) VALUES (1, 0);
          CREATE TABLE idempotency (
            scope TEXT NOT NULL,
            key TEXT NOT NULL,
            fingerprint BLOB NOT NULL,
            response BLOB NOT NULL,
            revision INTEGER NOT NULL,
            expires_at REAL NOT NULL,
            PRIMARY KEY (scope, key)
          ) WITHOUT ROWID;
          """)
    }
    return migrator
  }

  /// Names of the migrations applied to this file, oldest first.
  public func appliedMigrations() throws -> [String] {
    try database.read { db in try Array(Self.migrator.appliedMigrations(db)) }
  }

  public func currentRevision() async throws -> Int64 {
    try await database.read { db in try Self.revision(db) }
  }

  public func read(_ key: String) async throws -> StoredEntry? {
    try await database.read { db in
      try Row.fetchOne(db, sql: "SELECT * FROM kv WHERE key = ?", arguments: [key]).map(Self.entry)
    }
  }

  public func list(prefix: String, startAfter: String?, limit: Int) async throws -> StoreListing {
    try await database.read { db in
      let rows = try Row.fetchAll(
        db,
        sql: "SELECT * FROM kv WHERE key >= ? AND key < ? AND key > ? ORDER BY key LIMIT ?",
        arguments: [prefix, Self.prefixEnd(prefix), startAfter ?? "", limit])
      return StoreListing(entries: rows.map(Self.entry), revision: try Self.revision(db))
    }
  }

  public func commit(_ commit: StoreCommit) async throws -> CommitOutcome {
    try await database.write { db in
      if let claim = commit.idempotency,
        let record = try Self.liveRecord(db, scope: claim.scope, key: claim.key, now: commit.now)
      {
        return .alreadyRecorded(record)
      }
      for condition in commit.conditions where try !Self.holds(condition, db) {
        return .conflict
      }
      let revision = try Self.revision(db) + 1
      for operation in commit.operations {
        switch operation {
        case .put(let key, let value):
          try db.execute(
            sql: """
              INSERT INTO kv (key, value, create_revision, mod_revision) VALUES (?, ?, ?, ?)
              ON CONFLICT(key) DO UPDATE SET value = excluded.value, mod_revision = excluded.mod_revision
              """, arguments: [key, Data(value), revision, revision])
          try db.execute(
            sql: "INSERT INTO events (revision, key, kind, value) VALUES (?, ?, 'put', ?)",
            arguments: [revision, key, Data(value)])
        case .delete(let key):
          try db.execute(sql: "DELETE FROM kv WHERE key = ?", arguments: [key])
          try db.execute(
            sql: "INSERT INTO events (revision, key, kind, value) VALUES (?, ?, 'delete', x'')",
            arguments: [revision, key])
        }
      }
      if let claim = commit.idempotency {
        try db.execute(
          sql: """
            INSERT OR REPLACE INTO idempotency (scope, key, fingerprint, response, revision, expires_at)
            VALUES (?, ?, ?, ?, ?, ?)
            """,
          arguments: [
            claim.scope, claim.key, Data(claim.fingerprint), Data(claim.response), revision,
            claim.expiresAt.timeIntervalSince1970,
          ])
      }
      try db.execute(sql: "UPDATE store_revision SET revision = ? WHERE id = 1", arguments: [revision])
      return .committed(revision: revision)
    }
  }

  public func idempotencyRecord(scope: String, key: String, now: Date) async throws -> IdempotencyRecord? {
    try await database.read { db in try Self.liveRecord(db, scope: scope, key: key, now: now) }
  }

  public func purgeIdempotencyRecords(expiredBefore now: Date) async throws -> Int {
    try await database.write { db in
      try db.execute(
        sql: "DELETE FROM idempotency WHERE expires_at <= ?", arguments: [now.timeIntervalSince1970])
      return db.changesCount
    }
  }

  public func changes(prefix: String, after revision: Int64, limit: Int) async throws -> [StoreEvent] {
    try await database.read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT * FROM events WHERE revision > ? AND key >= ? AND key < ?
          ORDER BY revision, rowid LIMIT ?
          """, arguments: [revision, prefix, Self.prefixEnd(prefix), limit]
      ).map { row in
        StoreEvent(
          revision: row["revision"], key: row["key"],
          kind: StoreEvent.Kind(rawValue: row["kind"]) ?? .put, value: [UInt8](row["value"] as Data))
      }
    }
  }

  private static func holds(_ condition: StoreCondition, _ db: Database) throws -> Bool {
    switch condition {
    case .keyRevision(let key, let expected):
      let actual =
        try Int64.fetchOne(db, sql: "SELECT mod_revision FROM kv WHERE key = ?", arguments: [key]) ?? 0
      return actual == expected
    case .prefixUnchangedSince(let prefix, let since):
      let latest =
        try Int64.fetchOne(
          db, sql: "SELECT MAX(revision) FROM events WHERE key >= ? AND key < ?",
          arguments: [prefix, prefixEnd(prefix)]) ?? 0
      return latest <= since
    }
  }

  private static func liveRecord(
    _ db: Database, scope: String, key: String, now: Date
  ) throws -> IdempotencyRecord? {
    try Row.fetchOne(
      db, sql: "SELECT * FROM idempotency WHERE scope = ? AND key = ? AND expires_at > ?",
      arguments: [scope, key, now.timeIntervalSince1970]
    ).map { row in
      IdempotencyRecord(
        fingerprint: [UInt8](row["fingerprint"] as Data), response: [UInt8](row["response"] as Data),
        revision: row["revision"])
    }
  }

  private static func revision(_ db: Database) throws -> Int64 {
    try Int64.fetchOne(db, sql: "SELECT revision FROM store_revision WHERE id = 1") ?? 0
  }

  private static func entry(_ row: Row) -> StoredEntry {
    StoredEntry(
      key: row["key"], value: [UInt8](row["value"] as Data), createRevision: row["create_revision"],
      modRevision: row["mod_revision"])
  }

  /// The smallest string greater than every string starting with `prefix`
  /// (etcd's range_end for a prefix). Keys are ASCII, so bumping the last
  /// byte is enough.
  static func prefixEnd(_ prefix: String) -> String {
    guard let last = prefix.utf8.last else { return "\u{7F}" }
    return String(decoding: prefix.utf8.dropLast() + [last + 1], as: UTF8.self)
  }
}
