import CBlockIO
import CardCrypto

/// The key-encryption key (KEK) the card unwraps volume keys with, read from
/// a file of its own, never from the configuration: the configuration holds
/// only wrapped keys and may be logged or stored; the KEK file is the one
/// secret (provisioned onto the card, readable by the firmware alone).
///
/// The file holds the AES-256 KEK as 32 raw bytes or as 64 hexadecimal
/// digits (a trailing newline is allowed). The bytes read are cleansed
/// once the key is made: no copy is left in a Swift `String` or `Array`.
public enum KeyEncryptionKeyFile {
  public static let keyByteCount = 32

  public enum ReadError: Error, Equatable, Sendable, CustomStringConvertible {
    case system(operation: StaticString, errno: Int32)
    /// Neither 32 raw bytes nor 64 hex digits.
    case badContents(byteCount: Int)

    public var description: String {
      switch self {
      case .system(let op, let errno): return op.description + " failed: errno " + String(errno)
      case .badContents(let n):
        return "holds " + String(n) + " bytes; expected the 32-byte KEK raw or as 64 hex digits"
      }
    }

    public static func == (a: ReadError, b: ReadError) -> Bool {
      switch (a, b) {
      case (.system(let o1, let e1), .system(let o2, let e2)):
        return e1 == e2 && o1.description == o2.description
      case (.badContents(let x), .badContents(let y)): return x == y
      default: return false
      }
    }
  }

  public static func read(path: String) throws(ReadError) -> SymmetricKey {
    let fd = cbio_open(path, Int32(CBIO_OPEN_READ_ONLY))
    guard fd >= 0 else { throw .system(operation: "open", errno: -fd) }
    defer { _ = cbio_close(fd) }
    // Room for the hex form, a newline and one byte more to detect a
    // longer file.
    let capacity = 2 * keyByteCount + 3
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 8)
    defer {
      SymmetricKey.cleanse(buffer)
      buffer.deallocate()
    }
    var count = 0
    while count < capacity {
      let n = cbio_pread(fd, buffer.baseAddress! + count, capacity - count, UInt64(count))
      guard n >= 0 else { throw .system(operation: "pread", errno: Int32(-n)) }
      if n == 0 { break }
      count += n
    }
    if count == keyByteCount {
      do {
        return try SymmetricKey(copying: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
      } catch {
        throw .badContents(byteCount: count)
      }
    }
    var digits = count
    while digits > 0 && (buffer[digits - 1] == 0x0A || buffer[digits - 1] == 0x0D) { digits -= 1 }
    guard digits == 2 * keyByteCount else { throw .badContents(byteCount: count) }
    // Decode in place: byte i comes from digits 2i and 2i+1, both at or
    // after i, so nothing is overwritten before it is read.
    for i in 0..<keyByteCount {
      guard let high = nibble(buffer[2 * i]), let low = nibble(buffer[2 * i + 1]) else {
        throw .badContents(byteCount: count)
      }
      buffer[i] = high << 4 | low
    }
    do {
      return try SymmetricKey(copying: UnsafeRawBufferPointer(rebasing: buffer[0..<keyByteCount]))
    } catch {
      throw .badContents(byteCount: count)
    }
  }

  /// One hexadecimal digit's value, nil for any other character.
  public static func nibble(_ c: UInt8) -> UInt8? {
    switch c {
    case 0x30...0x39: return c - 0x30
    case 0x41...0x46: return c - 0x41 + 10
    case 0x61...0x66: return c - 0x61 + 10
    default: return nil
    }
  }
}
