import Foundation
import GRPCCore

/// Maps bearer tokens to principals. Tokens come from a JSON file for now:
///
/// ```json
/// { "tokens": [ { "token": "…", "role": "provider-admin" },
///               { "token": "…", "tenant": "acme" } ] }
/// ```
public struct Authenticator: Sendable {
  private let principals: [String: Principal]

  public init(tokens: [String: Principal]) { principals = tokens }

  public init(file path: String) throws {
    struct Entry: Decodable {
      var token: String
      var role: String?
      var tenant: String?
    }
    struct File: Decodable { var tokens: [Entry] }
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    var tokens: [String: Principal] = [:]
    for entry in try JSONDecoder().decode(File.self, from: data).tokens {
      switch (entry.role, entry.tenant) {
      case ("provider-admin", nil): tokens[entry.token] = .providerAdmin
      case (nil, .some(let tenant)) where ResourceName.isValidID(tenant):
        tokens[entry.token] = .tenant(tenant)
      default:
        throw APIError(
          .invalidArgument,
          "token file \(path): each entry needs \"role\": \"provider-admin\" or a valid \"tenant\" id")
      }
    }
    principals = tokens
  }

  /// The principal of a call, from its `authorization: Bearer …` metadata.
  public func principal(for metadata: Metadata) throws -> Principal {
    guard let header = metadata[stringValues: "authorization"].first(where: { _ in true }) else {
      throw APIError(
        .unauthenticated, "no authorization metadata; pass a token (dpuctl --token or BULKHEAD_TOKEN)")
    }
    let prefix = "Bearer "
    guard header.hasPrefix(prefix) else {
      throw APIError(.unauthenticated, "authorization is not 'Bearer <token>'; send the token in that form")
    }
    let token = String(header.dropFirst(prefix.count))
    // Compare against every token without stopping early, so timing does
    // not reveal how much of a guess matched.
    var found: Principal?
    for (candidate, principal) in principals where Self.constantTimeEqual(candidate, token) {
      found = principal
    }
    guard let found else {
      throw APIError(
        .unauthenticated, "the token is not known to this controller; check --token or BULKHEAD_TOKEN")
    }
    return found
  }

  private static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8)
    let y = Array(b.utf8)
    var difference = UInt8(x.count == y.count ? 0 : 1)
    for index in 0..<max(x.count, y.count) {
      difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
    }
    return difference == 0
  }
}

extension APIError {
  var rpcError: RPCError {
    let code: RPCError.Code
    switch self.code {
    case .invalidArgument: code = .invalidArgument
    case .notFound: code = .notFound
    case .alreadyExists: code = .alreadyExists
    case .failedPrecondition: code = .failedPrecondition
    case .permissionDenied: code = .permissionDenied
    case .unauthenticated: code = .unauthenticated
    case .resourceExhausted: code = .resourceExhausted
    case .aborted: code = .aborted
    case .internal: code = .internalError
    }
    return RPCError(code: code, message: message)
  }
}

/// Runs one unary call: authenticates it, then maps our errors to statuses.
func handle<Request, Response>(
  _ request: ServerRequest<Request>, _ authenticator: Authenticator,
  _ body: (Request, Principal) async throws -> Response
) async throws -> ServerResponse<Response> {
  do {
    let principal = try authenticator.principal(for: request.metadata)
    return ServerResponse(message: try await body(request.message, principal))
  } catch let error as APIError {
    throw error.rpcError
  } catch let error as RPCError {
    throw error
  } catch {
    throw RPCError(code: .internalError, message: "internal error: \(error)")
  }
}
