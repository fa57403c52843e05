import Foundation

/// A unix datagram socket bound to a path: the test's end of a guest NIC
/// with a `.dgram` backend, where each datagram is one Ethernet frame.
final class DatagramSocket {
  struct Failure: Error, CustomStringConvertible { let description: String }

  let path: String
  private let descriptor: Int32

  init(path: String) throws {
    self.path = path
    unlink(path)
    descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
    guard descriptor >= 0 else { throw Failure(description: "socket: errno \(errno)") }
    var address = Self.address(path)
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    guard bound == 0 else {
      close(descriptor)
      throw Failure(description: "bind \(path): errno \(errno)")
    }
  }

  deinit {
    close(descriptor)
    unlink(path)
  }

  private static func address(_ path: String) -> sockaddr_un {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { bytes in
      for (i, byte) in path.utf8.prefix(bytes.count - 1).enumerated() { bytes[i] = byte }
    }
    return address
  }

  func send(_ frame: [UInt8], to path: String) throws {
    var address = Self.address(path)
    let sent = frame.withUnsafeBytes { bytes in
      withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          sendto(descriptor, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
        }
      }
    }
    guard sent == frame.count else { throw Failure(description: "sendto \(path): errno \(errno)") }
  }

  /// The first datagram `matches` accepts within `timeout` seconds, or nil;
  /// others are skipped (the guest's own chatter: IPv6 neighbour
  /// discovery, router solicitations).
  func receive(timeout: Double, matching matches: ([UInt8]) -> Bool) -> [UInt8]? {
    let deadline = Date().addingTimeInterval(timeout)
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while Date() < deadline {
      var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
      let waitMilliseconds = Int32(max(1, min(1000, deadline.timeIntervalSinceNow * 1000)))
      guard poll(&poller, 1, waitMilliseconds) > 0 else { continue }
      let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
      guard count > 0 else { continue }
      let frame = Array(buffer[..<count])
      if matches(frame) { return frame }
    }
    return nil
  }
}
