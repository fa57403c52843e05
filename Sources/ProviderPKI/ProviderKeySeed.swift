import CProviderPKI
import Foundation

/// The provider's key seed (`key-seed` in the PKI folder, 32 random bytes
/// as 64 hex digits, mode 0600): the one secret every other key-encryption
/// key is derived from, with HMAC-SHA-256 (RFC 2104) over a label, so that
/// neither side keeps a list of them:
///
/// - each card's key-encryption key (`cards/NAME.kek`, written beside its
///   certificate when the card is issued): the controller wraps (RFC 5649)
///   the ESP keys and volume data keys it pushes to that card with it, and the card
///   unwraps them with its copy;
/// - the controller's store key, which wraps the keys the controller
///   keeps in its desired-state store (card-pair and site keys, volumes'
///   data keys).
///
/// The seed stays with the controller (like `controller.key`); a card only
/// ever holds its own derived key.
public struct ProviderKeySeed: Sendable {
  public static let byteCount = 32
  let bytes: [UInt8]

  /// The seed in `folder`, made first if missing.
  public static func loadOrCreate(in folder: URL) throws(PKIError) -> ProviderKeySeed {
    let path = folder.appendingPathComponent("key-seed").path
    if !FileManager.default.fileExists(atPath: path) {
      var fresh = [UInt8](repeating: 0, count: byteCount)
      guard pki_random(&fresh, fresh.count) == 0 else { throw .openSSL("no random bytes for the key seed") }
      try writeSecret(Hex.encode(fresh) + "\n", to: path)
    }
    return try load(from: path)
  }

  /// The seed at `path`; an error that says how to make one.
  public static func load(from path: String) throws(PKIError) -> ProviderKeySeed {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw .io("cannot read \(path); `dpuctl pki init` (or `pki issue-card`) makes it")
    }
    let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    guard let bytes = Hex.decode(text), bytes.count == byteCount else {
      throw .io("\(path) does not hold 64 hex digits")
    }
    return ProviderKeySeed(bytes: bytes)
  }

  /// The key-encryption key of card `name` (32 bytes, AES-256 key wrap).
  public func cardKeyEncryptionKey(_ name: String) -> [UInt8] {
    derive("bulkhead card key-encryption key v1:" + name)
  }

  /// The key the controller wraps the keys it stores with.
  public var storeKey: [UInt8] { derive("bulkhead controller key store v1") }

  func derive(_ label: String) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 32)
    let data = Array(label.utf8)
    let status = pki_hmac_sha256(bytes, bytes.count, data, data.count, &out)
    precondition(status == 0, "HMAC-SHA-256 failed")
    return out
  }

  static func writeSecret(_ text: String, to path: String) throws(PKIError) {
    // Created 0600 before anything is written to it.
    guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
    else { throw .io("cannot create \(path)") }
    do {
      try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    } catch {
      throw .io("cannot write \(path): \(error.localizedDescription)")
    }
  }
}
