/// Decides whether a card accepts an image: the checks `dpuctl firmware
/// flash` and the emulated card's boot ROM make, in the order that gives
/// the clearest message (shape, then signature, then content, then policy).
public struct ImageVerifier: Sendable {
  public var trustedKey: VerifyingKey
  /// The card's board name; nil skips the check (`verify` without a card).
  public var board: String?
  /// The card's anti-rollback counter.
  public var securityCounter: UInt32

  public init(trustedKey: VerifyingKey, board: String? = nil, securityCounter: UInt32 = 0) {
    self.trustedKey = trustedKey
    self.board = board
    self.securityCounter = securityCounter
  }

  /// Throws the first rule `image` breaks.
  public func verify(_ image: FirmwareImageFile) throws(FirmwareImageError) {
    try Self.verifySignature(image, trustedKey: trustedKey)
    try Self.verifyParts(image)
    let manifest = image.manifest
    if let board, manifest.board != board { throw .wrongBoard(image: manifest.board, card: board) }
    guard manifest.securityVersion >= securityCounter else {
      throw .securityVersionTooLow(image: manifest.securityVersion, counter: securityCounter)
    }
  }

  public static func verifySignature(_ image: FirmwareImageFile, trustedKey: VerifyingKey)
    throws(FirmwareImageError)
  {
    guard image.isSigned else { throw .unsigned }
    let keyID = Hex.encode(image.keyID)
    guard image.keyID == trustedKey.id.bytes else {
      throw .unknownKey(keyID: keyID, trustedKeyID: trustedKey.id.description)
    }
    guard
      trustedKey.isValidSignature(
        image.signature, for: ImageLayout.signedMessage(manifest: image.manifestBytes))
    else { throw .badSignature(keyID: keyID) }
  }

  /// Every part's SHA-256 against the manifest, then the firmware ELF.
  public static func verifyParts(_ image: FirmwareImageFile) throws(FirmwareImageError) {
    for part in image.manifest.parts {
      let found = SHA256Digest(of: Array(image.contents(of: part)))
      guard found == part.sha256 else {
        throw .partDigestMismatch(
          part: part.name, expected: part.sha256.description, found: found.description)
      }
    }
    guard let firmware = image.manifest.part("firmware") else { throw .missingPart("firmware") }
    try ElfFacts(image.contents(of: firmware)).check(expectedBuildID: image.manifest.buildID)
  }
}
