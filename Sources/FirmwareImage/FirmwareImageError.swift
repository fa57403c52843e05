/// Why an image was not built, signed, accepted or flashed. Each message
/// says what was found and what to do next (STYLE.md rule 9).
public enum FirmwareImageError: Error, Equatable, CustomStringConvertible {
  case cannotRead(path: String)
  case cannotWrite(path: String, reason: String)
  case badKeyFile(path: String, expected: String)
  case notAnImage(reason: String)
  case unsupportedFormat(version: UInt32)
  case truncated(part: String, needed: Int, available: Int)
  case badManifest(line: Int, reason: String)
  case partDigestMismatch(part: String, expected: String, found: String)
  case missingPart(String)
  case unsigned
  case unknownKey(keyID: String, trustedKeyID: String)
  case badSignature(keyID: String)
  case securityVersionTooLow(image: UInt32, counter: UInt32)
  case wrongBoard(image: String, card: String)
  case elfRejected(reason: String)
  case buildIDMismatch(elf: String, manifest: String)
  case buildFailed(command: String, output: String)
  case card(reason: String)

  public var description: String {
    switch self {
    case .cannotRead(let path): return "cannot read \(path): check the path and its permissions"
    case .cannotWrite(let path, let reason): return "cannot write \(path): \(reason)"
    case .badKeyFile(let path, let expected): return "\(path) is not \(expected)"
    case .notAnImage(let reason): return "not a Bulkhead firmware image: \(reason)"
    case .unsupportedFormat(let version):
      return
        "image format version \(version) is not supported (this tool reads version \(ImageLayout.formatVersion)); use a matching dpuctl"
    case .truncated(let part, let needed, let available):
      return
        "the image is truncated: \(part) needs bytes up to \(needed) but the file has \(available); copy the image again"
    case .badManifest(let line, let reason): return "manifest line \(line): \(reason)"
    case .partDigestMismatch(let part, let expected, let found):
      return
        "part '\(part)' was altered: its SHA-256 is \(found), the manifest says \(expected); rebuild and re-sign the image"
    case .missingPart(let name):
      return "the image has no '\(name)' part; build it with `dpuctl firmware build`"
    case .unsigned: return "the image is not signed; sign it with `dpuctl firmware sign IMAGE --key KEY`"
    case .unknownKey(let keyID, let trustedKeyID):
      return
        "the image is signed by key \(keyID.prefix(16)), but the card trusts only \(trustedKeyID.prefix(16)); sign with the card's key"
    case .badSignature(let keyID):
      return
        "the signature by key \(keyID.prefix(16)) does not match the image; the manifest or header was altered, or the image was signed by another key with the same id (re-sign it)"
    case .securityVersionTooLow(let image, let counter):
      return
        "security version \(image) is below the card's counter \(counter): the card refuses rollbacks to vulnerable firmware; build with --security-version \(counter) or higher"
    case .wrongBoard(let image, let card):
      return "the image is for board '\(image)' but the card is a '\(card)'; build with --board \(card)"
    case .elfRejected(let reason): return "the firmware ELF is rejected: \(reason)"
    case .buildIDMismatch(let elf, let manifest):
      return
        "the firmware's build id \(elf) differs from the manifest's \(manifest); the firmware part was replaced"
    case .buildFailed(let command, let output): return "`\(command)` failed:\n\(output)"
    case .card(let reason): return reason
    }
  }
}
