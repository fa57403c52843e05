import CPlatform

/// A system call failed: which one, and the `errno` it left.
///
/// Thrown by every wrapper in this module (typed throws, so Embedded Swift
/// accepts it). `errno` values are Linux's; the common ones the callers test
/// for have named properties.
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The call that failed, e.g. "recvmsg".
  public let operation: StaticString
  public let errno: Int32

  public init(_ operation: StaticString, errno: Int32) {
    self.operation = operation
    self.errno = errno
  }

  /// Builds the error from a shim result (`-errno`).
  @usableFromInline init(_ operation: StaticString, result: Int) {
    self.init(operation, errno: Int32(truncatingIfNeeded: -result))
  }

  /// Nothing to read or no room to write on a non-blocking descriptor.
  public var isWouldBlock: Bool { errno == Int32(CP_EAGAIN) }
  /// The peer went away (EPIPE or ECONNRESET).
  public var isPeerGone: Bool { errno == Int32(CP_EPIPE) || errno == Int32(CP_ECONNRESET) }

  public static func == (a: SystemError, b: SystemError) -> Bool {
    a.errno == b.errno && a.operation.description == b.operation.description
  }

  public var description: String { operation.description + " failed: errno " + String(errno) }
}

/// Converts a shim result (non-negative, or `-errno`) into a value or a throw.
@inlinable func checked(_ operation: StaticString, _ result: Int) throws(SystemError) -> Int {
  if result < 0 { throw SystemError(operation, result: result) }
  return result
}

@inlinable func checked(_ operation: StaticString, _ result: Int32) throws(SystemError) -> Int32 {
  if result < 0 { throw SystemError(operation, result: Int(result)) }
  return result
}
