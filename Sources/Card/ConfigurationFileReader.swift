import CCardProcess
import Platform

/// Reads a whole (small) text file: the configuration. Not on a hot path.
public enum ConfigurationFileReader {
  /// The largest configuration file accepted.
  public static let maximumSize = 4 << 20

  public static func read(path: String) throws(SystemError) -> String {
    let fd = path.withCString { ccp_open_read_only($0) }
    guard fd >= 0 else { throw SystemError("open", errno: -fd) }
    let file = FileDescriptor(rawValue: fd)
    defer { _ = try? file.close() }
    var bytes: [UInt8] = []
    let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 1)
    defer { chunk.deallocate() }
    while true {
      let n = try file.read(into: chunk)
      if n == 0 { break }
      bytes += UnsafeRawBufferPointer(rebasing: chunk[0..<n])
      guard bytes.count <= maximumSize else { throw SystemError("read", errno: 27) }  // EFBIG
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}

/// The process's command-line arguments (Embedded Swift has no
/// `CommandLine`; the C shim keeps what glibc passes to constructors).
public enum ProcessArguments {
  public static var all: [String] {
    var result: [String] = []
    for i in 0..<ccp_argument_count() {
      if let p = ccp_argument(i) { result.append(String(cString: p)) }
    }
    return result
  }
}
