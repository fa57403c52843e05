import Foundation

/// A `bulkhead-card` process (the native build of the firmware) with a
/// configuration file of its own: its card settings and a ring uplink, no
/// tenants (those come from the controller). Its output is collected so a
/// test can wait for the line that says something happened.
final class RunningCard: @unchecked Sendable {
  // @unchecked: `text` is only touched under `lock`.
  let name: String
  let configurationPath: String
  private let process = Process()
  private let lock = NSLock()
  private var text = ""
  private let changed = DispatchSemaphore(value: 0)
  private let finished = DispatchSemaphore(value: 0)

  /// `folder` holds the configuration file and (as CONFIG.state) the
  /// persisted slice, so a restart in the same folder finds it.
  /// `configuration` replaces the default file (card settings and a ring
  /// uplink).
  init(
    name: String, underlay: String, folder: URL, arguments: [String], bootState: String? = nil,
    configuration: String? = nil
  ) throws {
    self.name = name
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    configurationPath = folder.appendingPathComponent(name + ".conf").path
    try Data(
      (configuration
        ?? """
        # \(name): its own settings; tenants come from the controller.
        card underlay=\(underlay) mac=02:ca:00:00:00:01 router-mac=02:ee:00:00:00:01 gateway-mac=02:00:5e:00:00:01
        uplink ring

        """).utf8
    ).write(to: URL(fileURLWithPath: configurationPath))
    // BULKHEAD_CARD_COMMAND runs another build of the firmware, e.g.
    // "qemu-aarch64 .build-aarch64/release/bulkhead-card" (the card's
    // Embedded Swift build under user-mode emulation).
    let command =
      ProcessInfo.processInfo.environment["BULKHEAD_CARD_COMMAND"]?.split(separator: " ").map(String.init)
      ?? []
    if let program = command.first {
      process.executableURL = URL(fileURLWithPath: program.hasPrefix("/") ? program : "/usr/bin/" + program)
      process.arguments = Array(command.dropFirst()) + [configurationPath] + arguments
    } else {
      process.executableURL = Binaries.folder.appendingPathComponent("bulkhead-card")
      process.arguments = [configurationPath] + arguments
    }
    var environment = ProcessInfo.processInfo.environment
    environment["BULKHEAD_FIRMWARE_VERSION"] = "test-\(name)"
    // As the boot stage (Firmware/Card/init) passes it.
    environment["BULKHEAD_BOOT_STATE"] = bootState
    process.environment = environment
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let reader = output.fileHandleForReading
    Thread.detachNewThread { [self] in
      while true {
        let chunk = reader.availableData
        if chunk.isEmpty { break }
        lock.lock()
        text += String(decoding: chunk, as: UTF8.self)
        lock.unlock()
        changed.signal()
      }
      finished.signal()
      changed.signal()
    }
  }

  var output: String {
    lock.lock()
    defer { lock.unlock() }
    return text
  }

  var isRunning: Bool { process.isRunning }

  /// Where the output ends now: `line(containing:after:)` then looks only
  /// at what comes later.
  var mark: Int { output.utf8.count }

  /// Waits until the output (after `mark`) holds a line containing every
  /// one of `parts` (woken by each chunk of output, not by a timer); that
  /// line, or nil after `seconds`.
  func line(containing parts: String..., after mark: Int = 0, within seconds: Double = 30) -> String? {
    let deadline = Date().addingTimeInterval(seconds)
    while true {
      let recent = String(decoding: output.utf8.dropFirst(mark), as: UTF8.self)
      let lines = recent.split(separator: "\n")
      if let line = lines.last(where: { line in parts.allSatisfy { line.contains($0) } }) {
        return String(line)
      }
      let left = deadline.timeIntervalSinceNow
      if left <= 0 { return nil }
      _ = changed.wait(timeout: .now() + left)
    }
  }

  /// SIGTERM, then waits for the process to exit.
  /// Sends SIGUSR1: the card prints its counters.
  func report() { kill(process.processIdentifier, SIGUSR1) }

  func stop() {
    if process.isRunning { process.terminate() }
    process.waitUntilExit()
    _ = finished.wait(timeout: .now() + 5)
  }
}
