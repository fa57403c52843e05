import Foundation

/// Joins the terminal to a guest's serial console socket until Ctrl-]
/// (or the guest goes away). The terminal is put in raw mode while joined,
/// so keys (Ctrl-C too) go to the guest's shell.
public struct ConsoleRelay {
  public var socketPath: String

  public init(socketPath: String) { self.socketPath = socketPath }

  public func run() throws {
    let connection = try GuestAgent(socketPath: socketPath).connect()
    defer { close(connection) }
    let input: Int32 = 0
    var saved = termios()
    let isTerminal = isatty(input) == 1
    if isTerminal {
      tcgetattr(input, &saved)
      var raw = saved
      cfmakeraw(&raw)
      tcsetattr(input, TCSANOW, &raw)
      FileHandle.standardError.write(
        Data("[console of \(socketPath); Ctrl-] leaves; press Enter for a prompt]\r\n".utf8))
    }
    defer { if isTerminal { tcsetattr(input, TCSANOW, &saved) } }
    var descriptors = [
      pollfd(fd: input, events: Int16(POLLIN), revents: 0),
      pollfd(fd: connection, events: Int16(POLLIN), revents: 0),
    ]
    var buffer = [UInt8](repeating: 0, count: 4096)
    var inputOpen = true
    while true {
      descriptors[0].fd = inputOpen ? input : -1
      if poll(&descriptors, 2, -1) < 0 {
        if errno == EINTR { continue }
        return
      }
      if descriptors[1].revents != 0 {
        let count = read(connection, &buffer, buffer.count)
        if count <= 0 { return }
        _ = buffer.withUnsafeBytes { write(1, $0.baseAddress, count) }
      }
      if inputOpen, descriptors[0].revents != 0 {
        let count = read(input, &buffer, buffer.count)
        if count <= 0 {
          inputOpen = false
          continue
        }
        if isTerminal, buffer[0..<count].contains(0x1D) { return }
        _ = buffer.withUnsafeBytes { write(connection, $0.baseAddress, count) }
      }
    }
  }
}
