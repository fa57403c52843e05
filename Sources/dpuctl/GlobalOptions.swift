import ArgumentParser
import ControlClient
import Foundation

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
  case table, json
}

/// Options every subcommand takes.
struct GlobalOptions: ParsableArguments {
  @Option(help: "Controller address: HOST:PORT or unix:/path/to.sock (env BULKHEAD_CONTROLLER).")
  var controller: String?

  @Option(help: "Bearer token (env BULKHEAD_TOKEN).")
  var token: String?

  @Option(name: .shortAndLong, help: "Output format: table or json.")
  var output: OutputFormat = .table

  @Option(help: "Idempotency key for a change; default: a new UUID per invocation.")
  var requestId: String?

  @Option(help: "Deadline of each call, in seconds.")
  var timeout: Double = 10

  @Option(help: "Attempts for calls that are safe to repeat (reads, and changes with a request id).")
  var attempts: Int = 4

  var address: ControllerAddress {
    get throws {
      let text =
        controller ?? ProcessInfo.processInfo.environment["BULKHEAD_CONTROLLER"]
        ?? ControllerAddress.defaultText
      guard let address = ControllerAddress(text) else {
        throw ValidationError("--controller '\(text)' is not HOST:PORT or unix:/path; e.g. 127.0.0.1:50051")
      }
      return address
    }
  }

  var resolvedToken: String {
    get throws {
      guard let token = token ?? ProcessInfo.processInfo.environment["BULKHEAD_TOKEN"], !token.isEmpty else {
        throw ValidationError(
          "no token: pass --token or set BULKHEAD_TOKEN (see the controller's token file)")
      }
      return token
    }
  }

  /// The same for every change of this invocation, so a retry inside the
  /// client is recognised by the controller.
  var resolvedRequestID: String { requestId ?? Self.invocationRequestID }
  private static let invocationRequestID = UUID().uuidString.lowercased()

  /// Connects, runs `body`, and turns failures into a message and exit code.
  func run<Result: Sendable>(_ body: (ProviderClient) async throws -> Result) async throws -> Result {
    let address = try address
    let token = try resolvedToken
    guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    guard attempts >= 1 else { throw ValidationError("--attempts must be at least 1") }
    do {
      return try await withProviderClient(
        address: address, token: token, timeout: .milliseconds(Int(timeout * 1000)),
        policy: RetryPolicy(maximumAttempts: attempts), body)
    } catch {
      throw Failure(error, address: address).report()
    }
  }
}
