import CardCrypto
import Volumes
import Wire

/// The configuration file's `volume` statement:
///
///     volume id=N vhost-user=PATH backend=file:PATH|nbd:IPV4:PORT|nbd:unix:PATH [export=NAME]
///            sector-size=512|4096 wrapped-key=HEX kek-file=PATH [queues=N] [read-only]
///
/// `wrapped-key` is the 64-byte AES-XTS-256 data key wrapped under the KEK
/// (RFC 5649: 72 bytes, 144 hex digits); the KEK itself is in `kek-file`,
/// read when the volume is attached.
enum VolumeStatement {
  static func read(_ line: inout ConfigurationLine) throws(ConfigurationFileError) -> HostVolume {
    let id = try line.number("id", UInt32.self)
    let socket = try line.required("vhost-user")
    let location = try readLocation(&line)
    let sectorSize: AESXTS.DataUnitSize
    switch try line.required("sector-size") {
    case "512": sectorSize = .bytes512
    case "4096": sectorSize = .bytes4096
    case let text: throw line.error("sector-size", "'" + text + "' is not 512 or 4096")
    }
    let hex = try line.required("wrapped-key")
    let wrappedLength = KeyWrap.wrappedByteCount(forKeyByteCount: AESXTS.keyByteCount)
    guard let wrapped = bytes(hex: hex), wrapped.count == wrappedLength else {
      throw line.error(
        "wrapped-key",
        "expected " + String(2 * wrappedLength) + " hex digits (the 64-byte data key wrapped by RFC 5649)")
    }
    let kek = try line.required("kek-file")
    let queues = try line.optionalNumber("queues", Int.self, max: 16) ?? 2
    guard queues >= 1 else { throw line.error("queues", "at least 1 queue") }
    let readOnly = line.has("read-only")
    return HostVolume(
      id: id, socketPath: socket, location: location,
      spec: VolumeSpec(wrappedKey: wrapped, encryptionSectorSize: sectorSize, isReadOnly: readOnly),
      kekPath: kek, queueCount: queues)
  }

  static func readLocation(_ line: inout ConfigurationLine) throws(ConfigurationFileError) -> VolumeLocation {
    let text = try line.required("backend")
    let export = line.optional("export")
    do throws(ConfigurationFileError) {
      return try location(backend: text, export: export)
    } catch {
      throw line.error(error.field, error.problem)
    }
  }

  /// The `backend=` syntax (and `export=`), shared by the file's `volume`
  /// lines and the controller's volume slices. Errors name the field; the
  /// caller adds the line.
  static func location(backend text: String, export: String?) throws(ConfigurationFileError) -> VolumeLocation
  {
    func error(_ field: String, _ problem: String) -> ConfigurationFileError {
      ConfigurationFileError(line: 0, field: field, problem: problem)
    }
    if text.hasPrefix("file:") {
      let path = String(text.dropFirst(5))
      guard !path.isEmpty else { throw error("backend", "file: needs a path (file:/var/lib/vol1.img)") }
      guard export == nil else { throw error("export", "only an nbd backend has an export") }
      return .file(path: path)
    }
    if text.hasPrefix("nbd:unix:") {
      let path = String(text.dropFirst(9))
      guard !path.isEmpty else { throw error("backend", "nbd:unix: needs the socket's path") }
      return .nbd(.unix(path: path), export: export ?? "")
    }
    if text.hasPrefix("nbd:") {
      let parts = text.dropFirst(4).split(separator: ":", omittingEmptySubsequences: false)
      guard parts.count == 2, let address = IPv4Address(String(parts[0])), let port = UInt16(parts[1]),
        port > 0
      else {
        throw error("backend", "'" + text + "' is not nbd:IPV4:PORT (nbd:127.0.0.1:10809)")
      }
      return .nbd(.tcp4(address: address.rawValue, port: port), export: export ?? "")
    }
    throw error("backend", "'" + text + "' is not file:PATH, nbd:IPV4:PORT or nbd:unix:PATH")
  }

  /// Hex digits to bytes; nil for an odd count or a non-hex character.
  static func bytes(hex: String) -> [UInt8]? {
    var out: [UInt8] = []
    var high: UInt8? = nil
    for c in hex.utf8 {
      guard let n = KeyEncryptionKeyFile.nibble(c) else { return nil }
      if let h = high {
        out.append(h << 4 | n)
        high = nil
      } else {
        high = n
      }
    }
    return high == nil ? out : nil
  }
}
