import CFirmwareImage
import Foundation

/// An Ed25519 public key (RFC 8032) that a card trusts for firmware.
public struct VerifyingKey: Hashable, Sendable {
  public let raw: [UInt8]

  public init?(raw: [UInt8]) {
    guard raw.count == Int(BH_ED25519_KEY_BYTES) else { return nil }
    self.raw = raw
  }

  /// The key's id in image headers: SHA-256 of the raw public key.
  public var id: SHA256Digest { SHA256Digest(of: raw) }

  /// RFC 8032 §5.1.7; false for any invalid signature.
  public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
    guard signature.count == Int(BH_ED25519_SIGNATURE_BYTES) else { return false }
    // Sound: each buffer is valid for the length the shim reads from it.
    return message.withUnsafeBufferPointer { message in
      bh_ed25519_verify(raw, message.baseAddress, message.count, signature) == 0
    }
  }
}

/// An Ed25519 private key for signing firmware images.
public struct SigningKey: Sendable {
  public let verifyingKey: VerifyingKey
  private let seed: [UInt8]

  /// A new random key (OpenSSL's generator).
  public static func generate() -> SigningKey {
    var seed = [UInt8](repeating: 0, count: 32)
    var publicKey = [UInt8](repeating: 0, count: 32)
    precondition(bh_ed25519_generate(&seed, &publicKey) == 0, "OpenSSL could not make an Ed25519 key")
    return SigningKey(seed: seed, publicKey: publicKey)
  }

  public init?(seed: [UInt8]) {
    var publicKey = [UInt8](repeating: 0, count: 32)
    guard seed.count == 32, bh_ed25519_public_key(seed, &publicKey) == 0 else { return nil }
    self.init(seed: seed, publicKey: publicKey)
  }

  private init(seed: [UInt8], publicKey: [UInt8]) {
    self.seed = seed
    verifyingKey = VerifyingKey(raw: publicKey)!
  }

  public func signature(for message: [UInt8]) -> [UInt8] {
    var signature = [UInt8](repeating: 0, count: Int(BH_ED25519_SIGNATURE_BYTES))
    // Sound: each buffer is valid for the length the shim uses.
    let status = message.withUnsafeBufferPointer { message in
      bh_ed25519_sign(seed, message.baseAddress, message.count, &signature)
    }
    precondition(status == 0, "OpenSSL's Ed25519 signing failed")
    return signature
  }

  /// The private key file: one line, `bulkhead-ed25519-private <hex seed>`.
  public var fileText: String { "\(KeyFile.privatePrefix) \(Hex.encode(seed))\n" }
}

/// Key files: one line of text each, so that they are easy to inspect and
/// to keep in a secret store. The public file is what a card's OTP holds.
public enum KeyFile {
  static let privatePrefix = "bulkhead-ed25519-private"
  static let publicPrefix = "bulkhead-ed25519-public"

  public static func publicText(_ key: VerifyingKey) -> String {
    "\(publicPrefix) \(Hex.encode(key.raw))\n"
  }

  public static func readSigningKey(at path: String) throws(FirmwareImageError) -> SigningKey {
    guard let seed = try hexField(at: path, prefix: privatePrefix), let key = SigningKey(seed: seed)
    else { throw .badKeyFile(path: path, expected: "a private key made by `dpuctl firmware keygen`") }
    return key
  }

  public static func readVerifyingKey(at path: String) throws(FirmwareImageError) -> VerifyingKey {
    guard let raw = try hexField(at: path, prefix: publicPrefix), let key = VerifyingKey(raw: raw)
    else { throw .badKeyFile(path: path, expected: "a public key made by `dpuctl firmware keygen`") }
    return key
  }

  static func hexField(at path: String, prefix: String) throws(FirmwareImageError) -> [UInt8]? {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
      throw .cannotRead(path: path)
    }
    let words = text.split(whereSeparator: \.isWhitespace)
    guard words.count == 2, words[0] == prefix else { return nil }
    return Hex.decode(words[1])
  }
}
