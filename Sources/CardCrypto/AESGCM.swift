import CCardCrypto

/// AES-GCM (NIST SP 800-38D) bound to one key: the AEAD under IPsec ESP
/// (RFC 4106) and TLS records (RFC 5288, RFC 8446 §5.2).
///
/// The OpenSSL context is keyed once, here; each packet only sets its nonce,
/// so `seal` and `open` allocate nothing. A value serves one thread: keep one
/// per core (both methods are `mutating`, so Swift's exclusivity rules stop
/// two overlapping uses of the same value).
///
/// ESP: nonce = 4-byte salt from the key material || 8-byte explicit IV
/// (RFC 4106 §4), AAD = SPI || sequence number (32-bit, or 64-bit with ESN)
/// (RFC 4106 §5), tag = the 16-byte ICV (RFC 4106 §6 also allows 8 and 12).
public struct AESGCM: ~Copyable {
  /// The nonce length ESP and TLS use (RFC 4106 §4, RFC 5288 §3).
  public static let nonceByteCount = 12
  /// The full tag length; ESP and TLS use it.
  public static let tagByteCount = 16

  private let context: OpaquePointer

  /// Keys AES-128-GCM (16-byte key) or AES-256-GCM (32-byte key).
  public init(key: borrowing SymmetricKey) throws(CryptoError) {
    guard key.byteCount == 16 || key.byteCount == 32 else {
      throw .invalidKeySize(key.byteCount)
    }
    var created: OpaquePointer? = nil
    let status = key.withUnsafeBytes { bytes in
      ccc_gcm_create(&created, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count)
    }
    try check(status, authentication: .backendFailure)
    guard let created else { throw .backendFailure }
    context = created
  }

  deinit {
    ccc_gcm_free(context)
  }

  /// Per packet. Encrypts `text` in place and writes the tag to `tag`
  /// (`tag.count` bytes: 16, or 4, 8, 12...15 where a protocol truncates).
  public mutating func seal(
    nonce: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer,
    inPlace text: UnsafeMutableRawBufferPointer, tag: UnsafeMutableRawBufferPointer
  ) throws(CryptoError) {
    try Self.validate(nonce: nonce.count, tag: tag.count)
    let status = ccc_gcm_seal(
      context, Self.bytes(nonce), nonce.count, Self.bytes(aad), aad.count,
      Self.bytes(text), text.count, Self.bytes(tag), tag.count)
    try check(status, authentication: .backendFailure)
  }

  /// Per packet. Decrypts `text` in place after the tag checks out.
  /// Throws `.authenticationFailed` if the ciphertext, AAD, nonce or tag was
  /// altered; `text` is then zeroed (SP 800-38D §7.2: no unauthenticated
  /// plaintext is released) and the packet must be dropped and counted.
  public mutating func open(
    nonce: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer,
    inPlace text: UnsafeMutableRawBufferPointer, tag: UnsafeRawBufferPointer
  ) throws(CryptoError) {
    try Self.validate(nonce: nonce.count, tag: tag.count)
    let status = ccc_gcm_open(
      context, Self.bytes(nonce), nonce.count, Self.bytes(aad), aad.count,
      Self.bytes(text), text.count, Self.bytes(tag), tag.count)
    try check(status, authentication: .authenticationFailed)
  }

  /// SP 800-38D §5.2.1.1 and §5.2.1.2: nonces up to what OpenSSL holds
  /// (128 bytes), tags of 128, 120, 112, 104, 96, 64 or 32 bits.
  private static func validate(nonce: Int, tag: Int) throws(CryptoError) {
    guard nonce >= 1 && nonce <= 128 else { throw .invalidNonceSize(nonce) }
    guard tag == 4 || tag == 8 || (tag >= 12 && tag <= 16) else { throw .invalidTagSize(tag) }
    // The C shim takes lengths as size_t and checks them against INT_MAX.
  }

  // A buffer's bytes as the shim's `uint8_t *`; nil for an empty buffer
  // without storage, which the shim accepts with a zero length. Binding to
  // UInt8 is sound: the C side only reads and writes the memory as bytes
  // (uint8_t may alias any type) and within the length passed beside it.
  private static func bytes(_ buffer: UnsafeRawBufferPointer) -> UnsafePointer<UInt8>? {
    buffer.baseAddress?.assumingMemoryBound(to: UInt8.self)
  }
  private static func bytes(_ buffer: UnsafeMutableRawBufferPointer) -> UnsafeMutablePointer<UInt8>? {
    buffer.baseAddress?.assumingMemoryBound(to: UInt8.self)
  }
}

// Array's closure methods rethrow untyped errors, which Embedded Swift lacks:
// the conveniences carry the outcome out of non-throwing closures instead.
extension AESGCM {
  /// Convenience for tests, tools and the control plane (allocates): seals
  /// a copy of `plaintext`, returning ciphertext and a 16-byte tag.
  public mutating func seal(
    nonce: [UInt8], aad: [UInt8], plaintext: [UInt8]
  ) throws(CryptoError) -> (ciphertext: [UInt8], tag: [UInt8]) {
    var text = plaintext
    var tag = [UInt8](repeating: 0, count: Self.tagByteCount)
    var failure: CryptoError? = nil
    nonce.withUnsafeBytes { n in
      aad.withUnsafeBytes { a in
        text.withUnsafeMutableBytes { t in
          tag.withUnsafeMutableBytes { g in
            do throws(CryptoError) {
              try seal(nonce: n, aad: a, inPlace: t, tag: g)
            } catch {
              failure = error
            }
          }
        }
      }
    }
    if let failure { throw failure }
    return (text, tag)
  }

  /// Convenience for tests, tools and the control plane (allocates): opens
  /// a copy of `ciphertext`, or throws `.authenticationFailed`.
  public mutating func open(
    nonce: [UInt8], aad: [UInt8], ciphertext: [UInt8], tag: [UInt8]
  ) throws(CryptoError) -> [UInt8] {
    var text = ciphertext
    var failure: CryptoError? = nil
    nonce.withUnsafeBytes { n in
      aad.withUnsafeBytes { a in
        text.withUnsafeMutableBytes { t in
          tag.withUnsafeBytes { g in
            do throws(CryptoError) {
              try open(nonce: n, aad: a, inPlace: t, tag: g)
            } catch {
              failure = error
            }
          }
        }
      }
    }
    if let failure { throw failure }
    return text
  }
}
