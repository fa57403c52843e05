import Foundation

/// What a guest reported before it powered off.
public struct GuestOutcome: Sendable {
  /// The scenario's exit status (`BULKHEAD-DONE rc=N`).
  public var status: Int
  /// Every `BULKHEAD key=value ...` line, in order.
  public var results: [[String: String]]
  /// Seconds from QEMU's start to userspace, and to the end of the scenario.
  public var secondsToReady: Double?
  public var secondsToDone: Double
  public var consoleLog: String

  /// The first result that has `key`, e.g. `value(of: "kernel")`.
  public func value(of key: String) -> String? { results.lazy.compactMap { $0[key] }.first }
}

/// Why a guest gave no outcome; each carries the end of the console log.
public enum GuestError: Error, CustomStringConvertible {
  case timedOut(seconds: Double, console: String)
  case exitedEarly(qemuStatus: Int32, console: String)

  public var description: String {
    switch self {
    case .timedOut(let seconds, let console):
      return "the guest did not finish within \(seconds) s; console log ends:\n\(console)"
    case .exitedEarly(let status, let console):
      return
        "QEMU exited (status \(status)) before the scenario finished; console log ends:\n\(console)"
    }
  }
}

/// A running QEMU guest. Its serial console is read on a thread, kept in a
/// log file, and parsed for the init's result lines. The process is killed
/// (by PID) on `stop()`, on timeout and on deinit.
public final class Guest: @unchecked Sendable {
  public let configuration: GuestConfiguration
  /// The whole console, kept for failure messages.
  public let consoleLogPath: String
  public var pid: Int32 { process.processIdentifier }
  public var isRunning: Bool { process.isRunning }

  private let process = Process()
  private let started = Date()
  private let console: LineReader
  private let log: FileHandle
  // Guarded by `condition`.
  private let condition = NSCondition()
  private var results: [[String: String]] = []
  private var secondsToReady: Double?
  private var done: (status: Int, seconds: Double)?
  private var consoleEnded = false
  private var recentLines: [String] = []

  /// Starts the guest. `directory` receives the console log (and the
  /// scenario file when the scenario is too long to pass inline).
  public init(_ configuration: GuestConfiguration, directory: String) throws {
    self.configuration = configuration
    let scenarioFile = directory + "/\(configuration.name).scenario.sh"
    consoleLogPath = directory + "/\(configuration.name).console.log"
    let commandLine = QemuCommandLine(configuration, scenarioFile: scenarioFile)
    if commandLine.needsScenarioFile {
      try configuration.scenario.write(toFile: scenarioFile, atomically: true, encoding: .utf8)
    }
    _ = FileManager.default.createFile(atPath: consoleLogPath, contents: nil)
    log = try FileHandle(forWritingTo: URL(fileURLWithPath: consoleLogPath))
    log.write(Data(("$ " + commandLine.command.joined(separator: " ") + "\n").utf8))

    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = commandLine.command
    process.standardInput = FileHandle.nullDevice
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    console = LineReader(pipe.fileHandleForReading)
    try process.run()
    // Unowned: `stop()` (also run by deinit) waits for the reader to end.
    console.start { [unowned self] line in self.receive(line) }
  }

  deinit {
    stop()
  }

  private func receive(_ line: String) {
    log.write(Data((line + "\n").utf8))
    let seconds = Date().timeIntervalSince(started)
    condition.lock()
    defer {
      condition.broadcast()
      condition.unlock()
    }
    recentLines.append(line)
    if recentLines.count > 60 { recentLines.removeFirst() }
    switch ConsoleLine(Substring(line)) {
    case .ready: secondsToReady = seconds
    case .result(let fields): results.append(fields)
    case .done(let status): done = (status, seconds)
    case .other: break
    }
  }

  /// Waits for `BULKHEAD-DONE`, then for QEMU to power off.
  public func waitUntilDone(timeout: Double) throws(GuestError) -> GuestOutcome {
    let deadline = Date(timeIntervalSinceNow: timeout)
    condition.lock()
    while done == nil && process.isRunning {
      if !condition.wait(until: min(deadline, Date(timeIntervalSinceNow: 0.2))), Date() >= deadline {
        break
      }
    }
    let outcome = done.map {
      GuestOutcome(
        status: $0.status, results: results, secondsToReady: secondsToReady,
        secondsToDone: $0.seconds, consoleLog: recentLines.joined(separator: "\n"))
    }
    let tail = recentLines.joined(separator: "\n")
    condition.unlock()

    guard let outcome else {
      let running = process.isRunning
      stop()
      if running { throw .timedOut(seconds: timeout, console: tail) }
      throw .exitedEarly(qemuStatus: process.terminationStatus, console: tail)
    }
    // init powers off right after DONE; give QEMU a moment, then insist.
    let powerOff = Date(timeIntervalSinceNow: 10)
    while process.isRunning && Date() < powerOff { usleep(20_000) }
    stop()
    return outcome
  }

  /// Waits until the console has reported `key` (`BULKHEAD key=value`) and
  /// returns that report's fields; nil if the guest finished or QEMU ended
  /// first, or `timeout` passed.
  public func waitForResult(_ key: String, timeout: Double) -> [String: String]? {
    let deadline = Date(timeIntervalSinceNow: timeout)
    condition.lock()
    defer { condition.unlock() }
    while true {
      if let found = results.first(where: { $0[key] != nil }) { return found }
      guard done == nil, process.isRunning, Date() < deadline else { return nil }
      _ = condition.wait(until: min(deadline, Date(timeIntervalSinceNow: 0.2)))
    }
  }

  /// The last console lines (for failure messages).
  public var recentConsole: String {
    condition.lock()
    defer { condition.unlock() }
    return recentLines.joined(separator: "\n")
  }

  /// Kills QEMU by its PID (if it still runs) and reaps it.
  public func stop() {
    if process.isRunning {
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
    }
    console.waitForEnd()
  }
}
