import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import ProviderAPI

/// Where the controller listens: `unix:/path/to.sock` or `HOST:PORT`.
public struct ControllerAddress: Sendable, Equatable, CustomStringConvertible {
  public enum Kind: Sendable, Equatable {
    case unixSocket(path: String)
    case tcp(host: String, port: Int)
  }

  public var kind: Kind

  public static let defaultText = "127.0.0.1:50051"

  public init?(_ text: String) {
    if text.hasPrefix("unix:") {
      let path = String(text.dropFirst(5))
      guard !path.isEmpty else { return nil }
      kind = .unixSocket(path: path)
    } else {
      guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
        (1...65535).contains(port), colon != text.startIndex
      else { return nil }
      kind = .tcp(host: String(text[..<colon]), port: port)
    }
  }

  var target: any ResolvableTarget {
    switch kind {
    case .unixSocket(let path): return .unixDomainSocket(path: path)
    case .tcp(let host, let port): return .dns(host: host, port: port)
    }
  }

  public var description: String {
    switch kind {
    case .unixSocket(let path): return "unix:\(path)"
    case .tcp(let host, let port): return "\(host):\(port)"
    }
  }
}

/// A connection to the provider API with the caller's token, a deadline on
/// every call, retries for calls that are safe to repeat, and a circuit
/// breaker.
public struct ProviderClient: Sendable {
  public typealias Transport = HTTP2ClientTransport.Posix
  public let cards: Bulkhead_V1_Cards.Client<Transport>
  public let tenants: Bulkhead_V1_Tenants.Client<Transport>
  public let vpcs: Bulkhead_V1_Vpcs.Client<Transport>
  public let subnets: Bulkhead_V1_Subnets.Client<Transport>
  public let nics: Bulkhead_V1_Nics.Client<Transport>
  public let securityGroups: Bulkhead_V1_SecurityGroups.Client<Transport>
  public let routeTables: Bulkhead_V1_RouteTables.Client<Transport>
  public let volumes: Bulkhead_V1_Volumes.Client<Transport>
  public let ipsecTunnels: Bulkhead_V1_IpsecTunnels.Client<Transport>
  public let guestAttachments: Bulkhead_V1_GuestAttachments.Client<Transport>

  let metadata: Metadata
  let options: CallOptions
  let caller: ResilientCaller<SystemRandomNumberGenerator>

  init(grpc: GRPCClient<Transport>, token: String, timeout: Duration, policy: RetryPolicy) {
    cards = .init(wrapping: grpc)
    tenants = .init(wrapping: grpc)
    vpcs = .init(wrapping: grpc)
    subnets = .init(wrapping: grpc)
    nics = .init(wrapping: grpc)
    securityGroups = .init(wrapping: grpc)
    routeTables = .init(wrapping: grpc)
    volumes = .init(wrapping: grpc)
    ipsecTunnels = .init(wrapping: grpc)
    guestAttachments = .init(wrapping: grpc)
    metadata = ["authorization": "Bearer \(token)"]
    var options = CallOptions.defaults
    options.timeout = timeout
    // Fail fast with UNAVAILABLE when nothing listens, rather than waiting
    // out the deadline; the retry policy decides about another try.
    options.waitForReady = false
    self.options = options
    let clock = ContinuousClock()
    let origin = clock.now
    caller = ResilientCaller(
      policy: policy, breaker: CircuitBreaker(failureThreshold: 3, openDuration: .seconds(5)),
      random: SystemRandomNumberGenerator(), now: { clock.now - origin },
      sleep: { try await Task.sleep(for: $0) })
  }

  /// Runs one RPC, passing it the token metadata and call options.
  public func call<Result: Sendable>(
    _ safety: CallSafety, _ body: @Sendable (Metadata, CallOptions) async throws -> Result
  ) async throws -> Result {
    let metadata = metadata
    let options = options
    return try await caller.call(safety: safety) { try await body(metadata, options) }
  }
}

/// Connects to the controller at `address`, runs `body`, and closes.
public func withProviderClient<Result: Sendable>(
  address: ControllerAddress, token: String, timeout: Duration = .seconds(10),
  policy: RetryPolicy = RetryPolicy(),
  _ body: (ProviderClient) async throws -> Result
) async throws -> Result {
  try await withGRPCClient(transport: .http2NIOPosix(target: address.target, transportSecurity: .plaintext)) {
    grpc in
    try await body(ProviderClient(grpc: grpc, token: token, timeout: timeout, policy: policy))
  }
}
