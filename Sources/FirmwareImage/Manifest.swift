/// What an image holds, as canonical text: the bytes that are signed.
/// One field per line, `name value`, in a fixed order; parts in their
/// order in the file (Docs/firmware-image.md, "Manifest").
public struct Manifest: Equatable, Sendable {
  public struct Part: Equatable, Sendable {
    /// `firmware`, `kernel` or `initramfs`.
    public var name: String
    /// From the start of the image file; a multiple of `ImageLayout.alignment`.
    public var offset: Int
    public var size: Int
    public var sha256: SHA256Digest
  }

  public var formatVersion: UInt32 = ImageLayout.formatVersion
  public var board: String
  public var firmwareVersion: String
  /// Anti-rollback: a card refuses images below its counter.
  public var securityVersion: UInt32
  /// The firmware ELF's GNU build id, hex.
  public var buildID: String
  /// The time stamp inside archives (SOURCE_DATE_EPOCH, 0 when unset).
  public var sourceDateEpoch: UInt64
  public var parts: [Part]

  public static let partNames = ["firmware", "kernel", "initramfs"]

  public func part(_ name: String) -> Part? { parts.first { $0.name == name } }

  public var text: String {
    var lines = [
      "bulkhead-firmware-manifest \(formatVersion)",
      "board \(board)",
      "firmware-version \(firmwareVersion)",
      "security-version \(securityVersion)",
      "build-id \(buildID)",
      "source-date-epoch \(sourceDateEpoch)",
    ]
    for part in parts { lines.append("part \(part.name) \(part.offset) \(part.size) \(part.sha256)") }
    return lines.joined(separator: "\n") + "\n"
  }

  public init(
    board: String, firmwareVersion: String, securityVersion: UInt32, buildID: String,
    sourceDateEpoch: UInt64, parts: [Part]
  ) {
    self.board = board
    self.firmwareVersion = firmwareVersion
    self.securityVersion = securityVersion
    self.buildID = buildID
    self.sourceDateEpoch = sourceDateEpoch
    self.parts = parts
  }

  /// Parses the canonical text; anything else (extra fields, other order,
  /// bad numbers) is refused, so that what is signed is what is read.
  public init(text: String) throws(FirmwareImageError) {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    guard lines.last == "" else { throw .badManifest(line: lines.count, reason: "must end with a newline") }
    let fixed = [
      "bulkhead-firmware-manifest", "board", "firmware-version", "security-version", "build-id",
      "source-date-epoch",
    ]
    var values: [String] = []
    for (index, name) in fixed.enumerated() {
      guard index < lines.count - 1 else { throw .badManifest(line: index + 1, reason: "missing '\(name)'") }
      let words = lines[index].split(separator: " ", omittingEmptySubsequences: false)
      guard words.count == 2, words[0] == name, !words[1].isEmpty else {
        throw .badManifest(line: index + 1, reason: "expected '\(name) VALUE', found '\(lines[index])'")
      }
      values.append(String(words[1]))
    }
    guard let format = UInt32(values[0]) else {
      throw .badManifest(line: 1, reason: "format is not a number")
    }
    guard format == ImageLayout.formatVersion else { throw .unsupportedFormat(version: format) }
    guard let security = UInt32(values[3]) else {
      throw .badManifest(line: 4, reason: "security-version '\(values[3])' is not a number")
    }
    guard let epoch = UInt64(values[5]) else {
      throw .badManifest(line: 6, reason: "source-date-epoch '\(values[5])' is not a number")
    }
    var parts: [Part] = []
    for index in fixed.count..<(lines.count - 1) {
      let words = lines[index].split(separator: " ")
      guard words.count == 5, words[0] == "part", let offset = Int(words[2]), let size = Int(words[3]),
        offset >= 0, size >= 0, let digest = SHA256Digest(hex: words[4])
      else { throw .badManifest(line: index + 1, reason: "expected 'part NAME OFFSET SIZE SHA256'") }
      let name = String(words[1])
      guard Self.partNames.contains(name), !parts.contains(where: { $0.name == name }) else {
        throw .badManifest(line: index + 1, reason: "unknown or repeated part '\(name)'")
      }
      parts.append(Part(name: name, offset: offset, size: size, sha256: digest))
    }
    self.init(
      board: values[1], firmwareVersion: values[2], securityVersion: security, buildID: values[4],
      sourceDateEpoch: epoch, parts: parts)
    formatVersion = format
  }
}
