import CardCrypto

/// Runs one published vector per algorithm on the card and prints one line
/// per check. Returns the number of failed checks.
///
/// Vectors: McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)",
/// Appendix B, test case 16; IEEE 1619-2007 Annex B, XTS-AES-256 vector 10;
/// RFC 5649 §6, the 20-octet key under a 192-bit KEK.
func runCryptoChecks() -> Int {
  var failures = 0
  for check in [checkAESGCM256, checkAESGCMTamper, checkAESXTS256, checkKeyWrap] {
    let (name, passed) = check()
    print("crypto: \(name) \(passed ? "ok" : "FAILED")")
    if !passed { failures += 1 }
  }
  return failures
}

private let gcmPlaintext =
  "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
  + "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
private let gcmCiphertext =
  "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
  + "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"

private func checkAESGCM256() -> (String, Bool) {
  do throws(CryptoError) {
    let key = try SymmetricKey(hex: "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
    var gcm = try AESGCM(key: key)
    let nonce = bytes("cafebabefacedbaddecaf888")
    let aad = bytes("feedfacedeadbeeffeedfacedeadbeefabaddad2")
    let sealed = try gcm.seal(nonce: nonce, aad: aad, plaintext: bytes(gcmPlaintext))
    let opened = try gcm.open(nonce: nonce, aad: aad, ciphertext: sealed.ciphertext, tag: sealed.tag)
    let passed =
      sealed.ciphertext == bytes(gcmCiphertext) && sealed.tag == bytes("76fc6ece0f4e1768cddf8853bb2d551b")
      && opened == bytes(gcmPlaintext)
    return ("aes-256-gcm", passed)
  } catch {
    print(error.description)
    return ("aes-256-gcm", false)
  }
}

private func checkAESGCMTamper() -> (String, Bool) {
  do throws(CryptoError) {
    let key = try SymmetricKey(hex: "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
    var gcm = try AESGCM(key: key)
    var tag = bytes("76fc6ece0f4e1768cddf8853bb2d551b")
    tag[0] ^= 1
    _ = try gcm.open(
      nonce: bytes("cafebabefacedbaddecaf888"), aad: bytes("feedfacedeadbeeffeedfacedeadbeefabaddad2"),
      ciphertext: bytes(gcmCiphertext), tag: tag)
    return ("aes-gcm rejects a forged tag", false)
  } catch {
    return ("aes-gcm rejects a forged tag", error == .authenticationFailed)
  }
}

private func checkAESXTS256() -> (String, Bool) {
  do throws(CryptoError) {
    let key = try SymmetricKey(
      hex:
        "27182818284590452353602874713526624977572470936999595749669676273141592653589793238462643383279502884197169399375105820974944592"
    )
    var xts = try AESXTS(key: key, dataUnitSize: .bytes512)
    var unit = [UInt8](repeating: 0, count: 512)
    for i in 0..<512 { unit[i] = UInt8(truncatingIfNeeded: i) }
    let plaintext = unit
    // Vector 10's data unit sequence number is 0xff.
    let ciphertext = try xts.encrypt(sector: 0xff, unit)
    let expectedStart = bytes("1c3b3a102f770386e4836c99e370cf9bea00803f5e482357a4ae12d414a3e63b")
    let expectedEnd = bytes("773dad38014bd2092fa755c824bb5e54c4f36ffda9fcea70b9c6e693e148c151")
    let decrypted = try xts.decrypt(sector: 0xff, ciphertext)
    let passed =
      Array(ciphertext[0..<32]) == expectedStart && Array(ciphertext[480..<512]) == expectedEnd
      && decrypted == plaintext
    return ("aes-256-xts", passed)
  } catch {
    print(error.description)
    return ("aes-256-xts", false)
  }
}

private func checkKeyWrap() -> (String, Bool) {
  do throws(CryptoError) {
    let kek = try SymmetricKey(hex: "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8")
    let key = try SymmetricKey(hex: "c37b7e6492584340bed12207808941155068f738")
    let wrapped = try KeyWrap.wrap(key, kek: kek)
    let unwrapped = try KeyWrap.unwrap(wrapped, kek: kek)
    let roundTrips = unwrapped.withUnsafeBytes { u in
      key.withUnsafeBytes { k in u.elementsEqual(k) }
    }
    let passed =
      wrapped == bytes("138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a") && roundTrips
    return ("aes-kwp (rfc 5649)", passed)
  } catch {
    print(error.description)
    return ("aes-kwp (rfc 5649)", false)
  }
}

/// Test-vector text to bytes; the vectors above are well-formed.
private func bytes(_ hex: String) -> [UInt8] {
  var out: [UInt8] = []
  var high: UInt8? = nil
  for c in hex.utf8 {
    let nibble: UInt8 = c <= UInt8(ascii: "9") ? c - UInt8(ascii: "0") : (c | 0x20) - UInt8(ascii: "a") + 10
    if let h = high {
      out.append(h << 4 | nibble)
      high = nil
    } else {
      high = nibble
    }
  }
  return out
}
