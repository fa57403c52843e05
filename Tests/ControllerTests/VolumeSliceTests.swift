import CardCrypto
import Foundation
import Management
import ProviderAPI
import ProviderPKI
import Testing

@testable import Controller

/// A volume reaches exactly the cards it is attached to, its data key
/// wrapped for each with that card's key-encryption key; a resize or a
/// detach changes the slice, and so the generation the reconciler pushes.
struct VolumeSliceTests {
  let seed: ProviderKeySeed
  let rules = VolumeRulesTests()

  init() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("seed-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    seed = try ProviderKeySeed.loadOrCreate(in: folder)
  }

  /// Cards a and b, tenant acme, volume data (read-write, NBD over a unix
  /// socket) attached to a.
  func fixture() async throws -> Fixture {
    let fixture = try Fixture()
    try await fixture.card("a")
    try await fixture.card("b")
    try await fixture.tenant("acme")
    try await rules.create(fixture, storeKey: seed.storeKey) {
      $0.backendUri = "nbd+unix:///data?socket=/run/nbd.sock"
      $0.sectorSize = 512
      $0.queues = 4
    }
    try await rules.attach(fixture, "data-a", card: "cards/a", hostFunction: "data.sock")
    return fixture
  }

  func slices(_ fixture: Fixture) async throws -> BuiltSlices {
    try await CardSliceBuilder(store: fixture.store, keyring: UnderlayKeyring(seed: seed))
      .build(forCards: ["cards/a", "cards/b"])
  }

  func unwrap(_ wrapped: [UInt8], kekOf card: String) throws -> [UInt8] {
    let key = try KeyWrap.unwrap(
      wrapped, kek: try UnderlayKeyring.symmetricKey(seed.cardKeyEncryptionKey(card)))
    return key.withUnsafeBytes { Array($0) }
  }

  func storedKey(_ fixture: Fixture) async throws -> [UInt8] {
    let entry = try #require(
      try await fixture.store.read(Bulkhead_V1_Volume.key("tenants/acme/volumes/data")))
    let volume = try Bulkhead_V1_Volume(serializedBytes: entry.value)
    return try UnderlayKeyring.unwrap(Array(volume.wrappedDataKey), with: seed.storeKey)
  }

  @Test func anAttachedVolumeIsInItsCardsSliceOnlyWithTheKeyWrappedForThatCard() async throws {
    let fixture = try await fixture()
    let built = try await slices(fixture)
    let volumes = try #require(built.slices["cards/a"]?.volumes)
    #expect(built.slices["cards/b"]?.volumes.isEmpty == true)
    #expect(volumes.count == 1)
    let volume = try #require(volumes.first)
    #expect(volume.id == 1 && volume.sizeBytes == 8 << 20 && volume.cipher == .aesXTS256)
    #expect(volume.backend == "nbd:unix:/run/nbd.sock" && volume.exportName == "data")
    #expect(
      volume.sectorSize == 512 && volume.queues == 4 && !volume.readOnly && volume.hostFunction == "data.sock"
    )
    #expect(volume.wrappedKey.count == 72)
    let key = try await storedKey(fixture)
    #expect(try unwrap(volume.wrappedKey, kekOf: "a") == key)
    #expect(throws: (any Error).self) { try unwrap(volume.wrappedKey, kekOf: "b") }
    // The slice encodes and decodes as the card reads it.
    let frame = try ManagementMessage.desiredState(try #require(built.slices["cards/a"])).encodeFrame()
    #expect(!frame.isEmpty)
    #expect(built.problems.isEmpty)
  }

  @Test func aVolumeOnTwoCardsIsWrappedForEachAndOrderedByAttachment() async throws {
    let fixture = try Fixture()
    try await fixture.card("a")
    try await fixture.card("b")
    try await fixture.tenant("acme")
    try await rules.create(fixture, "shared", storeKey: seed.storeKey) { $0.readOnly = true }
    try await rules.create(fixture, "logs", storeKey: seed.storeKey) {
      $0.backendUri = "nbd://192.0.2.10/logs"
    }
    try await rules.attach(fixture, "z-shared", volume: "tenants/acme/volumes/shared", card: "cards/a")
    try await rules.attach(fixture, "b-shared", volume: "tenants/acme/volumes/shared", card: "cards/b")
    try await rules.attach(fixture, "a-logs", volume: "tenants/acme/volumes/logs", card: "cards/a")
    let built = try await slices(fixture)
    let onA = try #require(built.slices["cards/a"]?.volumes)
    let onB = try #require(built.slices["cards/b"]?.volumes)
    #expect(onA.map(\.hostFunction) == ["a-logs.sock", "z-shared.sock"])
    #expect(onA.map(\.id) == [2, 1] && onB.map(\.id) == [1])
    #expect(onA[0].backend == "nbd:192.0.2.10:10809" && onA[0].exportName == "logs")
    #expect(onA[1].readOnly && onB[0].readOnly)
    #expect(onA[1].wrappedKey != onB[0].wrappedKey)
    #expect(try unwrap(onA[1].wrappedKey, kekOf: "a") == unwrap(onB[0].wrappedKey, kekOf: "b"))
  }

  @Test func aResizeChangesTheSliceAndADetachRemovesIt() async throws {
    let fixture = try await fixture()
    let before = try await slices(fixture)
    // Built twice from the same store: the same slice (the wrap is deterministic).
    #expect(try await slices(fixture).slices == before.slices)
    _ = try await rules.update(fixture, ["size_bytes"]) { $0.sizeBytes = 16 << 20 }
    let grown = try await slices(fixture)
    #expect(grown.slices["cards/a"]?.volumes.first?.sizeBytes == 16 << 20)
    #expect(grown.slices["cards/a"] != before.slices["cards/a"])
    #expect(grown.slices["cards/b"] == before.slices["cards/b"])
    try await rules.detach(fixture, "data-a")
    #expect(try await slices(fixture).slices["cards/a"]?.volumes.isEmpty == true)
  }

  @Test func theReconcilerGivesAChangedSliceANewGeneration() async throws {
    let fixture = try await fixture()
    let reconciler = CardReconciler(store: fixture.store, keyring: UnderlayKeyring(seed: seed))
    try await reconciler.reconcile()
    let first = try #require(reconciler.desiredSlice(forCard: "a"))
    #expect(first.volumes.count == 1)
    let unrelated = try #require(reconciler.desiredSlice(forCard: "b")).generation

    _ = try await rules.update(fixture, ["size_bytes"]) { $0.sizeBytes = 16 << 20 }
    try await reconciler.reconcile()
    let grown = try #require(reconciler.desiredSlice(forCard: "a"))
    #expect(grown.generation > first.generation && grown.volumes.first?.sizeBytes == 16 << 20)
    #expect(reconciler.desiredSlice(forCard: "b")?.generation == unrelated)

    try await rules.detach(fixture, "data-a")
    try await reconciler.reconcile()
    let detached = try #require(reconciler.desiredSlice(forCard: "a"))
    #expect(detached.generation > grown.generation && detached.volumes.isEmpty)

    try await rules.attach(fixture, "data-b", card: "cards/b")
    try await reconciler.reconcile()
    #expect(reconciler.desiredSlice(forCard: "b")?.volumes.map(\.hostFunction) == ["data-b.sock"])
    #expect(try #require(reconciler.desiredSlice(forCard: "b")).generation > unrelated)
  }

  @Test func aKeyTheStoreKeyDoesNotOpenIsLeftOutAndSaid() async throws {
    let fixture = try Fixture()
    try await fixture.card("a")
    try await fixture.tenant("acme")
    // Wrapped with another controller's store key.
    try await rules.create(fixture, storeKey: (0..<32).map { UInt8($0) })
    try await rules.attach(fixture, "data-a", card: "cards/a")
    let built = try await slices(fixture)
    #expect(built.slices["cards/a"]?.volumes.isEmpty == true)
    #expect(built.problems["cards/a"]?.first?.contains("does not unwrap") == true)
    // Without a keyring no volume can be wrapped for a card.
    let bare = try await CardSliceBuilder(store: fixture.store).build(forCards: ["cards/a"])
    #expect(bare.slices["cards/a"]?.volumes.isEmpty == true)
    #expect(bare.problems["cards/a"]?.first?.contains("no key seed") == true)
  }
}
