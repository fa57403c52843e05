import BlockStorage
import CBlockIO

/// A connected stream socket with whole-buffer send and receive: a short
/// receive (the server closed the connection) is an error, never a partial
/// result.
struct NBDConnection {
  let descriptor: Int32

  init(connectingTo address: NBDAddress) throws(BlockIOError) {
    let fd: Int32
    switch address {
    case .unix(let path): fd = cbio_connect_unix(path)
    case .tcp4(let host, let port): fd = cbio_connect_tcp4(host, port)
    }
    guard fd >= 0 else { throw .system(operation: "connect", errno: -fd) }
    descriptor = fd
  }

  func close() { _ = cbio_close(descriptor) }

  func send(_ buffer: UnsafeRawBufferPointer) throws(BlockIOError) {
    guard let base = buffer.baseAddress else { return }
    var done = 0
    while done < buffer.count {
      let r = cbio_send(descriptor, base + done, buffer.count - done)
      guard r >= 0 else { throw .system(operation: "send", errno: Int32(-r)) }
      guard r > 0 else { throw .shortTransfer(expected: buffer.count, transferred: done) }
      done += r
    }
  }

  func receive(into buffer: UnsafeMutableRawBufferPointer) throws(BlockIOError) {
    guard let base = buffer.baseAddress else { return }
    var done = 0
    while done < buffer.count {
      let r = cbio_receive(descriptor, base + done, buffer.count - done)
      guard r >= 0 else { throw .system(operation: "recv", errno: Int32(-r)) }
      guard r > 0 else { throw .shortTransfer(expected: buffer.count, transferred: done) }
      done += r
    }
  }

  /// Reads and drops `count` bytes (option replies we do not use).
  func skip(_ count: Int, using scratch: UnsafeMutableRawBufferPointer) throws(BlockIOError) {
    var left = count
    while left > 0 {
      let n = min(left, scratch.count)
      try receive(into: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<n]))
      left -= n
    }
  }
}
