/// An error a caller of the provider API sees. Messages name the field, the
/// value, and what to do (STYLE rule 9), because they end up printed by
/// `dpuctl` in front of an operator.
public struct APIError: Error, Equatable, CustomStringConvertible {
  /// The gRPC status the error maps to.
  public enum Code: String, Sendable {
    case invalidArgument, notFound, alreadyExists, failedPrecondition, permissionDenied
    case unauthenticated, resourceExhausted, aborted, `internal`
  }

  public var code: Code
  public var message: String

  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  public var description: String { "\(code.rawValue): \(message)" }

  /// `field` `'value'` problem; fix.
  public static func invalid(_ field: String, _ value: String, _ problem: String, fix: String) -> APIError {
    APIError(.invalidArgument, "\(field) '\(value)' \(problem); \(fix)")
  }

  public static func notFound(_ name: String, referencedBy field: String? = nil) -> APIError {
    if let field {
      return APIError(.notFound, "\(field) '\(name)' does not exist; create it first or correct the name")
    }
    return APIError(.notFound, "'\(name)' does not exist; list the collection to see what does")
  }

  public static func denied(_ name: String) -> APIError {
    APIError(
      .permissionDenied,
      "'\(name)' is outside what this token may see; use a token of its tenant or a provider-admin token")
  }
}
