import CardCrypto
import Testing

/// AESGCM against python3 `cryptography` (`openssl enc` cannot do AEAD
/// modes), at the sizes the data plane uses: empty, a 64-byte packet, an
/// MTU-sized ESP payload and a 16 KiB TLS record, with ESP-shaped nonce
/// and AAD.
@Suite struct GCMOracleTests {
  @Test(.enabled(if: pythonCryptographyAvailable), arguments: [16, 32], [0, 1, 64, 1420, 16384])
  func matchesPythonCryptography(keyBytes: Int, length: Int) throws {
    var bytes = TestBytes(state: UInt64(keyBytes * 100_003 + length))
    let key = bytes.next(keyBytes)
    let nonce = bytes.next(12)
    let aad = bytes.next(length % 2 == 0 ? 8 : 12)  // SPI || seq, 32- or 64-bit
    let plaintext = bytes.next(length)
    let script = """
      import sys
      from cryptography.hazmat.primitives.ciphers.aead import AESGCM
      key, nonce, aad = (bytes.fromhex(a) for a in sys.argv[1:4])
      sys.stdout.buffer.write(AESGCM(key).encrypt(nonce, sys.stdin.buffer.read(), aad))
      """
    let expected = try #require(
      run("python3", ["-c", script, hexString(key), hexString(nonce), hexString(aad)], input: plaintext))
    let k = try SymmetricKey(hex: hexString(key))
    var gcm = try AESGCM(key: k)
    let sealed = try gcm.seal(nonce: nonce, aad: aad, plaintext: plaintext)
    #expect(sealed.ciphertext + sealed.tag == expected)
  }
}
