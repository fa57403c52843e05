import CCardCrypto

/// AES key wrap with padding (RFC 5649; NIST SP 800-38F "KWP"): how volume
/// and SA keys travel and rest wrapped under a key-encryption key (KEK) of
/// 128, 192 or 256 bits. Not on any per-packet path.
public enum KeyWrap {
  /// Size of the wrapped form of `keyByteCount` bytes (RFC 5649 §4.1): the
  /// key padded to a multiple of 8, plus the 8-byte integrity block.
  public static func wrappedByteCount(forKeyByteCount keyByteCount: Int) -> Int {
    keyByteCount > 0 ? Int(ccc_key_wrap_size(keyByteCount)) : 0
  }

  /// Wraps `key` under `kek`. The result is not secret and may be stored or
  /// sent as it is.
  public static func wrap(_ key: borrowing SymmetricKey, kek: borrowing SymmetricKey) throws(CryptoError)
    -> [UInt8]
  {
    try validate(kek: kek.byteCount)
    let size = wrappedByteCount(forKeyByteCount: key.byteCount)
    guard size > 0 else { throw .invalidLength(key.byteCount) }
    var wrapped = [UInt8](repeating: 0, count: size)
    var written = 0
    let status = kek.withUnsafeBytes { k in
      key.withUnsafeBytes { plain in
        wrapped.withUnsafeMutableBufferPointer { out in
          ccc_key_wrap(
            k.baseAddress?.assumingMemoryBound(to: UInt8.self), k.count,
            plain.baseAddress?.assumingMemoryBound(to: UInt8.self), plain.count,
            out.baseAddress, out.count, &written)
        }
      }
    }
    try check(status, authentication: .backendFailure)
    guard written == size else { throw .backendFailure }
    return wrapped
  }

  /// Unwraps a wrapped key straight into key storage (the plaintext key
  /// never sits in an array). Throws `.unwrapFailed` when the integrity
  /// check fails: the KEK is wrong or the wrapped bytes were altered.
  public static func unwrap(_ wrapped: UnsafeRawBufferPointer, kek: borrowing SymmetricKey)
    throws(CryptoError)
    -> SymmetricKey
  {
    try validate(kek: kek.byteCount)
    // RFC 5649 §4.2: two semiblocks at least, whole semiblocks only.
    guard wrapped.count >= 16, wrapped.count % 8 == 0, let input = wrapped.baseAddress else {
      throw .invalidLength(wrapped.count)
    }
    return try kek.withUnsafeBytes { (k) throws(CryptoError) -> SymmetricKey in
      try SymmetricKey.filling(capacity: wrapped.count) { (out) throws(CryptoError) -> Int in
        var written = 0
        let status = ccc_key_unwrap(
          k.baseAddress?.assumingMemoryBound(to: UInt8.self), k.count,
          input.assumingMemoryBound(to: UInt8.self), wrapped.count,
          out.assumingMemoryBound(to: UInt8.self), wrapped.count, &written)
        try check(status, authentication: .unwrapFailed)
        guard written > 0 else { throw .unwrapFailed }
        return written
      }
    }
  }

  /// Convenience for tests and tools.
  public static func unwrap(_ wrapped: [UInt8], kek: borrowing SymmetricKey) throws(CryptoError)
    -> SymmetricKey
  {
    // Array's closure methods rethrow untyped errors, which Embedded Swift
    // lacks: carry the outcome out of a non-throwing closure instead.
    var outcome: Result<SymmetricKey, CryptoError>? = nil
    wrapped.withUnsafeBytes { w in
      do throws(CryptoError) {
        outcome = .success(try unwrap(w, kek: kek))
      } catch {
        outcome = .failure(error)
      }
    }
    switch outcome.take() {
    case .success(let key): return key
    case .failure(let error): throw error
    case nil: throw .backendFailure
    }
  }

  private static func validate(kek: Int) throws(CryptoError) {
    guard kek == 16 || kek == 24 || kek == 32 else { throw .invalidKeySize(kek) }
  }
}
