import CardCrypto
import Foundation
import Management
import ProviderPKI

/// The ESP keys between cards (the Nitro model: every byte between two
/// cards on the underlay is encrypted by the cards). The controller makes
/// them, one pair of SAs per pair of cards that serve NICs of a common VPC,
/// pushes each card its SAs in its slice (every key wrapped with that
/// card's key-encryption key, `ProviderKeySeed`), and rotates them on a
/// schedule, make-before-break across the two cards:
///
/// 1. a new epoch is made: its SAs go to both cards as inbound SAs only
///    (both keep sealing with the active epoch);
/// 2. once both cards run a slice holding the new inbound SAs (applied ==
///    desired), the new epoch becomes the active one: each card's outbound
///    SA switches to it, and the old epoch is retiring (still opened);
/// 3. once both cards run the switch and `retireGrace` has passed, the old
///    epoch leaves the slices (the card keeps opening with it for its own
///    grace of a few seconds, for packets in flight).
///
/// No card ever seals with a key its peer cannot yet open, so a rekey
/// loses no packet. A card that is offline holds the rotation at step 1 or
/// 2 until it is back; the active keys stay valid meanwhile.
///
/// The first epoch of a new pair is active at once: the slice that brings
/// a card its first SAs with a peer also brings it the first mappings to
/// that peer's NICs, so no tenant traffic between them exists before.
///
/// Epochs live in the desired-state store (`underlay-keys/LOW,HIGH`) with
/// their keys wrapped by the controller's store key, so a restarted
/// controller carries on with the keys the cards run.
public final class UnderlayKeyring: @unchecked Sendable {
  // @unchecked: used by the reconciler's pass only, one at a time.
  public struct Settings: Sendable {
    /// How long an epoch is active before the next one is made.
    public var rotationInterval: Duration
    /// How long a retired epoch is still pushed after both cards switched.
    public var retireGrace: Duration
    public var replayWindow: UInt32
    public init(
      rotationInterval: Duration = .seconds(3600), retireGrace: Duration = .seconds(5),
      replayWindow: UInt32 = 4096
    ) {
      self.rotationInterval = rotationInterval
      self.retireGrace = retireGrace
      self.replayWindow = replayWindow
    }
  }

  /// Two card names (the registered `cards/…` names), `low < high`.
  public struct Pair: Hashable, Sendable, Comparable {
    public var low: String
    public var high: String
    public init(_ a: String, _ b: String) {
      (low, high) = a < b ? (a, b) : (b, a)
    }
    public static func < (a: Pair, b: Pair) -> Bool { (a.low, a.high) < (b.low, b.high) }
    var storeKey: String { UnderlayKeyring.storePrefix + a(low) + "," + a(high) }
    private func a(_ name: String) -> String { CardReconciler.cardID(name) }
  }

  /// One generation of a pair's keys: a key and SPI per direction (the SPI
  /// is the receiver's: unique among the receiving card's inbound SAs).
  public struct Epoch: Equatable, Sendable {
    public var number: UInt32
    public var spiToLow: UInt32
    public var spiToHigh: UInt32
    /// AES-256 key then the 4-byte salt (RFC 4106 §8.1).
    var keyToLow: [UInt8]
    var keyToHigh: [UInt8]
    public var createdAt: Date

    func spi(to card: String, in pair: Pair) -> UInt32 { card == pair.low ? spiToLow : spiToHigh }
    func key(to card: String, in pair: Pair) -> [UInt8] { card == pair.low ? keyToLow : keyToHigh }
  }

  public struct PairKeys: Equatable, Sendable {
    public var active: Epoch
    /// Made, pushed as inbound only; not yet sealing.
    public var next: Epoch?
    /// The previous active epoch, still opened until `retireAfter`.
    public var retiring: Epoch?
    public var retireAfter: Date?
  }

  static let storePrefix = "underlay-keys/"
  static let keyMaterialByteCount = 36  // AES-256 + salt

  public let settings: Settings
  private let seed: ProviderKeySeed
  public private(set) var pairs: [Pair: PairKeys] = [:]
  private var loaded = false
  /// The store revision each pair's record has (0: not stored).
  private var storedRevision: [Pair: Int64] = [:]

  public init(seed: ProviderKeySeed, settings: Settings = Settings()) {
    self.seed = seed
    self.settings = settings
  }

  /// What the keyring asks of the reconciler about a card: does it run
  /// (applied == desired) a slice holding this SA?
  public typealias Confirmation = (
    _ card: String, _ spi: UInt32, _ direction: SecurityAssociationSlice.Direction
  )
    -> Bool

  /// One step of every pair's rotation (the type's comment); the pairs
  /// that changed are written to `store`. True when something changed
  /// (or the stored keys were read: slices need building again).
  public func advance(
    needed: Set<Pair>, now: Date, running: Confirmation, store: any DesiredStateStore
  ) async throws -> Bool {
    // The first call reads the stored keys: the slices built before have none.
    var readStored = false
    if !loaded {
      try await load(from: store)
      readStored = !pairs.isEmpty
    }
    var changed: [Pair] = []
    var removed: [Pair] = []
    for pair in pairs.keys where !needed.contains(pair) {
      pairs[pair] = nil
      removed.append(pair)
    }
    for pair in needed.sorted() {
      guard var keys = pairs[pair] else {
        pairs[pair] = PairKeys(active: try makeEpoch(1, for: pair, now: now))
        changed.append(pair)
        continue
      }
      let before = keys
      let switched =
        running(pair.low, keys.active.spiToHigh, .outbound)
        && running(pair.high, keys.active.spiToLow, .outbound)
      if keys.retiring != nil, let after = keys.retireAfter, now >= after, switched {
        keys.retiring = nil
        keys.retireAfter = nil
      }
      if let next = keys.next {
        if running(pair.low, next.spiToLow, .inbound) && running(pair.high, next.spiToHigh, .inbound) {
          keys.retiring = keys.active
          keys.active = next
          keys.next = nil
          keys.retireAfter = now.addingTimeInterval(Self.seconds(settings.retireGrace))
        }
      } else if keys.retiring == nil,
        now.timeIntervalSince(keys.active.createdAt) >= Self.seconds(settings.rotationInterval)
      {
        keys.next = try makeEpoch(keys.active.number &+ 1, for: pair, now: now)
      }
      if keys != before {
        pairs[pair] = keys
        changed.append(pair)
      }
    }
    guard !changed.isEmpty || !removed.isEmpty else { return readStored }
    try await save(changed, removed: removed, to: store, now: now)
    return true
  }

  /// Card `card`'s SAs with every peer it shares a pair with: inbound for
  /// each epoch still pushed, outbound for the active one. `address` gives
  /// a card's underlay address (host prefix); a pair without both is left
  /// out.
  public func associations(forCard card: String, address: (String) -> IPPrefix?) throws
    -> [SecurityAssociationSlice]
  {
    guard let local = address(card) else { return [] }
    let kekBytes = seed.cardKeyEncryptionKey(CardReconciler.cardID(card))
    let kek = try Self.symmetricKey(kekBytes)
    var result: [SecurityAssociationSlice] = []
    for (pair, keys) in pairs.sorted(by: { $0.key < $1.key }) where pair.low == card || pair.high == card {
      let peer = pair.low == card ? pair.high : pair.low
      guard let remote = address(peer) else { continue }
      func sa(_ epoch: Epoch, _ direction: SecurityAssociationSlice.Direction) throws
        -> SecurityAssociationSlice
      {
        let receiver = direction == .inbound ? card : peer
        let material = epoch.key(to: receiver, in: pair)
        let key = try Self.symmetricKey(material)
        return SecurityAssociationSlice(
          tunnel: 0, spi: epoch.spi(to: receiver, in: pair), direction: direction, cipher: .aesGCM256,
          localAddress: local, remoteAddress: remote, extendedSequenceNumbers: true,
          antiReplayWindow: settings.replayWindow, wrappedKey: try KeyWrap.wrap(key, kek: kek))
      }
      for epoch in [keys.retiring, keys.active, keys.next].compactMap({ $0 }) {
        result.append(try sa(epoch, .inbound))
      }
      result.append(try sa(keys.active, .outbound))
    }
    return result
  }

  /// A card's tunnels to outside sites: a `SiteSlice` each (handles 1, 2, …
  /// in name order) and its manual SA pair, the keys unwrapped from the
  /// store key and wrapped again with the card's key-encryption key. A
  /// tunnel whose keys do not unwrap is left out (and said in `problems`).
  public func sites(
    forCard card: String, tunnels: [SiteTunnelInput], address: IPPrefix
  ) throws -> (sites: [SiteSlice], associations: [SecurityAssociationSlice], problems: [String]) {
    var sites: [SiteSlice] = []
    var associations: [SecurityAssociationSlice] = []
    var problems: [String] = []
    for input in tunnels {
      let tunnel = input.tunnel
      let handle = UInt32(sites.count + 1)
      guard let gateway = IPAddressValue(Substring(tunnel.remoteIp)), let text = tunnel.remoteCidrs.first,
        case .success(let remote) = CIDRBlock.parse(text)
      else {
        problems.append("\(tunnel.name): bad remote_ip or remote_cidrs")
        continue
      }
      // Inbound: the current SA, a rekey's next one, the previous one; outbound: the current.
      var sas: [(SecurityAssociationSlice.Direction, UInt32, [UInt8])] = []
      do {
        func rewrapped(_ data: Data) throws -> [UInt8] { try self.rewrapped(Array(data), forCard: card) }
        sas.append((.inbound, tunnel.inboundSpi, try rewrapped(tunnel.wrappedInboundKey)))
        if tunnel.nextInboundSpi != 0, !tunnel.wrappedNextInboundKey.isEmpty {
          sas.append((.inbound, tunnel.nextInboundSpi, try rewrapped(tunnel.wrappedNextInboundKey)))
        }
        if tunnel.previousInboundSpi != 0, !tunnel.wrappedPreviousInboundKey.isEmpty {
          sas.append((.inbound, tunnel.previousInboundSpi, try rewrapped(tunnel.wrappedPreviousInboundKey)))
        }
        sas.append((.outbound, tunnel.outboundSpi, try rewrapped(tunnel.wrappedOutboundKey)))
      } catch {
        problems.append("\(tunnel.name): its keys do not unwrap with this controller's store key")
        continue
      }
      let cipher: SliceCipher = tunnel.cipher == .aesGcm128 ? .aesGCM128 : .aesGCM256
      let window = max(tunnel.antiReplayWindow, 64)
      sites.append(
        SiteSlice(
          id: handle, vni: input.vni, gateway: .host(gateway.bytes),
          remote: IPPrefix(address: remote.network.bytes, length: UInt8(remote.prefixLength)),
          local: input.local))
      for (direction, spi, key) in sas {
        associations.append(
          SecurityAssociationSlice(
            tunnel: handle, spi: spi, direction: direction, cipher: cipher, localAddress: address,
            remoteAddress: .host(gateway.bytes), extendedSequenceNumbers: tunnel.extendedSequenceNumbers,
            antiReplayWindow: window, wrappedKey: key))
      }
    }
    return (sites, associations, problems)
  }

  // MARK: making epochs

  private func makeEpoch(_ number: UInt32, for pair: Pair, now: Date) throws -> Epoch {
    Epoch(
      number: number, spiToLow: try freshSPI(receiver: pair.low),
      spiToHigh: try freshSPI(receiver: pair.high),
      keyToLow: try randomBytes(Self.keyMaterialByteCount),
      keyToHigh: try randomBytes(Self.keyMaterialByteCount),
      createdAt: now)
  }

  /// An SPI no inbound SA of `receiver` has (RFC 4303 §2.1: 256 and up).
  private func freshSPI(receiver: String) throws -> UInt32 {
    var used: Set<UInt32> = []
    for (pair, keys) in pairs where pair.low == receiver || pair.high == receiver {
      for epoch in [keys.retiring, keys.active, keys.next].compactMap({ $0 }) {
        used.insert(epoch.spi(to: receiver, in: pair))
      }
    }
    while true {
      let bytes = try randomBytes(4)
      let spi = bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
      if spi >= 0x1000, !used.contains(spi) { return spi }
    }
  }

  private func randomBytes(_ count: Int) throws -> [UInt8] {
    let key = try SymmetricKey.random(byteCount: count)
    return key.withUnsafeBytes { Array($0) }
  }

  /// A key made from bytes (the copy used on the way is cleansed).
  static func symmetricKey(_ bytes: [UInt8]) throws -> SymmetricKey {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
    defer {
      SymmetricKey.cleanse(buffer)
      buffer.deallocate()
    }
    buffer.copyBytes(from: bytes)
    return try SymmetricKey(copying: UnsafeRawBufferPointer(rebasing: buffer[..<bytes.count]))
  }

  static func seconds(_ d: Duration) -> TimeInterval {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
  }

  // MARK: the store

  private struct Record: Codable {
    struct StoredEpoch: Codable {
      var number: UInt32
      var spiToLow: UInt32
      var spiToHigh: UInt32
      /// Hex of the key wrapped (RFC 5649) with the store key.
      var wrappedKeyToLow: String
      var wrappedKeyToHigh: String
      var createdAt: Date
    }
    var low: String
    var high: String
    var active: StoredEpoch
    var next: StoredEpoch?
    var retiring: StoredEpoch?
    var retireAfter: Date?
  }

  private func storeSymmetricKey() throws -> SymmetricKey {
    try Self.symmetricKey(seed.storeKey)
  }

  /// The key that wraps keys at rest in the store (site tunnel keys and
  /// volume data keys too).
  public var storeKey: [UInt8] { seed.storeKey }

  /// Key material the store keeps wrapped with the store key, wrapped
  /// again with `card`'s key-encryption key for its slice (site keys,
  /// volume data keys); throws when it does not unwrap with the store key.
  /// RFC 5649 wrapping is deterministic, so the same key gives the same
  /// slice at every pass.
  public func rewrapped(_ stored: [UInt8], forCard card: String) throws -> [UInt8] {
    let key = try KeyWrap.unwrap(stored, kek: try storeSymmetricKey())
    let kek = try Self.symmetricKey(seed.cardKeyEncryptionKey(CardReconciler.cardID(card)))
    return try KeyWrap.wrap(key, kek: kek)
  }

  /// `bytes` wrapped (RFC 5649) with `kek`.
  static func wrap(_ bytes: [UInt8], with kek: [UInt8]) throws -> [UInt8] {
    try KeyWrap.wrap(try symmetricKey(bytes), kek: try symmetricKey(kek))
  }

  /// What `wrap` wrapped; throws when `kek` is not the one.
  static func unwrap(_ wrapped: [UInt8], with kek: [UInt8]) throws -> [UInt8] {
    let key = try KeyWrap.unwrap(wrapped, kek: try symmetricKey(kek))
    return key.withUnsafeBytes { Array($0) }
  }

  private func load(from store: any DesiredStateStore) async throws {
    let listing = try await store.listAll(prefix: Self.storePrefix)
    let kek = try storeSymmetricKey()
    let decoder = JSONDecoder()
    for entry in listing.entries {
      let record = try decoder.decode(Record.self, from: Data(entry.value))
      func epoch(_ e: Record.StoredEpoch) throws -> Epoch {
        func unwrap(_ hex: String) throws -> [UInt8] {
          guard let wrapped = Hex.decode(hex) else { throw UnderlayKeyringError.badRecord(entry.key) }
          let key = try KeyWrap.unwrap(wrapped, kek: kek)
          return key.withUnsafeBytes { Array($0) }
        }
        return Epoch(
          number: e.number, spiToLow: e.spiToLow, spiToHigh: e.spiToHigh,
          keyToLow: try unwrap(e.wrappedKeyToLow),
          keyToHigh: try unwrap(e.wrappedKeyToHigh), createdAt: e.createdAt)
      }
      let pair = Pair(record.low, record.high)
      pairs[pair] = PairKeys(
        active: try epoch(record.active), next: try record.next.map(epoch),
        retiring: try record.retiring.map(epoch),
        retireAfter: record.retireAfter)
      storedRevision[pair] = entry.modRevision
    }
    loaded = true
  }

  private func save(_ changed: [Pair], removed: [Pair], to store: any DesiredStateStore, now: Date)
    async throws
  {
    let kek = try storeSymmetricKey()
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    func stored(_ e: Epoch) throws -> Record.StoredEpoch {
      func wrap(_ bytes: [UInt8]) throws -> String {
        let key = try Self.symmetricKey(bytes)
        return Hex.encode(try KeyWrap.wrap(key, kek: kek))
      }
      return Record.StoredEpoch(
        number: e.number, spiToLow: e.spiToLow, spiToHigh: e.spiToHigh, wrappedKeyToLow: try wrap(e.keyToLow),
        wrappedKeyToHigh: try wrap(e.keyToHigh), createdAt: e.createdAt)
    }
    var operations: [StoreOperation] = []
    var conditions: [StoreCondition] = []
    for pair in changed {
      guard let keys = pairs[pair] else { continue }
      let record = Record(
        low: pair.low, high: pair.high, active: try stored(keys.active), next: try keys.next.map(stored),
        retiring: try keys.retiring.map(stored), retireAfter: keys.retireAfter)
      operations.append(.put(pair.storeKey, Array(try encoder.encode(record))))
      conditions.append(.keyRevision(pair.storeKey, storedRevision[pair] ?? 0))
    }
    for pair in removed {
      operations.append(.delete(pair.storeKey))
      conditions.append(.keyRevision(pair.storeKey, storedRevision[pair] ?? 0))
    }
    let outcome = try await store.commit(
      StoreCommit(conditions: conditions, operations: operations, idempotency: nil, now: now))
    switch outcome {
    case .committed(let revision):
      for pair in changed { storedRevision[pair] = revision }
      for pair in removed { storedRevision[pair] = nil }
    case .conflict, .alreadyRecorded:
      // Another writer moved the keys (a second controller): read them again
      // at the next pass rather than overwrite what the cards may run.
      pairs = [:]
      storedRevision = [:]
      loaded = false
      throw UnderlayKeyringError.storeConflict
    }
  }
}

public enum UnderlayKeyringError: Error, CustomStringConvertible {
  case storeConflict
  case badRecord(String)
  public var description: String {
    switch self {
    case .storeConflict: return "the underlay keys changed in the store under this controller; re-read"
    case .badRecord(let key): return "\(key) holds a wrapped key that is not hex"
    }
  }
}
