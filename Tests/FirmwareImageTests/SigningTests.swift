import Testing

@testable import FirmwareImage

struct SigningTests {
  /// RFC 8032 §7.1, TEST 1 (empty message).
  @Test func ed25519MatchesRFC8032() throws {
    let seed = Hex.decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")!
    let key = try #require(SigningKey(seed: seed))
    #expect(
      Hex.encode(key.verifyingKey.raw) == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    let signature = key.signature(for: [])
    #expect(
      Hex.encode(signature)
        == "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )
    #expect(key.verifyingKey.isValidSignature(signature, for: []))
    #expect(!key.verifyingKey.isValidSignature(signature, for: [0]))
  }

  /// SHA-256("abc"), FIPS 180-4 example.
  @Test func sha256MatchesFIPS() {
    #expect(
      SHA256Digest(of: Array("abc".utf8)).description
        == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
  }

  @Test func keyFilesRoundTrip() throws {
    let key = SigningKey.generate()
    let path = Fixtures.directory + "/roundtrip.key"
    try FileBytes.write(Array(key.fileText.utf8), to: path)
    try FileBytes.write(Array(KeyFile.publicText(key.verifyingKey).utf8), to: path + ".pub")
    #expect(try KeyFile.readSigningKey(at: path).verifyingKey == key.verifyingKey)
    #expect(try KeyFile.readVerifyingKey(at: path + ".pub") == key.verifyingKey)
    // A public key is not a private key.
    #expect(throws: FirmwareImageError.self) { try KeyFile.readSigningKey(at: path + ".pub") }
  }

  @Test func signedImageVerifiesAndUnsignedDoesNot() throws {
    var image = try Fixtures.image()
    #expect(!image.isSigned)
    #expect(throws: FirmwareImageError.unsigned) {
      try ImageVerifier(trustedKey: Fixtures.releaseKey.verifyingKey).verify(image)
    }
    image.sign(with: Fixtures.releaseKey)
    try ImageVerifier(trustedKey: Fixtures.releaseKey.verifyingKey).verify(image)
    // The signature survives a round trip through bytes.
    try ImageVerifier(trustedKey: Fixtures.releaseKey.verifyingKey).verify(
      FirmwareImageFile(bytes: image.bytes))
  }
}
