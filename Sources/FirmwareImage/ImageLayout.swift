/// The image file's layout (Docs/firmware-image.md, "Layout"):
///
///     0      header (one 4 KiB block)
///              0   8  magic "BHFWIMG\0"
///              8   4  format version, little endian
///             12   4  manifest length, little endian
///             16  32  signing key id (SHA-256 of the Ed25519 public key)
///             48  64  Ed25519 signature over `signedMessage(manifest)`
///            112      zero up to 4096
///     4096   manifest text, zero-padded to a 4 KiB boundary
///     then   parts at the offsets the manifest gives (4 KiB aligned)
///
/// The signature covers the manifest, which holds every part's SHA-256,
/// so one signature check and one hash per part verify the whole file.
/// Unsigned images carry zeros where the key id and signature go.
public enum ImageLayout {
  public static let formatVersion: UInt32 = 1
  public static let magic: [UInt8] = Array("BHFWIMG".utf8) + [0]
  public static let alignment = 4096
  public static let headerSize = 4096
  static let manifestLengthOffset = 12
  static let keyIDOffset = 16
  static let signatureOffset = 48
  static let signatureLength = 64
  /// Manifests are a few hundred bytes; refuse anything absurd before
  /// reading it.
  static let maximumManifestLength = 64 * 1024
  /// Domain separation: a signature over an image manifest cannot be
  /// replayed as a signature over anything else this key signs.
  static let signaturePrefix: [UInt8] = Array("bulkhead firmware image v1".utf8) + [0]

  public static func signedMessage(manifest: [UInt8]) -> [UInt8] { signaturePrefix + manifest }

  static func alignedUp(_ value: Int) -> Int { (value + alignment - 1) / alignment * alignment }
}

/// An image file in memory, checked for shape (header, manifest, parts
/// inside the file) but not yet trusted: see `ImageVerifier`.
public struct FirmwareImageFile: Sendable {
  public var bytes: [UInt8]
  public let manifest: Manifest
  public let manifestBytes: [UInt8]

  public init(bytes: [UInt8]) throws(FirmwareImageError) {
    guard bytes.count >= ImageLayout.headerSize else {
      if bytes.count >= 8, Array(bytes[0..<8]) == ImageLayout.magic {
        throw .truncated(part: "header", needed: ImageLayout.headerSize, available: bytes.count)
      }
      throw .notAnImage(reason: "\(bytes.count) bytes, shorter than the header")
    }
    guard Array(bytes[0..<8]) == ImageLayout.magic else {
      throw .notAnImage(reason: "the file does not start with BHFWIMG")
    }
    let version = Self.readUInt32(bytes, at: 8)
    guard version == ImageLayout.formatVersion else { throw .unsupportedFormat(version: version) }
    let length = Int(Self.readUInt32(bytes, at: ImageLayout.manifestLengthOffset))
    guard length <= ImageLayout.maximumManifestLength else {
      throw .notAnImage(
        reason: "manifest length \(length) is larger than \(ImageLayout.maximumManifestLength)")
    }
    let manifestEnd = ImageLayout.headerSize + length
    guard manifestEnd <= bytes.count else {
      throw .truncated(part: "manifest", needed: manifestEnd, available: bytes.count)
    }
    manifestBytes = Array(bytes[ImageLayout.headerSize..<manifestEnd])
    guard let text = String(validating: manifestBytes, as: UTF8.self) else {
      throw .badManifest(line: 0, reason: "not UTF-8")
    }
    manifest = try Manifest(text: text)
    let partsStart = ImageLayout.alignedUp(manifestEnd)
    for part in manifest.parts {
      guard part.offset >= partsStart, part.offset % ImageLayout.alignment == 0 else {
        throw .badManifest(line: 0, reason: "part '\(part.name)' has a bad offset \(part.offset)")
      }
      let (end, overflow) = part.offset.addingReportingOverflow(part.size)
      guard !overflow, end <= bytes.count else {
        throw .truncated(
          part: "part '\(part.name)'", needed: overflow ? Int.max : end, available: bytes.count)
      }
    }
    for name in Manifest.partNames where manifest.part(name) == nil { throw .missingPart(name) }
    self.bytes = bytes
  }

  public func contents(of part: Manifest.Part) -> ArraySlice<UInt8> {
    bytes[part.offset..<(part.offset + part.size)]
  }

  public var keyID: [UInt8] { Array(bytes[ImageLayout.keyIDOffset..<ImageLayout.signatureOffset]) }
  public var signature: [UInt8] {
    Array(bytes[ImageLayout.signatureOffset..<(ImageLayout.signatureOffset + ImageLayout.signatureLength)])
  }
  public var isSigned: Bool { signature.contains { $0 != 0 } }

  /// Puts `key`'s id and signature over the manifest into the header.
  public mutating func sign(with key: SigningKey) {
    let signature = key.signature(for: ImageLayout.signedMessage(manifest: manifestBytes))
    bytes.replaceSubrange(
      ImageLayout.keyIDOffset..<ImageLayout.signatureOffset, with: key.verifyingKey.id.bytes)
    bytes.replaceSubrange(
      ImageLayout.signatureOffset..<(ImageLayout.signatureOffset + ImageLayout.signatureLength),
      with: signature)
  }

  /// Lays out an unsigned image: header, manifest, parts in the given order.
  public static func assemble(
    board: String, firmwareVersion: String, securityVersion: UInt32, buildID: String,
    sourceDateEpoch: UInt64, parts: [(name: String, bytes: [UInt8])]
  ) -> FirmwareImageFile {
    // The manifest's length does not depend on the offsets' values beyond
    // their digits, so lay out twice: once to size it, once for real.
    func manifest(start: Int) -> Manifest {
      var offset = start
      var entries: [Manifest.Part] = []
      for part in parts {
        entries.append(
          Manifest.Part(
            name: part.name, offset: offset, size: part.bytes.count, sha256: SHA256Digest(of: part.bytes)))
        offset = ImageLayout.alignedUp(offset + part.bytes.count)
      }
      return Manifest(
        board: board, firmwareVersion: firmwareVersion, securityVersion: securityVersion, buildID: buildID,
        sourceDateEpoch: sourceDateEpoch, parts: entries)
    }
    var start = ImageLayout.alignedUp(ImageLayout.headerSize + manifest(start: 0).text.utf8.count + 64)
    var final = manifest(start: start)
    while ImageLayout.alignedUp(ImageLayout.headerSize + final.text.utf8.count) > start {
      start += ImageLayout.alignment
      final = manifest(start: start)
    }
    let text = Array(final.text.utf8)
    var bytes = ImageLayout.magic
    appendUInt32(&bytes, ImageLayout.formatVersion)
    appendUInt32(&bytes, UInt32(text.count))
    bytes += [UInt8](repeating: 0, count: ImageLayout.headerSize - bytes.count)
    bytes += text
    for (part, entry) in zip(parts, final.parts) {
      bytes += [UInt8](repeating: 0, count: entry.offset - bytes.count)
      bytes += part.bytes
    }
    // Sound: the bytes were laid out by the code above.
    return try! FirmwareImageFile(bytes: bytes)
  }

  static func readUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
    (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
  }

  static func appendUInt32(_ bytes: inout [UInt8], _ value: UInt32) {
    for shift in stride(from: 0, to: 32, by: 8) {
      bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift)))
    }
  }
}
