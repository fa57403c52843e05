import Testing

@testable import CardCrypto

@Suite struct AESGCMTests {
  @Test(arguments: gcmSpecVectors)
  func sealsTheSpecVector(_ v: GCMVector) throws {
    let key = try SymmetricKey(hex: v.key)
    var gcm = try AESGCM(key: key)
    let sealed = try gcm.seal(nonce: hex(v.iv), aad: hex(v.aad), plaintext: hex(v.plaintext))
    #expect(sealed.ciphertext == hex(v.ciphertext))
    #expect(sealed.tag == hex(v.tag))
  }

  @Test(arguments: gcmSpecVectors)
  func opensTheSpecVector(_ v: GCMVector) throws {
    let key = try SymmetricKey(hex: v.key)
    var gcm = try AESGCM(key: key)
    let opened = try gcm.open(
      nonce: hex(v.iv), aad: hex(v.aad), ciphertext: hex(v.ciphertext), tag: hex(v.tag))
    #expect(opened == hex(v.plaintext))
  }

  /// Flipping any one bit of ciphertext, tag, AAD or nonce must fail
  /// authentication (SP 800-38D §7.2), for every spec vector that has it.
  @Test(arguments: gcmSpecVectors)
  func rejectsEveryTamperedField(_ v: GCMVector) throws {
    let key = try SymmetricKey(hex: v.key)
    var gcm = try AESGCM(key: key)
    let (nonce, aad, ciphertext, tag) = (hex(v.iv), hex(v.aad), hex(v.ciphertext), hex(v.tag))
    func flipped(_ bytes: [UInt8], at index: Int) -> [UInt8] {
      var copy = bytes
      copy[index] ^= 0x01
      return copy
    }
    var attempts: [(String, [UInt8], [UInt8], [UInt8], [UInt8])] = [
      ("tag first byte", nonce, aad, ciphertext, flipped(tag, at: 0)),
      ("tag last byte", nonce, aad, ciphertext, flipped(tag, at: tag.count - 1)),
      ("nonce", flipped(nonce, at: nonce.count - 1), aad, ciphertext, tag),
    ]
    if !ciphertext.isEmpty {
      attempts.append(("ciphertext", nonce, aad, flipped(ciphertext, at: ciphertext.count / 2), tag))
    }
    if !aad.isEmpty {
      attempts.append(("aad", nonce, flipped(aad, at: 0), ciphertext, tag))
      attempts.append(("aad dropped", nonce, [], ciphertext, tag))
    }
    for (field, n, a, c, t) in attempts {
      #expect(throws: CryptoError.authenticationFailed, "tampered \(field)") {
        _ = try gcm.open(nonce: n, aad: a, ciphertext: c, tag: t)
      }
    }
    // The context still works after failures.
    #expect(try gcm.open(nonce: nonce, aad: aad, ciphertext: ciphertext, tag: tag) == hex(v.plaintext))
  }

  /// The per-packet path: one buffer holding AAD, text and tag, sealed and
  /// opened in place through raw buffers; a failed open zeroes the text.
  @Test func sealsAndOpensInPlaceAndZeroesOnFailure() throws {
    let v = gcmSpecVectors.first { $0.testCase == 16 }!
    let key = try SymmetricKey(hex: v.key)
    var gcm = try AESGCM(key: key)
    let nonce = hex(v.iv)
    let aad = hex(v.aad)
    let plaintext = hex(v.plaintext)
    var packet = aad + plaintext + [UInt8](repeating: 0, count: 16)
    let textRange = aad.count..<(aad.count + plaintext.count)
    try nonce.withUnsafeBytes { n in
      try packet.withUnsafeMutableBytes { p in
        let a = UnsafeRawBufferPointer(rebasing: p[0..<aad.count])
        try gcm.seal(
          nonce: n, aad: a, inPlace: UnsafeMutableRawBufferPointer(rebasing: p[textRange]),
          tag: UnsafeMutableRawBufferPointer(rebasing: p[textRange.upperBound...]))
      }
    }
    #expect(Array(packet[textRange]) == hex(v.ciphertext))
    #expect(Array(packet[textRange.upperBound...]) == hex(v.tag))

    var forged = packet
    forged[0] ^= 0x80  // AAD
    let result: Result<Void, CryptoError> = nonce.withUnsafeBytes { n in
      forged.withUnsafeMutableBytes { p in
        Result { () throws(CryptoError) in
          try gcm.open(
            nonce: n, aad: UnsafeRawBufferPointer(rebasing: p[0..<aad.count]),
            inPlace: UnsafeMutableRawBufferPointer(rebasing: p[textRange]),
            tag: UnsafeRawBufferPointer(rebasing: p[textRange.upperBound...]))
        }
      }
    }
    #expect(throws: CryptoError.authenticationFailed) { try result.get() }
    #expect(forged[textRange].allSatisfy { $0 == 0 }, "unauthenticated plaintext must not be released")

    try nonce.withUnsafeBytes { n in
      try packet.withUnsafeMutableBytes { p in
        try gcm.open(
          nonce: n, aad: UnsafeRawBufferPointer(rebasing: p[0..<aad.count]),
          inPlace: UnsafeMutableRawBufferPointer(rebasing: p[textRange]),
          tag: UnsafeRawBufferPointer(rebasing: p[textRange.upperBound...]))
      }
    }
    #expect(Array(packet[textRange]) == plaintext)
  }

  /// One context alternates directions and nonce lengths packet by packet.
  @Test func oneContextAlternatesDirectionsAndNonceLengths() throws {
    // Cases 15-18 share one key and use 12-, 8- and 60-byte nonces.
    let vectors = gcmSpecVectors.filter { (15...18).contains($0.testCase) }
    let key = try SymmetricKey(hex: vectors[0].key)
    var gcm = try AESGCM(key: key)
    for _ in 0..<3 {
      for v in vectors {
        let sealed = try gcm.seal(nonce: hex(v.iv), aad: hex(v.aad), plaintext: hex(v.plaintext))
        #expect(sealed.tag == hex(v.tag), "\(v)")
        #expect(
          try gcm.open(nonce: hex(v.iv), aad: hex(v.aad), ciphertext: sealed.ciphertext, tag: sealed.tag)
            == hex(v.plaintext))
      }
    }
  }

  /// draft-mcgrew-gcm-test-01: ESP framing, nonce = salt || IV, AAD = SPI || seq.
  @Test(arguments: espVectors)
  func sealsTheESPVector(_ v: ESPVector) throws {
    let key = try SymmetricKey(hex: v.key)
    var gcm = try AESGCM(key: key)
    let nonce = hex(v.salt + v.iv)
    let aad = hex(v.spi + v.sequence)
    #expect(nonce.count == AESGCM.nonceByteCount)
    let sealed = try gcm.seal(nonce: nonce, aad: aad, plaintext: hex(v.plaintext))
    #expect(sealed.ciphertext + sealed.tag == hex(v.ciphertextAndICV))
    let expected = hex(v.ciphertextAndICV)
    let opened = try gcm.open(
      nonce: nonce, aad: aad, ciphertext: Array(expected.dropLast(16)), tag: Array(expected.suffix(16)))
    #expect(opened == hex(v.plaintext))
  }

  /// RFC 4106 §6 allows 8- and 12-byte ICVs: a truncated tag is the prefix
  /// of the full one and verifies as such.
  @Test func truncatedTagsArePrefixesOfTheFullTag() throws {
    let v = gcmSpecVectors.first { $0.testCase == 4 }!
    let key = try SymmetricKey(hex: v.key)
    var gcm = try AESGCM(key: key)
    var text = hex(v.plaintext)
    var tag = [UInt8](repeating: 0, count: 8)
    try hex(v.iv).withUnsafeBytes { n in
      try hex(v.aad).withUnsafeBytes { a in
        try text.withUnsafeMutableBytes { t in
          try tag.withUnsafeMutableBytes { g in try gcm.seal(nonce: n, aad: a, inPlace: t, tag: g) }
        }
      }
    }
    #expect(tag == Array(hex(v.tag).prefix(8)))
    #expect(try gcm.open(nonce: hex(v.iv), aad: hex(v.aad), ciphertext: text, tag: tag) == hex(v.plaintext))
  }

  @Test func refusesBadSizes() throws {
    #expect(throws: CryptoError.invalidKeySize(24)) {
      let key = try SymmetricKey(hex: String(repeating: "ab", count: 24))
      _ = try AESGCM(key: key)
    }
    let key = try SymmetricKey(hex: String(repeating: "ab", count: 16))
    var gcm = try AESGCM(key: key)
    #expect(throws: CryptoError.invalidNonceSize(0)) {
      _ = try gcm.seal(nonce: [], aad: [], plaintext: [1, 2, 3])
    }
    #expect(throws: CryptoError.invalidNonceSize(129)) {
      _ = try gcm.seal(nonce: [UInt8](repeating: 0, count: 129), aad: [], plaintext: [1])
    }
    #expect(throws: CryptoError.invalidTagSize(10)) {
      _ = try gcm.open(
        nonce: [UInt8](repeating: 0, count: 12), aad: [], ciphertext: [1],
        tag: [UInt8](repeating: 0, count: 10))
    }
  }
}
