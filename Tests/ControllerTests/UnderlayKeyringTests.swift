import CardCrypto
import Foundation
import Management
import ProviderAPI
import ProviderPKI
import Testing

@testable import Controller

/// The card-pair ESP keys: made per pair, wrapped per card, rotated
/// make-before-break only as far as both cards have confirmed, kept in the
/// store across controller restarts.
@Suite struct UnderlayKeyringTests {
  let clock = ManualClock()
  let store: SQLiteDesiredStateStore
  let seed: ProviderKeySeed
  let folder: URL
  let pair = UnderlayKeyring.Pair("cards/c2", "cards/c1")
  let addresses: [String: IPPrefix] = [
    "cards/c1": .host([192, 0, 2, 1]), "cards/c2": .host([192, 0, 2, 2]), "cards/c3": .host([192, 0, 2, 3]),
  ]

  init() throws {
    store = try SQLiteDesiredStateStore(path: ":memory:")
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("seed-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    seed = try ProviderKeySeed.loadOrCreate(in: folder)
  }

  func keyring(every seconds: Int64 = 60) -> UnderlayKeyring {
    UnderlayKeyring(
      seed: seed,
      settings: UnderlayKeyring.Settings(rotationInterval: .seconds(seconds), retireGrace: .seconds(5)))
  }

  func sas(_ ring: UnderlayKeyring, _ card: String) throws -> [SecurityAssociationSlice] {
    try ring.associations(forCard: card, address: { addresses[$0] })
  }

  /// The key material an SA carries, unwrapped with `card`'s KEK.
  func material(_ sa: SecurityAssociationSlice, kekOf card: String) throws -> [UInt8] {
    let kek = try UnderlayKeyring.symmetricKey(seed.cardKeyEncryptionKey(card))
    let key = try KeyWrap.unwrap(sa.wrappedKey, kek: kek)
    return key.withUnsafeBytes { Array($0) }
  }

  /// A confirmation that says yes for the SAs listed.
  func running(_ confirmed: [(String, UInt32, SecurityAssociationSlice.Direction)])
    -> UnderlayKeyring.Confirmation
  {
    { card, spi, direction in confirmed.contains { $0.0 == card && $0.1 == spi && $0.2 == direction } }
  }

  @Test func aNewPairGetsOneKeyPerDirectionWrappedForEachCard() async throws {
    let ring = keyring()
    #expect(try await ring.advance(needed: [pair], now: clock.now, running: running([]), store: store))
    let c1 = try sas(ring, "cards/c1")
    let c2 = try sas(ring, "cards/c2")
    #expect(c1.map(\.direction) == [.inbound, .outbound])
    #expect(c2.map(\.direction) == [.inbound, .outbound])
    // What c1 seals with, c2 opens with: same SPI, same key.
    #expect(c1[1].spi == c2[0].spi && c2[1].spi == c1[0].spi)
    #expect(try material(c1[1], kekOf: "c1") == material(c2[0], kekOf: "c2"))
    #expect(try material(c2[1], kekOf: "c2") == material(c1[0], kekOf: "c1"))
    #expect(try material(c1[0], kekOf: "c1") != material(c1[1], kekOf: "c1"))
    #expect(try material(c1[0], kekOf: "c1").count == 36)
    // Addresses are the two cards', and c2 cannot unwrap c1's copy.
    #expect(c1[1].localAddress == .host([192, 0, 2, 1]) && c1[1].remoteAddress == .host([192, 0, 2, 2]))
    #expect(c1.allSatisfy { $0.cipher == .aesGCM256 && $0.extendedSequenceNumbers && $0.spi >= 0x1000 })
    #expect(throws: CryptoError.self) { try material(c1[0], kekOf: "c2") }
    // Nothing more to do until the interval has passed.
    #expect(try await !ring.advance(needed: [pair], now: clock.now, running: running([]), store: store))
  }

  @Test func rotationSwitchesOnlyWhatBothCardsCanOpen() async throws {
    let ring = keyring(every: 60)
    _ = try await ring.advance(needed: [pair], now: clock.now, running: running([]), store: store)
    let old = try sas(ring, "cards/c1")
    clock.advance(by: 59)
    #expect(try await !ring.advance(needed: [pair], now: clock.now, running: running([]), store: store))
    clock.advance(by: 1)
    // Step 1: a new epoch, inbound only; both still seal with the old one.
    #expect(try await ring.advance(needed: [pair], now: clock.now, running: running([]), store: store))
    let c1 = try sas(ring, "cards/c1")
    let c2 = try sas(ring, "cards/c2")
    #expect(c1.filter { $0.direction == .inbound }.count == 2)
    #expect(c1.filter { $0.direction == .outbound }.map(\.spi) == [old[1].spi])
    let newToC1 = try #require(c1.first { $0.direction == .inbound && $0.spi != old[0].spi }).spi
    let newToC2 = try #require(c2.first { $0.direction == .inbound && $0.spi != old[1].spi }).spi
    // Only c1 has it: no switch.
    let onlyC1 = running([("cards/c1", newToC1, .inbound)])
    #expect(try await !ring.advance(needed: [pair], now: clock.now, running: onlyC1, store: store))
    #expect(try sas(ring, "cards/c1").filter { $0.direction == .outbound }.map(\.spi) == [old[1].spi])
    // Step 2: both run it; both switch, the old epoch still opens.
    let both = running([("cards/c1", newToC1, .inbound), ("cards/c2", newToC2, .inbound)])
    #expect(try await ring.advance(needed: [pair], now: clock.now, running: both, store: store))
    let switched = try sas(ring, "cards/c1")
    #expect(switched.filter { $0.direction == .outbound }.map(\.spi) == [newToC2])
    #expect(Set(switched.filter { $0.direction == .inbound }.map(\.spi)) == [old[0].spi, newToC1])
    // Step 3 waits for the grace and for both cards to run the switch.
    let sealing = running([("cards/c1", newToC2, .outbound), ("cards/c2", newToC1, .outbound)])
    clock.advance(by: 4)
    #expect(try await !ring.advance(needed: [pair], now: clock.now, running: sealing, store: store))
    clock.advance(by: 1)
    let halfSealing = running([("cards/c1", newToC2, .outbound)])
    #expect(try await !ring.advance(needed: [pair], now: clock.now, running: halfSealing, store: store))
    #expect(try await ring.advance(needed: [pair], now: clock.now, running: sealing, store: store))
    let after = try sas(ring, "cards/c1")
    #expect(after.map(\.spi) == [newToC1, newToC2])
    #expect(try material(after[0], kekOf: "c1") != material(old[0], kekOf: "c1"))
  }

  @Test func aRestartedControllerCarriesOnWithTheStoredKeys() async throws {
    let first = keyring()
    _ = try await first.advance(needed: [pair], now: clock.now, running: running([]), store: store)
    clock.advance(by: 60)
    _ = try await first.advance(needed: [pair], now: clock.now, running: running([]), store: store)
    let before = try sas(first, "cards/c2")
    #expect(before.count == 3)
    // The stored record holds no key in the clear.
    let record = try #require(try await store.read("underlay-keys/c1,c2"))
    let plain = try material(before[0], kekOf: "c2")
    #expect(!Hex.encode(Array(record.value)).contains(Hex.encode(plain)))
    #expect(!String(decoding: record.value, as: UTF8.self).contains(Hex.encode(plain)))

    // A new keyring reads them (and says so: slices need them), writes
    // nothing, and pushes the same SAs.
    let second = keyring()
    #expect(try await second.advance(needed: [pair], now: clock.now, running: running([]), store: store))
    #expect(try await store.read("underlay-keys/c1,c2")?.modRevision == record.modRevision)
    #expect(try sas(second, "cards/c2") == before)
    #expect(try await !second.advance(needed: [pair], now: clock.now, running: running([]), store: store))
  }

  @Test func pairsComeAndGoWithSPIsUniquePerReceiver() async throws {
    let ring = keyring()
    let pairs: Set = [
      pair, UnderlayKeyring.Pair("cards/c1", "cards/c3"), UnderlayKeyring.Pair("cards/c2", "cards/c3"),
    ]
    _ = try await ring.advance(needed: pairs, now: clock.now, running: running([]), store: store)
    for card in ["cards/c1", "cards/c2", "cards/c3"] {
      let inbound = try sas(ring, card).filter { $0.direction == .inbound }.map(\.spi)
      #expect(inbound.count == 2 && Set(inbound).count == 2)
    }
    // c3 leaves every VPC of c1's: their SAs and stored keys go.
    #expect(
      try await ring.advance(
        needed: [pair, UnderlayKeyring.Pair("cards/c2", "cards/c3")], now: clock.now, running: running([]),
        store: store))
    #expect(try sas(ring, "cards/c1").count == 2)
    #expect(try sas(ring, "cards/c3").allSatisfy { $0.remoteAddress == .host([192, 0, 2, 2]) })
    #expect(try await store.read("underlay-keys/c1,c3") == nil)
    // A card without an underlay address gets no SAs.
    #expect(
      try ring.associations(forCard: "cards/c1", address: { $0 == "cards/c1" ? nil : addresses[$0] }).isEmpty)
  }

  /// Through the reconciler: two cards of one VPC get a key pair in their
  /// slices, and a restarted controller keeps the stored keys (its first
  /// pass, before it knows the pairs, must not retire them).
  @Test func aRestartedReconcilerKeepsTheStoredKeys() async throws {
    let fixture = try Fixture()
    try await fixture.standardTenant()
    for (id, ip) in [("k2", "192.0.2.2"), ("k3", "192.0.2.3")] {
      let request = Bulkhead_V1_RegisterCardRequest.with {
        $0.cardID = id
        $0.card.underlayIp = ip
        $0.requestID = Fixture.key()
      }
      _ = try await fixture.service.create(
        request.card, id: id, parent: "", rules: CardRules(), request: request, requestID: request.requestID,
        principal: .providerAdmin)
    }
    _ = try await fixture.nic("a", mac: "02:00:00:00:00:0a", ips: ["10.0.1.10"], card: "cards/k2")
    _ = try await fixture.nic("b", mac: "02:00:00:00:00:0b", ips: ["10.0.1.11"], card: "cards/k3")
    func reconciler() -> CardReconciler {
      CardReconciler(store: fixture.store, keyring: keyring(), wallClock: { [clock] in clock.now })
    }
    let first = reconciler()
    for _ in 0..<3 { try await first.reconcile() }
    let stored = try #require(try await fixture.store.read("underlay-keys/k2,k3"))
    let slice = try #require(first.desiredSlice(forCard: "k2"))
    #expect(slice.securityAssociations.map(\.direction) == [.inbound, .outbound])
    #expect(slice.securityAssociations.allSatisfy { $0.remoteAddress == .host([192, 0, 2, 3]) })

    let second = reconciler()
    for _ in 0..<3 { try await second.reconcile() }
    let after = try #require(try await fixture.store.read("underlay-keys/k2,k3"))
    #expect(after.modRevision == stored.modRevision && after.value == stored.value)
    #expect(second.desiredSlice(forCard: "k2")?.securityAssociations == slice.securityAssociations)
  }
}
