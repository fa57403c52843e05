/// A BlueField boot stream (BFB), the format `cat F > /dev/rshim0/boot`
/// takes. Its public description is NVIDIA's `mlx-mkbfb` (Mellanox
/// bfscripts): a sequence of records, each a 24-byte little-endian header
/// and the record's data zero-padded to 8 bytes:
///
///     word 0: bits 0-31 magic 0x13026642, 32-35 major (1), 36-39 minor (2),
///             44-47 next record's version, 48-51 this version,
///             52-55 header length / 8 (3), 56-63 record id
///     word 1: bits 0-31 data length, 32-63 CRC-32 of data and padding
///     word 2: bitmap of the ids of the records that follow
///
/// Records are ordered by id as mlx-mkbfb orders them. Ids used here:
/// 59 boot arguments, 62 boot image (kernel), 63 initramfs. The boot chain
/// (ATF BL2/BL31, UEFI as BL33, their certificates) is NVIDIA's and is not
/// public: it comes from a base BFB, whose records are kept.
public struct BootStream: Equatable, Sendable {
  public struct Record: Equatable, Sendable {
    public var id: UInt8
    public var version: UInt8 = 0
    public var data: [UInt8]
  }

  public var records: [Record]

  static let magic: UInt64 = 0x1302_6642
  static let headerLength = 24
  public static let bootArguments: UInt8 = 59
  public static let bootImage: UInt8 = 62
  public static let initramfs: UInt8 = 63
  /// mlx-mkbfb's emission order (its image table).
  static let order: [UInt8] = [
    36, 37, 31, 30, 6, 1, 29, 38, 32, 33, 34, 35, 8, 12, 2, 7, 9, 13, 3, 39, 10, 14, 4, 11, 15, 5, 52, 55, 56,
    57, 58,
    59, 60, 61, 54, 62, 63,
  ]

  public init(records: [Record]) { self.records = records }

  /// Reads a BFB; a bad magic, header length or CRC is an error.
  public init(reading bytes: [UInt8]) throws(FirmwareImageError) {
    var records: [Record] = []
    var offset = 0
    while offset < bytes.count {
      guard offset + Self.headerLength <= bytes.count else {
        throw .truncated(part: "BFB header", needed: offset + Self.headerLength, available: bytes.count)
      }
      let word0 = Self.word(bytes, offset)
      let word1 = Self.word(bytes, offset + 8)
      guard word0 & 0xffff_ffff == Self.magic, (word0 >> 52) & 0xf == 3 else {
        throw .notAnImage(reason: "no BFB record header at byte \(offset)")
      }
      let length = Int(word1 & 0xffff_ffff)
      let start = offset + Self.headerLength
      let padded = (length + 7) & ~7
      guard start + padded <= bytes.count else {
        throw .truncated(part: "BFB record", needed: start + padded, available: bytes.count)
      }
      guard CRC32.checksum(bytes[start..<(start + padded)]) == UInt32(word1 >> 32) else {
        throw .notAnImage(reason: "BFB record at byte \(offset) fails its CRC")
      }
      records.append(
        Record(
          id: UInt8(word0 >> 56), version: UInt8((word0 >> 48) & 0xf),
          data: Array(bytes[start..<(start + length)])))
      offset = start + padded
    }
    self.records = records
  }

  public var bytes: [UInt8] {
    let rank = { (id: UInt8) in Self.order.firstIndex(of: id) ?? Self.order.count }
    let sorted = records.enumerated().sorted {
      (rank($0.element.id), $0.offset) < (rank($1.element.id), $1.offset)
    }
    .map(\.element)
    var output: [UInt8] = []
    for (index, record) in sorted.enumerated() {
      let following = sorted[(index + 1)...].reduce(UInt64(0)) { $0 | 1 << UInt64($1.id) }
      let next = index + 1 < sorted.count && sorted[index + 1].id == record.id ? sorted[index + 1].version : 0
      var data = record.data
      data += [UInt8](repeating: 0, count: ((data.count + 7) & ~7) - data.count)
      let word0 =
        Self.magic | 1 << 32 | 2 << 36 | UInt64(next & 0xf) << 44 | UInt64(record.version & 0xf) << 48
        | UInt64(Self.headerLength / 8) << 52 | UInt64(record.id) << 56
      let word1 = UInt64(record.data.count) | UInt64(CRC32.checksum(data[...])) << 32
      for word in [word0, word1, following] {
        for shift in stride(from: 0, to: 64, by: 8) {
          output.append(UInt8(truncatingIfNeeded: word >> UInt64(shift)))
        }
      }
      output += data
    }
    return output
  }

  /// The base BFB's boot chain with this image's kernel, initramfs (the
  /// card initramfs plus the firmware ELF and manifest, since a stream
  /// pushed over rshim boots without the emulated card's slots) and boot
  /// arguments (the base's, then ours).
  public static func make(image: FirmwareImageFile, base: [UInt8]) throws(FirmwareImageError) -> BootStream {
    var stream = try BootStream(reading: base)
    let baseArguments = stream.records.last { $0.id == bootArguments }.map {
      String(decoding: $0.data, as: UTF8.self)
    }
    stream.records.removeAll { [bootArguments, bootImage, initramfs].contains($0.id) }
    let manifest = image.manifest
    let firmware = CpioArchive(entries: [
      .init(path: "lib", permissions: 0o755, kind: .directory),
      .init(path: "lib/bulkhead", permissions: 0o755, kind: .directory),
      .init(
        path: "lib/bulkhead/firmware", permissions: 0o755,
        kind: .file(Array(image.contents(of: manifest.part("firmware")!)))),
      .init(path: "lib/bulkhead/manifest", permissions: 0o644, kind: .file(image.manifestBytes)),
    ]).bytes(mtime: UInt32(clamping: manifest.sourceDateEpoch))
    let arguments = [
      baseArguments?.trimmingTrailingNulls, "bulkhead.firmware=embedded",
      "bulkhead.version=\(manifest.firmwareVersion)",
      "bulkhead.secver=\(manifest.securityVersion)",
    ].compactMap { $0 }.joined(separator: " ")
    stream.records += [
      Record(id: bootArguments, data: Array(arguments.utf8)),
      Record(id: bootImage, data: Array(image.contents(of: manifest.part("kernel")!))),
      Record(id: initramfs, data: Array(image.contents(of: manifest.part("initramfs")!)) + firmware),
    ]
    return stream
  }

  static func word(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
    (0..<8).reduce(0) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
  }
}

extension String {
  fileprivate var trimmingTrailingNulls: String {
    var text = self
    while text.last == "\0" || text.last == "\n" { text.removeLast() }
    return text
  }
}

/// CRC-32 (IEEE 802.3, reflected, as zlib's crc32), which BFB records carry.
enum CRC32 {
  static let table: [UInt32] = (0..<256).map { index in
    (0..<8).reduce(UInt32(index)) { crc, _ in crc & 1 == 1 ? 0xedb8_8320 ^ (crc >> 1) : crc >> 1 }
  }

  static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    ~bytes.reduce(~UInt32(0)) { crc, byte in table[Int((crc ^ UInt32(byte)) & 0xff)] ^ (crc >> 8) }
  }
}
