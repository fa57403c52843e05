import Foundation
import ProviderAPI
import Testing

@testable import Controller

@Test func migrationsApplyOnceAndDataSurvivesReopening() async throws {
  let path = FileManager.default.temporaryDirectory.appendingPathComponent(
    "store-\(UUID().uuidString).sqlite"
  ).path
  defer { try? FileManager.default.removeItem(atPath: path) }
  do {
    let store = try SQLiteDesiredStateStore(path: path)
    #expect(try store.appliedMigrations() == ["v1-kv-events-idempotency"])
    let outcome = try await store.commit(
      StoreCommit(conditions: [], operations: [.put("a", [1])], idempotency: nil, now: Date()))
    #expect(outcome == .committed(revision: 1))
  }
  let reopened = try SQLiteDesiredStateStore(path: path)
  #expect(try reopened.appliedMigrations() == ["v1-kv-events-idempotency"])
  #expect(try await reopened.read("a")?.value == [1])
  #expect(try await reopened.currentRevision() == 1)
}

@Test func compareAndSwapOnKeyRevisions() async throws {
  let store = try SQLiteDesiredStateStore(path: ":memory:")
  let now = Date()
  #expect(
    try await store.commit(
      StoreCommit(
        conditions: [.keyRevision("k", 0)], operations: [.put("k", [1])], idempotency: nil, now: now))
      == .committed(revision: 1))
  // A writer that read the key as absent loses.
  #expect(
    try await store.commit(
      StoreCommit(
        conditions: [.keyRevision("k", 0)], operations: [.put("k", [2])], idempotency: nil, now: now))
      == .conflict)
  #expect(
    try await store.commit(
      StoreCommit(
        conditions: [.keyRevision("k", 1)], operations: [.put("k", [3])], idempotency: nil, now: now))
      == .committed(revision: 2))
  let entry = try await store.read("k")
  #expect(entry == StoredEntry(key: "k", value: [3], createRevision: 1, modRevision: 2))
}

@Test func prefixConditionsSeeAdditionsAndDeletions() async throws {
  let store = try SQLiteDesiredStateStore(path: ":memory:")
  let now = Date()
  _ = try await store.commit(
    StoreCommit(conditions: [], operations: [.put("p/a", [1])], idempotency: nil, now: now))
  let listing = try await store.list(prefix: "p/", startAfter: nil, limit: 10)
  _ = try await store.commit(
    StoreCommit(conditions: [], operations: [.delete("p/a")], idempotency: nil, now: now))
  let stale = StoreCommit(
    conditions: [.prefixUnchangedSince("p/", listing.revision)], operations: [.put("x", [1])],
    idempotency: nil,
    now: now)
  #expect(try await store.commit(stale) == .conflict)
  // Keys outside the prefix do not disturb it.
  _ = try await store.commit(
    StoreCommit(conditions: [], operations: [.put("q", [1])], idempotency: nil, now: now))
  let fresh = StoreCommit(
    conditions: [.prefixUnchangedSince("p/", 2)], operations: [.put("x", [1])], idempotency: nil, now: now)
  #expect(try await store.commit(fresh) == .committed(revision: 4))
}

@Test func changesReplayPutsAndDeletesInOrderForWatchers() async throws {
  let store = try SQLiteDesiredStateStore(path: ":memory:")
  let now = Date()
  _ = try await store.commit(
    StoreCommit(conditions: [], operations: [.put("r/a", [1]), .put("s/x", [9])], idempotency: nil, now: now))
  _ = try await store.commit(
    StoreCommit(conditions: [], operations: [.delete("r/a")], idempotency: nil, now: now))
  let events = try await store.changes(prefix: "r/", after: 0, limit: 10)
  #expect(events.map(\.kind) == [.put, .delete])
  #expect(events.map(\.revision) == [1, 2])
  #expect(try await store.changes(prefix: "r/", after: 1, limit: 10).count == 1)
}

@Test func pagesOfAListingAreDisjointAndComplete() async throws {
  let fixture = try Fixture()
  for index in 0..<5 { try await fixture.tenant("t\(index)") }
  var seen: [String] = []
  var token = ""
  repeat {
    let page = try await fixture.service.list(
      ProviderAPI.Bulkhead_V1_Tenant.self, parent: "", pageSize: 2, pageToken: token,
      principal: .providerAdmin)
    #expect(page.resources.count <= 2)
    seen += page.resources.map(\.name)
    token = page.nextPageToken
  } while !token.isEmpty
  #expect(seen == (0..<5).map { "tenants/t\($0)" })
}
