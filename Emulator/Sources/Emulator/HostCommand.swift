import Foundation

/// A host command that failed: says what ran and what it printed.
public struct HostCommandError: Error, CustomStringConvertible {
  public var command: [String]
  public var status: Int32
  public var output: String

  public var description: String {
    "`\(command.joined(separator: " "))` exited with status \(status): \(output)"
  }
}

/// Runs short host commands (`ip`, the image builder) to completion.
public enum HostCommand {
  public struct Result: Sendable {
    public var status: Int32
    /// Standard output.
    public var output: String
  }

  /// Runs `command` (looked up on PATH) and waits for it. Standard error is
  /// passed on line by line; a non-zero exit throws.
  @discardableResult
  public static func run(
    _ command: [String], onStandardErrorLine: @escaping @Sendable (String) -> Void = { _ in }
  ) throws -> Result {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = command
    process.standardInput = FileHandle.nullDevice
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    let collectedErrors = LockedText()
    let errorReader = LineReader(errors.fileHandleForReading)
    try process.run()
    errorReader.start { line in
      collectedErrors.append(line + "\n")
      onStandardErrorLine(line)
    }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    errorReader.waitForEnd()
    let text = String(decoding: data, as: UTF8.self)
    guard process.terminationStatus == 0 else {
      throw HostCommandError(
        command: command, status: process.terminationStatus, output: text + collectedErrors.text)
    }
    return Result(status: 0, output: text)
  }
}

/// Text appended from one thread and read from another.
final class LockedText: @unchecked Sendable {
  private let lock = NSLock()
  private var value = ""

  func append(_ more: String) { lock.withLock { value += more } }
  var text: String { lock.withLock { value } }
}
