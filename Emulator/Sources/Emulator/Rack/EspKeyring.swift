import Foundation

/// The ESP keys of a rack's card pairs, one per generation and direction
/// (sender → receiver), kept in the rack's state directory (`esp-keys`,
/// mode 0600) so that `dpuctl emu apply` writes the same keys again and a
/// rekey (a higher `esp-generation`) adds new ones. Random bytes from the
/// kernel (getrandom via /dev/urandom). On hardware the controller makes
/// and pushes these; the rack stands in for it (Docs/rack.md).
public struct EspKeyring: Equatable, Sendable {
  public struct Entry: Equatable, Sendable {
    public var generation: Int
    public var sender: String
    public var receiver: String
    /// AES key then 4-byte salt (RFC 4106 §8.1), as hex.
    public var keyHex: String
  }

  public var entries: [Entry] = []
  public static let fileName = "esp-keys"
  /// The key generation of the site tunnels (they are not rekeyed yet).
  public static let siteGeneration = 1

  public init(entries: [Entry] = []) { self.entries = entries }

  public func key(generation: Int, sender: String, receiver: String) -> String? {
    entries.first { $0.generation == generation && $0.sender == sender && $0.receiver == receiver }?.keyHex
  }

  /// The SPI a receiver chose for one sender and generation: unique per
  /// receiver and generation, never reserved (RFC 4303 §2.1).
  public static func spi(generation: Int, senderIndex: Int, receiverIndex: Int) -> Int {
    generation << 16 | (receiverIndex & 0xFF) << 8 | (senderIndex & 0xFF)
  }

  public static func load(stateDirectory: String) -> EspKeyring {
    guard let text = try? String(contentsOfFile: stateDirectory + "/" + fileName, encoding: .utf8) else {
      return EspKeyring()
    }
    var ring = EspKeyring()
    for line in text.split(whereSeparator: \.isNewline) {
      let fields = line.split(separator: " ").map(String.init)
      guard fields.count == 4, let generation = Int(fields[0]) else { continue }
      ring.entries.append(
        Entry(generation: generation, sender: fields[1], receiver: fields[2], keyHex: fields[3]))
    }
    return ring
  }

  /// Adds what `topology` needs for its generation (and keeps the rest, so
  /// the previous generation stays available during a rekey) and saves.
  @discardableResult
  public static func ensure(for topology: RackTopology, stateDirectory: String) throws -> EspKeyring {
    var ring = load(stateDirectory: stateDirectory)
    var changed = false
    func ensure(generation: Int, sender: String, receiver: String, cipher: String) throws {
      let byteCount = (cipher == "aes-gcm-256" ? 32 : 16) + 4
      guard ring.key(generation: generation, sender: sender, receiver: receiver)?.count != 2 * byteCount
      else {
        return
      }
      ring.entries.removeAll { $0.generation == generation && $0.sender == sender && $0.receiver == receiver }
      ring.entries.append(
        Entry(
          generation: generation, sender: sender, receiver: receiver,
          keyHex: try randomHex(byteCount: byteCount)))
      changed = true
    }
    if let cipher = topology.esp {
      for sender in topology.cards {
        for receiver in topology.cards where receiver.name != sender.name {
          try ensure(
            generation: topology.espGeneration, sender: sender.name, receiver: receiver.name, cipher: cipher)
        }
      }
    }
    // Sites: one generation, both directions with every card of the VPC.
    for site in topology.sites {
      for card in topology.cards
      where topology.guests.contains(where: { $0.card == card.name && $0.vpc == site.vpc }) {
        try ensure(generation: siteGeneration, sender: card.name, receiver: site.name, cipher: site.cipher)
        try ensure(generation: siteGeneration, sender: site.name, receiver: card.name, cipher: site.cipher)
      }
    }
    if changed {
      try writePrivateFile(
        ring.entries.map { "\($0.generation) \($0.sender) \($0.receiver) \($0.keyHex)\n" }.joined(),
        to: stateDirectory + "/" + fileName)
    }
    return ring
  }

  static func randomHex(byteCount: Int) throws -> String {
    guard let handle = FileHandle(forReadingAtPath: "/dev/urandom") else {
      throw RackError("cannot read /dev/urandom for ESP keys")
    }
    defer { try? handle.close() }
    let data = handle.readData(ofLength: byteCount)
    guard data.count == byteCount else { throw RackError("short read from /dev/urandom for ESP keys") }
    return hexDigits(data)
  }
}
