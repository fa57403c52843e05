import Foundation

/// A long-running peer on the host (dpdk-testpmd, qemu-storage-daemon, ...)
/// with its output in a log file. Stopped by its PID on `stop()` and on
/// deinit.
public final class PeerProcess: @unchecked Sendable {
  public let command: [String]
  public let logPath: String
  public var pid: Int32 { process.processIdentifier }
  private let process = Process()
  /// Kept open: some peers (testpmd without `-i`) exit when standard input
  /// ends.
  private let input = Pipe()

  public init(_ command: [String], logPath: String) throws {
    self.command = command
    self.logPath = logPath
    _ = FileManager.default.createFile(atPath: logPath, contents: nil)
    let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = command
    process.standardInput = input
    process.standardOutput = log
    process.standardError = log
    try process.run()
  }

  deinit { stop() }

  public var isRunning: Bool { process.isRunning }

  /// What the peer printed so far.
  public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

  /// Waits until `path` exists (a socket the peer creates), or the peer
  /// exits, or `timeout` seconds pass. Returns whether it appeared.
  public func waitForFile(_ path: String, timeout: Double) -> Bool {
    let deadline = Date(timeIntervalSinceNow: timeout)
    while Date() < deadline && process.isRunning {
      if FileManager.default.fileExists(atPath: path) { return true }
      usleep(20_000)
    }
    return FileManager.default.fileExists(atPath: path)
  }

  /// Waits until the log contains `text` (or the peer exits, or time runs out).
  public func waitForLog(containing text: String, timeout: Double) -> Bool {
    let deadline = Date(timeIntervalSinceNow: timeout)
    while Date() < deadline && process.isRunning {
      if log.contains(text) { return true }
      usleep(50_000)
    }
    return log.contains(text)
  }

  /// SIGTERM, then SIGKILL if the peer is still there after `grace` seconds.
  public func stop(grace: Double = 3) {
    guard process.isRunning else { return }
    kill(process.processIdentifier, SIGTERM)
    let deadline = Date(timeIntervalSinceNow: grace)
    while process.isRunning && Date() < deadline { usleep(20_000) }
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
  }
}
