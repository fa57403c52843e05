import Foundation
import Testing

/// The built `bulkhead-controller` and `dpuctl` binaries, run as a person
/// or a script would: separate processes over a unix socket.
enum Binaries {
  /// The folder of the test executable, where SwiftPM puts the products.
  static var folder: URL {
    if let override = ProcessInfo.processInfo.environment["BULKHEAD_BIN_DIR"] {
      return URL(fileURLWithPath: override)
    }
    return URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).resolvingSymlinksInPath()
      .deletingLastPathComponent()
  }
}

/// A controller process on a private unix socket and store, stopped on
/// `stop()`.
final class RunningController {
  let directory: URL
  let socket: String
  /// The management channel's port, when started with a PKI folder.
  private(set) var managementPort: UInt16?
  private let process = Process()

  /// `directory` and `listenPort`: a restart over the store (and on
  /// the port) an earlier run left.
  init(
    vniRange: String, pki: String? = nil, directory: URL? = nil, listenPort: UInt16 = 0,
    extraArguments: [String] = []
  ) async throws {
    self.directory =
      directory
      ?? FileManager.default.temporaryDirectory.appendingPathComponent("bulkhead-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
    socket = self.directory.appendingPathComponent("controller.sock").path
    // A killed controller leaves its socket behind.
    try? FileManager.default.removeItem(atPath: socket)
    let tokens = self.directory.appendingPathComponent("tokens.json")
    try Data(
      """
      { "tokens": [ { "token": "admin-token", "role": "provider-admin" },
                    { "token": "acme-token", "tenant": "acme" },
                    { "token": "beta-token", "tenant": "beta" } ] }
      """.utf8
    ).write(to: tokens)
    process.executableURL = Binaries.folder.appendingPathComponent("bulkhead-controller")
    process.arguments =
      [
        "--database", self.directory.appendingPathComponent("state.sqlite").path, "--tokens", tokens.path,
        "--unix", socket, "--vni-range", vniRange,
      ] + (pki.map { ["--pki", $0, "--management-listen", "127.0.0.1:\(listenPort)"] } ?? []) + extraArguments
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    // Wait for the line the controller prints once it is listening: an
    // event, not a sleep.
    let reader = output.fileHandleForReading
    let printed = await withCheckedContinuation { continuation in
      Thread.detachNewThread {
        var text = ""
        while true {
          let chunk = reader.availableData
          if chunk.isEmpty { return continuation.resume(returning: String?.none) }
          text += String(decoding: chunk, as: UTF8.self)
          if text.contains("listening on") { return continuation.resume(returning: text) }
        }
      }
    }
    guard let printed else { throw ControllerDidNotStart() }
    // "bulkhead-controller: management channel on port N"
    if let line = printed.split(separator: "\n").first(where: { $0.contains("management channel on port") }) {
      self.managementPort = line.split(separator: " ").last.flatMap { UInt16($0) }
    }
  }

  func stop() {
    process.terminate()
    process.waitUntilExit()
    try? FileManager.default.removeItem(at: directory)
  }

  /// SIGKILL, as a crash would: the store stays for a restart.
  func kill() {
    Foundation.kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
  }
}

struct ControllerDidNotStart: Error {}

/// What one dpuctl invocation printed and how it exited.
struct Invocation {
  var status: Int32
  var output: String
  var errorOutput: String

  /// The standard output as JSON (an object or an array).
  var json: Any? { try? JSONSerialization.jsonObject(with: Data(output.utf8)) }
  var object: [String: Any] { json as? [String: Any] ?? [:] }
  var array: [[String: Any]] { json as? [[String: Any]] ?? [] }
}

/// A provider's PKI in `directory`, as an operator makes it: `dpuctl pki
/// init`, `issue-controller` (unless `controller` is false) and
/// `issue-card` for each of `cards`; each step must succeed.
func makeProviderPKI(_ directory: String, cards: [String], controller: Bool = true) throws {
  var steps = [["pki", "init", "--dir", directory]]
  if controller { steps.append(["pki", "issue-controller", "--dir", directory]) }
  steps += cards.map { ["pki", "issue-card", $0, "--dir", directory] }
  for arguments in steps {
    let made = try dpuctl(arguments, controller: "unix:/nonexistent")
    #expect(made.status == 0, "dpuctl \(arguments.joined(separator: " ")): \(made.errorOutput)")
  }
}

/// Runs `dpuctl ARGS` against `controller` with `token`.
func dpuctl(_ arguments: [String], token: String = "admin-token", controller: String) throws -> Invocation {
  let process = Process()
  process.executableURL = Binaries.folder.appendingPathComponent("dpuctl")
  process.arguments = arguments
  var environment = ProcessInfo.processInfo.environment
  environment["BULKHEAD_TOKEN"] = token
  environment["BULKHEAD_CONTROLLER"] = controller
  process.environment = environment
  let output = Pipe()
  let errors = Pipe()
  process.standardOutput = output
  process.standardError = errors
  try process.run()
  // Read both pipes before waiting, so a full pipe cannot stall the child.
  let errorData = Thread.detachedRead(errors.fileHandleForReading)
  let outputData = output.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return Invocation(
    status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
    errorOutput: String(decoding: errorData(), as: UTF8.self))
}

extension Thread {
  /// Reads `handle` to its end on another thread; the result blocks until
  /// then.
  static func detachedRead(_ handle: FileHandle) -> () -> Data {
    let done = DispatchSemaphore(value: 0)
    let box = DataBox()
    Thread.detachNewThread {
      box.data = handle.readDataToEndOfFile()
      done.signal()
    }
    return {
      done.wait()
      return box.data
    }
  }
}

final class DataBox: @unchecked Sendable {
  // @unchecked: written once before the semaphore is signalled, read after.
  var data = Data()
}
