import BlockStorage
import CardCrypto
import Foundation
import Testing

@testable import Volumes

/// A fixed KEK and a fixed 64-byte data key, so failures reproduce and the
/// interop tests can hand the same key to cryptsetup.
enum TestKeys {
  static let kekHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
  static let dataKeyHex =
    "2718281828459045235360287471352662497757247093699959574966967627"
    + "3141592653589793238462643383279502884197169399375105820974944592"

  static func kek() throws -> SymmetricKey { try SymmetricKey(hex: kekHex) }

  static func wrappedDataKey() throws -> [UInt8] {
    let key = try SymmetricKey(hex: dataKeyHex)
    return try KeyWrap.wrap(key, kek: try kek())
  }

  static func spec(_ size: AESXTS.DataUnitSize, readOnly: Bool = false) throws -> VolumeSpec {
    VolumeSpec(wrappedKey: try wrappedDataKey(), encryptionSectorSize: size, isReadOnly: readOnly)
  }

  static func volume<B: BlockBackend>(_ backend: B, _ size: AESXTS.DataUnitSize, readOnly: Bool = false)
    throws
    -> EncryptedVolume<B>
  {
    try EncryptedVolume(spec: try spec(size, readOnly: readOnly), kek: try kek(), backend: backend)
  }
}

/// A recognisable plaintext: the pattern the no-plaintext checks search for.
func pattern(_ count: Int, seed: UInt8 = 0) -> [UInt8] {
  let text = Array("bulkhead-plaintext-marker-".utf8)
  return (0..<count).map { text[$0 % text.count] &+ seed }
}

func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
  guard needle.count <= haystack.count else { return false }
  let first = needle[0]
  var i = 0
  while i + needle.count <= haystack.count {
    if haystack[i] == first && haystack[i..<i + needle.count].elementsEqual(needle) { return true }
    i += 1
  }
  return false
}

extension BlockStore {
  func write(sector: UInt64, _ bytes: [UInt8]) throws(BlockIOError) {
    var copy = bytes
    var failure: BlockIOError? = nil
    copy.withUnsafeMutableBytes { b in
      do throws(BlockIOError) { try write(sector: sector, consuming: b) } catch { failure = error }
    }
    if let failure { throw failure }
  }

  func read(sector: UInt64, count: Int) throws(BlockIOError) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: count)
    var failure: BlockIOError? = nil
    out.withUnsafeMutableBytes { b in
      do throws(BlockIOError) { try read(sector: sector, into: b) } catch { failure = error }
    }
    if let failure { throw failure }
    return out
  }
}

/// A deterministic generator (SplitMix64), so random-operation tests repeat.
struct SplitMix64: RandomNumberGenerator {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9e37_79b9_7f4a_7c15
    var z = state
    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
    return z ^ (z >> 31)
  }
}

/// A scratch directory for one test, removed by the caller.
func temporaryDirectory(_ name: String) throws -> String {
  let path = NSTemporaryDirectory() + "bulkhead-volumes-" + name + "-" + UUID().uuidString
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  return path
}

/// Runs a program to completion and returns its exit status and output.
///
/// Spawned directly (posix_spawn, every descriptor above 2 closed) and
/// not through Foundation's Process: a daemon that forks once it is ready
/// (qemu-nbd --fork, nbdkit) would inherit the descriptor Process watches
/// for the child's exit, or a pipe's write end, and the wait would last as
/// long as the daemon. Output goes to a file for the same reason.
@discardableResult
func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
  let outputPath = NSTemporaryDirectory() + "bulkhead-volumes-output-" + UUID().uuidString
  defer { try? FileManager.default.removeItem(atPath: outputPath) }
  var actions = posix_spawn_file_actions_t()
  posix_spawn_file_actions_init(&actions)
  defer { posix_spawn_file_actions_destroy(&actions) }
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
  posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
  posix_spawn_file_actions_adddup2(&actions, 1, 2)
  // Every other open descriptor is closed in the child (glibc ignores a
  // close of one that was closed meanwhile).
  let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
  for descriptor in open.compactMap({ Int32($0) }) where descriptor > 2 {
    posix_spawn_file_actions_addclose(&actions, descriptor)
  }
  let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
  defer { for pointer in argv { free(pointer) } }
  // The child starts with no signal blocked and default handlers: a
  // test thread's mask would otherwise be inherited, and a daemon with
  // SIGTERM blocked outlives `Daemon.stop()`.
  var attributes = posix_spawnattr_t()
  posix_spawnattr_init(&attributes)
  defer { posix_spawnattr_destroy(&attributes) }
  var noSignals = sigset_t()
  sigemptyset(&noSignals)
  var defaultSignals = sigset_t()
  sigfillset(&defaultSignals)
  posix_spawnattr_setsigmask(&attributes, &noSignals)
  posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
  posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
  var pid: pid_t = 0
  let spawned = posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, environ)
  guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EINVAL) }
  var status: Int32 = 0
  while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
  let data = FileManager.default.contents(atPath: outputPath) ?? Data()
  // WIFEXITED / WEXITSTATUS, which Swift does not import as macros.
  let exitStatus: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
  return (exitStatus, String(decoding: data, as: UTF8.self))
}

func toolExists(_ name: String) -> Bool {
  (try? run(["sh", "-c", "command -v " + name]))?.status == 0
}

/// A daemon that forks once it is ready (qemu-nbd --fork, nbdkit) and
/// records its pid: stopped by that pid only.
struct Daemon {
  let pidFile: String

  func stop() {
    guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
      let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0
    else { return }
    kill(pid, SIGTERM)
  }
}
