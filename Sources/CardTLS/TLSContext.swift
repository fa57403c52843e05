import CCardChannel

/// Which end of the management channel a context serves.
public enum TLSRole: Sendable {
  /// The controller: accepts cards.
  case server
  /// A card: connects to its controller.
  case client
}

/// Our certificate and key, and the CA a peer's certificate must chain to
/// (mutual TLS 1.3; Docs/control-plane.md, "PKI"). One context serves any
/// number of connections, from any thread (OpenSSL's SSL_CTX is shared
/// read-only once configured).
public final class TLSContext: @unchecked Sendable {
  let raw: OpaquePointer
  public let role: TLSRole

  public init(
    role: TLSRole, certificateAuthorityPath: String, certificatePath: String, privateKeyPath: String
  ) throws(TLSError) {
    var error = [CChar](repeating: 0, count: 256)
    let made = certificateAuthorityPath.withCString { ca in
      certificatePath.withCString { certificate in
        privateKeyPath.withCString { key in
          cch_tls_context_new(
            role == .server ? CCH_ROLE_SERVER : CCH_ROLE_CLIENT, ca, certificate, key, &error, error.count)
        }
      }
    }
    guard let made else { throw .configuration(string(fromCBuffer: error)) }
    raw = made
    self.role = role
  }

  /// A client context without a certificate of its own: the controller
  /// must refuse it (tests of that refusal).
  public init(anonymousClientTrusting certificateAuthorityPath: String) throws(TLSError) {
    var error = [CChar](repeating: 0, count: 256)
    let made = certificateAuthorityPath.withCString { ca in
      cch_tls_context_new(CCH_ROLE_CLIENT, ca, nil, nil, &error, error.count)
    }
    guard let made else { throw .configuration(string(fromCBuffer: error)) }
    raw = made
    role = .client
  }

  deinit { cch_tls_context_free(raw) }
}
