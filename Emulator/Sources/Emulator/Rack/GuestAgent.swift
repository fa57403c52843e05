import Foundation

/// Runs shell commands in a rack guest through its exec agent: the init's
/// loop on the guest's second serial port (Emulator/images/init), reached
/// through QEMU's unix socket for that port. One command at a time (QEMU
/// takes one client per socket).
public struct GuestAgent: Sendable {
  public struct Result: Sendable, Equatable {
    public var status: Int
    public var output: String
  }

  public var socketPath: String

  public init(socketPath: String) { self.socketPath = socketPath }

  /// Runs `script` with busybox sh in the guest (the image's programs are
  /// on hand, as in a scenario) and returns its status and output
  /// (standard output and error together).
  public func run(_ script: String, timeout: Double = 120) throws -> Result {
    let descriptor = try connect()
    defer { close(descriptor) }
    let id = String(UInt32.random(in: 0...UInt32.max), radix: 36)
    let request = id + " " + Data(script.utf8).base64EncodedString() + "\n"
    try write(request, to: descriptor)
    var pending = Data()
    var encoded = ""
    let deadline = Date(timeIntervalSinceNow: timeout)
    while true {
      let remaining = deadline.timeIntervalSinceNow
      guard remaining > 0 else {
        throw RackError("the guest's command did not finish within \(Int(timeout)) s: \(script)")
      }
      var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
      let ready = poll(&poller, 1, Int32(min(remaining, 1) * 1000))
      if ready < 0 && errno != EINTR {
        throw RackError("poll on \(socketPath): \(String(cString: strerror(errno)))")
      }
      if ready <= 0 { continue }
      var buffer = [UInt8](repeating: 0, count: 65536)
      let count = read(descriptor, &buffer, buffer.count)
      if count <= 0 { throw RackError("the guest's agent closed its port (did the guest stop?)") }
      pending.append(contentsOf: buffer[0..<count])
      while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
        let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
          .trimmingCharacters(in: .whitespacesAndNewlines)
        pending.removeSubrange(pending.startIndex...newline)
        let words = line.split(separator: " ")
        guard words.count >= 3, words[1] == Substring(id) else { continue }
        if words[0] == "BHX-OUT" {
          encoded += words[2]
        } else if words[0] == "BHX-END", words[2].hasPrefix("rc="), let status = Int(words[2].dropFirst(3)) {
          let output = Data(base64Encoded: encoded).map { String(decoding: $0, as: UTF8.self) } ?? ""
          return Result(status: status, output: output)
        }
      }
    }
  }

  func connect() throws -> Int32 {
    let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard descriptor >= 0 else { throw RackError("socket: \(String(cString: strerror(errno)))") }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let path = Array(socketPath.utf8)
    guard path.count < MemoryLayout.size(ofValue: address.sun_path) else {
      close(descriptor)
      throw RackError("\(socketPath) is too long for a unix socket; use a shorter --state-dir")
    }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      raw.copyBytes(from: path)
      raw[path.count] = 0
    }
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    guard connected == 0 else {
      let reason = String(cString: strerror(errno))
      close(descriptor)
      throw RackError(
        "cannot reach the guest's agent at \(socketPath): \(reason) (is the rack up? dpuctl emu status)")
    }
    return descriptor
  }

  func write(_ text: String, to descriptor: Int32) throws {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
      let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
      if written < 0 && errno == EINTR { continue }
      guard written > 0 else {
        throw RackError("writing to the guest's agent: \(String(cString: strerror(errno)))")
      }
      bytes = bytes.dropFirst(written)
    }
  }
}
