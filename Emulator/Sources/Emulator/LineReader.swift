import Foundation

/// Reads a pipe on its own thread until end of file and hands over each
/// line (without its "\n"); a last line without "\n" is handed over too.
final class LineReader: @unchecked Sendable {
  private let handle: FileHandle
  private let running = DispatchGroup()

  init(_ handle: FileHandle) { self.handle = handle }

  func start(onLine: @escaping @Sendable (String) -> Void) {
    running.enter()
    let thread = Thread { [handle, running] in
      var pending = Data()
      while true {
        let chunk = handle.availableData
        if chunk.isEmpty { break }  // end of file: the writer closed the pipe
        pending.append(chunk)
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
          onLine(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
          pending.removeSubrange(pending.startIndex...newline)
        }
      }
      if !pending.isEmpty { onLine(String(decoding: pending, as: UTF8.self)) }
      running.leave()
    }
    thread.start()
  }

  /// Blocks until the reader saw end of file (at once if it did already).
  func waitForEnd() { running.wait() }
}
