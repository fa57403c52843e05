import CardCrypto
import Management
import Volumes

/// A volume a slice carries, checked: what the run loop attaches on the
/// socket `socketPath` (the card's host-function directory and the slice's
/// `hostFunction`). The data key stays wrapped here; the card's KEK
/// unwraps it when the volume is attached. Not secret: may be logged.
public struct SliceVolume: Equatable, Sendable {
  public var id: UInt32
  /// The key the card's running slice volumes are kept by.
  public var hostFunction: String
  public var socketPath: String
  public var location: VolumeLocation
  public var spec: VolumeSpec
  public var queueCount: Int
  /// What the guest sees; the backend holds at least this much.
  public var byteCount: UInt64

  public init(
    id: UInt32, hostFunction: String, socketPath: String, location: VolumeLocation, spec: VolumeSpec,
    queueCount: Int, byteCount: UInt64
  ) {
    self.id = id
    self.hostFunction = hostFunction
    self.socketPath = socketPath
    self.location = location
    self.spec = spec
    self.queueCount = queueCount
    self.byteCount = byteCount
  }

  /// True if going from `old` to this value needs the volume detached and
  /// attached again (a new backend, key, sector size, mode, queue count or
  /// serial); a grown size alone is a resize in place.
  public func replaces(_ old: SliceVolume) -> Bool {
    id != old.id || socketPath != old.socketPath || location != old.location || spec != old.spec
      || queueCount != old.queueCount
  }

  /// What GET_ID answers, as for a `volume` line.
  public var serial: String { "bulkhead-vol-" + String(id) }
}

extension SliceTranslation {
  /// The longest socket path a unix socket address holds (sun_path, with
  /// its terminating NUL).
  static let socketPathLimit = 107
  static let hostFunctionLimit = 64

  /// The slice's volumes, each checked as hostile input: AES-XTS-256 only,
  /// a plain host-function name, unique names and ids, a backend in the
  /// card's `backend=` syntax, a size that is a whole number of sectors,
  /// and a wrapped key that unwraps with the card's KEK (tried here, then
  /// dropped: the key is unwrapped again, into the volume, on attach). A
  /// socket path that a configuration file's function already uses is
  /// refused.
  public static func volumes(
    from state: DesiredState, base: CardConfiguration, hostFunctionDirectory: String,
    volumeDirectory: String? = nil, kek: CardKeyEncryptionKey?
  ) throws(SliceTranslationError) -> [SliceVolume] {
    guard !state.volumes.isEmpty else { return [] }
    guard let kek else {
      throw .badVolume(
        handle: state.volumes[0].id,
        field: "wrappedKey (this card has no key-encryption key: cards/NAME.kek in its PKI folder)")
    }
    var fileSockets = base.volumes.map { $0.socketPath }
    for function in base.hostFunctions {
      if case .vhostUser(let path) = function.binding { fileSockets.append(path) }
    }
    var volumes: [SliceVolume] = []
    for slice in state.volumes {
      func bad(_ field: String) -> SliceTranslationError { .badVolume(handle: slice.id, field: field) }
      guard slice.cipher == .aesXTS256 else { throw bad("cipher (only AES-XTS-256)") }
      guard isPlainName(slice.hostFunction) else {
        throw bad(
          "hostFunction '" + String(slice.hostFunction.prefix(hostFunctionLimit))
            + "' (1-64 letters, digits, '.', '-', '_' or ':', not starting with '.')")
      }
      guard !volumes.contains(where: { $0.hostFunction == slice.hostFunction }) else {
        throw bad("hostFunction '" + slice.hostFunction + "' (given to two volumes)")
      }
      guard !volumes.contains(where: { $0.id == slice.id }) else { throw bad("id (given to two volumes)") }
      let socketPath = hostFunctionDirectory + "/" + slice.hostFunction
      guard socketPath.utf8.count <= socketPathLimit else {
        throw bad("hostFunction (the socket path " + socketPath + " is too long for a unix socket)")
      }
      guard !fileSockets.contains(socketPath) else {
        throw bad("hostFunction (" + socketPath + " is the configuration file's)")
      }
      let location: VolumeLocation
      do throws(ConfigurationFileError) {
        location = try VolumeStatement.location(
          backend: slice.backend, export: slice.exportName.isEmpty ? nil : slice.exportName)
      } catch {
        throw bad(error.field + " (" + error.problem + ")")
      }
      if case .file(let path) = location {
        guard path.hasPrefix("/") else { throw bad("backend (a file backend's path is absolute)") }
        if let volumeDirectory, !isInside(path, directory: volumeDirectory) {
          throw bad(
            "backend (a file backend lies in this card's volume directory " + volumeDirectory
              + ", without '.' or '..' components)")
        }
        guard !volumes.contains(where: { $0.socketPath == path }) && path != socketPath else {
          throw bad("backend (the path is a volume's socket)")
        }
      }
      let sectorSize: AESXTS.DataUnitSize
      switch slice.sectorSize {
      case 512: sectorSize = .bytes512
      case 4096: sectorSize = .bytes4096
      default: throw bad("sectorSize (" + String(slice.sectorSize) + " is not 512 or 4096)")
      }
      guard slice.sizeBytes > 0, slice.sizeBytes % UInt64(slice.sectorSize) == 0 else {
        throw bad(
          "sizeBytes (" + String(slice.sizeBytes) + " is not a positive multiple of the "
            + String(slice.sectorSize) + "-byte sector)")
      }
      guard (1...16).contains(slice.queues) else { throw bad("queues (1-16)") }
      let keyByteCount: Int
      do throws(CryptoError) {
        // Unwrapped only to check it; the key is zeroed when released.
        keyByteCount = try KeyWrap.unwrap(slice.wrappedKey, kek: kek.key).byteCount
      } catch {
        throw bad(
          "wrappedKey (does not unwrap with this card's key-encryption key: " + error.description + ")")
      }
      guard keyByteCount == AESXTS.keyByteCount else {
        throw bad("wrappedKey (the key is " + String(keyByteCount) + " bytes; AES-XTS-256 takes 64)")
      }
      volumes.append(
        SliceVolume(
          id: slice.id, hostFunction: slice.hostFunction, socketPath: socketPath, location: location,
          spec: VolumeSpec(
            wrappedKey: slice.wrappedKey, encryptionSectorSize: sectorSize, isReadOnly: slice.readOnly),
          queueCount: Int(slice.queues), byteCount: slice.sizeBytes))
    }
    return volumes
  }

  /// Whether `path` names a file below `directory` itself: no `.`, `..`
  /// or empty components, so the text is where the file is (the directory
  /// is the card's; a tenant cannot put links in it).
  static func isInside(_ path: String, directory: String) -> Bool {
    let prefix = directory == "/" ? "/" : directory + "/"
    guard path.hasPrefix(prefix), path.utf8.count > prefix.utf8.count else { return false }
    let rest = path.dropFirst(prefix.count)
    return rest.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { component in
      !component.isEmpty && component != "." && component != ".."
    }
  }

  /// 1 to 64 letters, digits, `.`, `-`, `_` or `:`, not starting with `.`
  /// (so never `.`, `..` or a hidden file) and without `/`: a file name
  /// inside the host-function directory and nowhere else.
  static func isPlainName(_ name: String) -> Bool {
    let bytes = Array(name.utf8)
    guard (1...hostFunctionLimit).contains(bytes.count), bytes[0] != UInt8(ascii: ".") else { return false }
    return bytes.allSatisfy { b in
      (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
        || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: ".")
        || b == UInt8(ascii: "-") || b == UInt8(ascii: "_") || b == UInt8(ascii: ":")
    }
  }
}
