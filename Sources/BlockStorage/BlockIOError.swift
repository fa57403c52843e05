/// Why a block request failed. Every case becomes VIRTIO_BLK_S_IOERR (or
/// S_UNSUPP for `.unsupported`) for the guest: a backend fault is reported,
/// never papered over with wrong data.
public enum BlockIOError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The request reaches past the end of the device (sector, 512-byte sectors).
  case outOfRange(sector: UInt64, sectors: UInt64)
  /// A length that is not a whole number of 512-byte sectors.
  case misaligned(byteCount: Int)
  /// A write, discard or write-zeroes to a read-only volume.
  case readOnly
  /// The volume was detached: its key is gone.
  case detached
  /// A system call on the backend failed with this errno.
  case system(operation: StaticString, errno: Int32)
  /// The backend moved fewer bytes than asked (a truncated file, a closed
  /// socket): an error, because the rest of the data would be missing.
  case shortTransfer(expected: Int, transferred: Int)
  /// An NBD server answered with this error code (NBD protocol, "Error values").
  case remote(code: UInt32)
  /// A peer broke the protocol (bad magic, wrong handle, oversized reply).
  case protocolViolation(StaticString)
  /// The backend cannot do this operation (e.g. discard on a server without TRIM).
  case unsupported
  /// The cipher refused a data unit (a bug on our side; never guest data).
  case cipherFailure

  public var description: String {
    switch self {
    case .outOfRange(let s, let n):
      return "block: sectors " + String(s) + "+" + String(n) + " are past the end of the device"
    case .misaligned(let n): return "block: " + String(n) + " bytes is not a whole number of 512-byte sectors"
    case .readOnly: return "block: the volume is read-only"
    case .detached: return "block: the volume is detached"
    case .system(let op, let errno): return "block: " + op.description + " failed: errno " + String(errno)
    case .shortTransfer(let e, let t):
      return "block: short transfer, " + String(t) + " of " + String(e) + " bytes"
    case .remote(let code): return "block: the NBD server answered error " + String(code)
    case .protocolViolation(let what): return "block: protocol violation: " + what.description
    case .unsupported: return "block: the backend does not support this operation"
    case .cipherFailure: return "block: the cipher refused a data unit"
    }
  }

  public static func == (a: BlockIOError, b: BlockIOError) -> Bool {
    switch (a, b) {
    case (.outOfRange(let s1, let n1), .outOfRange(let s2, let n2)): return s1 == s2 && n1 == n2
    case (.misaligned(let x), .misaligned(let y)): return x == y
    case (.readOnly, .readOnly), (.detached, .detached), (.unsupported, .unsupported),
      (.cipherFailure, .cipherFailure):
      return true
    case (.system(let o1, let e1), .system(let o2, let e2)):
      return e1 == e2 && o1.description == o2.description
    case (.shortTransfer(let e1, let t1), .shortTransfer(let e2, let t2)): return e1 == e2 && t1 == t2
    case (.remote(let x), .remote(let y)): return x == y
    case (.protocolViolation(let x), .protocolViolation(let y)): return x.description == y.description
    default: return false
    }
  }
}
