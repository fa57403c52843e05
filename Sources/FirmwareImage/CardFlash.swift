import Foundation

/// The emulated card's flash: one file, given to the card's QEMU as a
/// virtio-blk disk (Docs/firmware-image.md, "The emulated card").
///
///     0         boot state (4 KiB, `BootState`), rest of the first MiB zero
///     1 MiB     slot A (64 MiB): a whole signed image, as flashed
///     65 MiB    slot B (64 MiB)
public struct CardFlash: Sendable {
  public static let slotOffset = 1 << 20
  public static let slotSize = 64 << 20
  public static let size = slotOffset + 2 * slotSize

  public let path: String

  public init(path: String) { self.path = path }

  public static func offset(of slot: BootState.Slot) -> Int {
    slotOffset + (slot == .a ? 0 : slotSize)
  }

  /// A blank flash (sparse) with an empty boot state.
  public static func create(at path: String, state: BootState) throws(FirmwareImageError) -> CardFlash {
    guard FileManager.default.createFile(atPath: path, contents: nil) else {
      throw .cannotWrite(path: path, reason: "cannot create the file")
    }
    let flash = CardFlash(path: path)
    try flash.withHandle { handle in try handle.truncate(atOffset: UInt64(size)) }
    try flash.write(state.area, at: 0)
    return flash
  }

  public func readState() throws(FirmwareImageError) -> BootState {
    try BootState(area: read(at: 0, count: BootState.areaSize))
  }

  public func writeState(_ state: BootState) throws(FirmwareImageError) { try write(state.area, at: 0) }

  /// The image in `slot`, checked for shape only; nil when the slot is
  /// blank.
  public func image(in slot: BootState.Slot) throws(FirmwareImageError) -> FirmwareImageFile? {
    let base = Self.offset(of: slot)
    let header = try read(at: base, count: ImageLayout.headerSize)
    guard Array(header[0..<8]) == ImageLayout.magic else { return nil }
    let manifestLength = Int(FirmwareImageFile.readUInt32(header, at: ImageLayout.manifestLengthOffset))
    guard manifestLength <= ImageLayout.maximumManifestLength else {
      throw .card(reason: "slot \(slot.rawValue) holds a damaged image header")
    }
    let manifestBytes = try read(at: base + ImageLayout.headerSize, count: manifestLength)
    let manifest = try Manifest(text: String(decoding: manifestBytes, as: UTF8.self))
    let end = manifest.parts.map { $0.offset + $0.size }.max() ?? 0
    guard end <= Self.slotSize else {
      throw .card(reason: "slot \(slot.rawValue) names parts beyond the slot")
    }
    return try FirmwareImageFile(bytes: read(at: base, count: end))
  }

  public func write(image: FirmwareImageFile, to slot: BootState.Slot) throws(FirmwareImageError) {
    guard image.bytes.count <= Self.slotSize else {
      throw .card(
        reason: "the image (\(image.bytes.count) bytes) is larger than a slot (\(Self.slotSize) bytes)")
    }
    try write(image.bytes, at: Self.offset(of: slot))
  }

  func read(at offset: Int, count: Int) throws(FirmwareImageError) -> [UInt8] {
    try withHandle { handle in
      try handle.seek(toOffset: UInt64(offset))
      return [UInt8](try handle.read(upToCount: count) ?? Data())
    }
  }

  func write(_ bytes: [UInt8], at offset: Int) throws(FirmwareImageError) {
    try withHandle { handle in
      try handle.seek(toOffset: UInt64(offset))
      try handle.write(contentsOf: bytes)
      try handle.synchronize()
    }
  }

  private func withHandle<T>(_ body: (FileHandle) throws -> T) throws(FirmwareImageError) -> T {
    do {
      let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
      defer { try? handle.close() }
      return try body(handle)
    } catch {
      throw .cannotWrite(path: path, reason: "\(error)")
    }
  }
}
