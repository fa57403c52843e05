/// A reproducible cpio archive in the "newc" format the kernel unpacks as
/// an initramfs (Linux Documentation/driver-api/early-userspace/
/// buffer-format.rst): entries sorted by name, owner 0:0, a fixed mtime,
/// inode numbers in order, no device numbers. The same entries give the
/// same bytes on any machine, at any time.
public struct CpioArchive: Equatable, Sendable {
  public enum Kind: Equatable, Sendable {
    case directory
    case file([UInt8])
    case symbolicLink(target: String)
  }

  public struct Entry: Equatable, Sendable {
    /// Relative, without a leading "./" or "/".
    public var path: String
    /// Permission bits (e.g. 0o755).
    public var permissions: UInt32
    public var kind: Kind

    public init(path: String, permissions: UInt32, kind: Kind) {
      self.path = path
      self.permissions = permissions
      self.kind = kind
    }
  }

  public var entries: [Entry]

  public init(entries: [Entry]) { self.entries = entries }

  /// The archive's bytes. Entries are sorted by path bytes, so the order
  /// they were added in does not matter; a later entry with the same path
  /// replaces an earlier one.
  public func bytes(mtime: UInt32) -> [UInt8] {
    var unique: [String: Entry] = [:]
    for entry in entries { unique[entry.path] = entry }
    let sorted = unique.values.sorted { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }
    var output: [UInt8] = []
    for (index, entry) in sorted.enumerated() {
      let (type, data): (UInt32, [UInt8])
      switch entry.kind {
      case .directory: (type, data) = (0o040000, [])
      case .file(let bytes): (type, data) = (0o100000, bytes)
      case .symbolicLink(let target): (type, data) = (0o120000, Array(target.utf8))
      }
      let links: UInt32 = entry.kind == .directory ? 2 : 1
      Self.append(
        &output, name: entry.path, mode: type | entry.permissions, inode: UInt32(index + 1), links: links,
        mtime: mtime, data: data)
    }
    Self.append(&output, name: "TRAILER!!!", mode: 0, inode: 0, links: 1, mtime: 0, data: [])
    // The kernel reads in 512-byte blocks; GNU cpio pads the same way.
    output += [UInt8](repeating: 0, count: (512 - output.count % 512) % 512)
    return output
  }

  private static func append(
    _ output: inout [UInt8], name: String, mode: UInt32, inode: UInt32, links: UInt32, mtime: UInt32,
    data: [UInt8]
  ) {
    let nameBytes = Array(name.utf8) + [0]
    // c_magic, c_ino, c_mode, c_uid, c_gid, c_nlink, c_mtime, c_filesize,
    // c_devmajor, c_devminor, c_rdevmajor, c_rdevminor, c_namesize, c_check
    let fields: [UInt32] = [
      inode, mode, 0, 0, links, mtime, UInt32(data.count), 0, 0, 0, 0, UInt32(nameBytes.count), 0,
    ]
    output += Array("070701".utf8)
    for field in fields { output += Array(hex8(field).utf8) }
    output += nameBytes
    pad(&output)
    output += data
    pad(&output)
  }

  private static func hex8(_ value: UInt32) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: 8 - digits.count) + digits
  }

  private static func pad(_ output: inout [UInt8]) {
    output += [UInt8](repeating: 0, count: (4 - output.count % 4) % 4)
  }
}

extension CpioArchive {
  /// Reads a newc archive (one, or several concatenated as initramfs
  /// add-ons are); later entries replace earlier ones with the same path.
  public init(reading bytes: [UInt8]) throws(FirmwareImageError) {
    var entries: [Entry] = []
    var offset = 0
    func field(_ index: Int) throws(FirmwareImageError) -> UInt32 {
      let start = offset + 6 + index * 8
      guard let value = UInt32(String(decoding: bytes[start..<(start + 8)], as: UTF8.self), radix: 16) else {
        throw .notAnImage(reason: "cpio header at \(offset) has a bad field")
      }
      return value
    }
    while offset + 110 <= bytes.count {
      // Archives may be padded with zeros between members.
      if bytes[offset] == 0 {
        offset += 1
        continue
      }
      guard Array(bytes[offset..<(offset + 6)]) == Array("070701".utf8) else {
        throw .notAnImage(reason: "not a newc cpio archive at byte \(offset)")
      }
      let mode = try field(1)
      let size = Int(try field(6))
      let nameSize = Int(try field(11))
      let nameStart = offset + 110
      let dataStart = nameStart + nameSize + (4 - (110 + nameSize) % 4) % 4
      guard nameSize > 0, dataStart + size <= bytes.count else {
        throw .truncated(part: "cpio entry at \(offset)", needed: dataStart + size, available: bytes.count)
      }
      var name = String(decoding: bytes[nameStart..<(nameStart + nameSize - 1)], as: UTF8.self)
      offset = dataStart + size + (4 - size % 4) % 4
      if name == "TRAILER!!!" { continue }
      if name.hasPrefix("./") { name.removeFirst(2) }
      if name == "." || name.isEmpty { continue }
      let data = Array(bytes[dataStart..<(dataStart + size)])
      let kind: Kind
      switch mode & 0o170000 {
      case 0o040000: kind = .directory
      case 0o120000: kind = .symbolicLink(target: String(decoding: data, as: UTF8.self))
      case 0o100000: kind = .file(data)
      default: continue  // device nodes: devtmpfs provides them
      }
      entries.append(Entry(path: name, permissions: mode & 0o7777, kind: kind))
    }
    self.init(entries: entries)
  }
}
