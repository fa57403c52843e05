import ArgumentParser
import ControlClient
import Foundation
import GRPCCore

/// A failed command: what went wrong, what to do next, and the exit code.
struct Failure: Error, CustomStringConvertible {
  var message: String
  var hint: String?
  var exitCode: Int32

  init(_ error: any Error, address: ControllerAddress) {
    if let rpc = error as? RPCError {
      message = rpc.message
      switch rpc.code {
      case .unavailable:
        message = "the controller at \(address) is unreachable (\(rpc.message))"
        hint =
          "start it with `bulkhead-controller --database state.sqlite --tokens tokens.json`, or pass --controller HOST:PORT|unix:/path"
        exitCode = 6
      case .deadlineExceeded:
        hint = "the controller did not answer in time; raise --timeout or check its load"
        exitCode = 7
      case .notFound: exitCode = 3
      case .invalidArgument, .alreadyExists, .failedPrecondition, .aborted, .outOfRange, .resourceExhausted:
        exitCode = 4
      case .unauthenticated, .permissionDenied:
        hint = "check --token / BULKHEAD_TOKEN: tenant tokens reach only their own tenant"
        exitCode = 5
      default: exitCode = 1
      }
    } else if error is CircuitOpenError {
      message = "the controller at \(address) failed repeatedly; not calling it for a few seconds"
      hint = "check that it is running, then retry"
      exitCode = 6
    } else {
      message = "\(error)"
      exitCode = 1
    }
  }

  var description: String { hint.map { "\(message)\n  next: \($0)" } ?? message }
}

extension Failure {
  /// Prints the failure to standard error and gives the exit code to throw.
  func report() -> ExitCode {
    FileHandle.standardError.write(Data("dpuctl: error: \(self)\n".utf8))
    return ExitCode(exitCode)
  }
}
