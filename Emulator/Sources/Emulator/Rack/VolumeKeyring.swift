import CardCrypto
import Foundation

/// The data keys of a rack's volumes, kept only wrapped (RFC 5649) under
/// their card's key-encryption key, as the card's `volume` line expects
/// them (Docs/volumes.md). The rack stands in for the controller here: it
/// gives each card that serves volumes a KEK file (`cards/CARD/kek`, 64 hex
/// digits, mode 0600, what the line's `kek-file=` names) and draws each
/// volume's 64-byte AES-XTS-256 key into card-style key storage, wraps it
/// and lets it go (cleansed); the clear key is never written anywhere. The
/// wrapped keys are kept in `volume-keys` so that `dpuctl emu apply`
/// writes the same lines again.
public struct VolumeKeyring: Equatable, Sendable {
  public struct Entry: Equatable, Sendable {
    public var volume: String
    public var card: String
    /// The data key wrapped under the card's KEK, as hex (144 digits).
    public var wrappedKeyHex: String
  }

  public var entries: [Entry] = []
  public static let fileName = "volume-keys"
  /// AES-XTS-256: two 256-bit keys.
  static let dataKeyByteCount = 64

  public init(entries: [Entry] = []) { self.entries = entries }

  public func wrappedKey(volume: String, card: String) -> String? {
    entries.first { $0.volume == volume && $0.card == card }?.wrappedKeyHex
  }

  /// The KEK file of a card, in the rack's state directory.
  public static func kekPath(card: String, stateDirectory: String) -> String {
    stateDirectory + "/cards/" + card + "/kek"
  }

  public static func load(stateDirectory: String) -> VolumeKeyring {
    guard let text = try? String(contentsOfFile: stateDirectory + "/" + fileName, encoding: .utf8) else {
      return VolumeKeyring()
    }
    var ring = VolumeKeyring()
    for line in text.split(whereSeparator: \.isNewline) {
      let fields = line.split(separator: " ").map(String.init)
      guard fields.count == 3 else { continue }
      ring.entries.append(Entry(volume: fields[0], card: fields[1], wrappedKeyHex: fields[2]))
    }
    return ring
  }

  /// Makes what `topology` needs and keeps what is there: a KEK for each
  /// card that serves a volume, a wrapped data key for each volume. The
  /// cards' directories must exist.
  @discardableResult
  public static func ensure(for topology: RackTopology, stateDirectory: String) throws -> VolumeKeyring {
    var ring = load(stateDirectory: stateDirectory)
    var changed = false
    for card in Set(topology.volumes.map(\.card)).sorted() {
      let path = kekPath(card: card, stateDirectory: stateDirectory)
      if !FileManager.default.fileExists(atPath: path) {
        try writePrivateFile(try EspKeyring.randomHex(byteCount: 32) + "\n", to: path)
      }
    }
    for volume in topology.volumes where ring.wrappedKey(volume: volume.name, card: volume.card) == nil {
      ring.entries.removeAll { $0.volume == volume.name }
      let path = kekPath(card: volume.card, stateDirectory: stateDirectory)
      let hex = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingSpaces
      do {
        let kek = try SymmetricKey(hex: (hex ?? "").filter { !$0.isNewline })
        // The clear data key lives only in this key storage, which is
        // cleansed when it goes out of scope.
        let dataKey = try SymmetricKey.random(byteCount: dataKeyByteCount)
        let wrapped = try KeyWrap.wrap(dataKey, kek: kek)
        ring.entries.append(
          Entry(
            volume: volume.name, card: volume.card,
            wrappedKeyHex: hexDigits(wrapped)))
      } catch {
        throw RackError("volume \(volume.name): cannot make its wrapped data key with \(path): \(error)")
      }
      changed = true
    }
    if changed {
      try writePrivateFile(
        ring.entries.map { "\($0.volume) \($0.card) \($0.wrappedKeyHex)\n" }.joined(),
        to: stateDirectory + "/" + fileName)
    }
    return ring
  }
}

/// Key bytes as lowercase hex, two digits a byte.
func hexDigits(_ bytes: some Sequence<UInt8>) -> String {
  bytes.map { String(format: "%02x", $0) }.joined()
}

/// Writes a file of keys only its owner may read (mode 0600 from the start).
func writePrivateFile(_ text: String, to path: String) throws {
  guard
    FileManager.default.createFile(
      atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
  else { throw RackError("cannot write \(path)") }
}
