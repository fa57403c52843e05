import CardTLS
import Foundation
import ProviderPKI
import Testing

/// Real TLS 1.3 handshakes over loopback between a server context (the
/// controller's) and client contexts (cards'), with certificates made by
/// the provider CA code.
@Suite struct MutualTLSTests {
  let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cardtls-\(UUID().uuidString)")
  let authority: ProviderCertificateAuthority
  let stranger: ProviderCertificateAuthority

  init() throws {
    authority = ProviderCertificateAuthority(folder: folder.appendingPathComponent("provider"))
    try authority.initialize()
    try authority.issueController()
    try authority.issueCard("c1")
    stranger = ProviderCertificateAuthority(folder: folder.appendingPathComponent("stranger"))
    try stranger.initialize()
    try stranger.issueController()
    try stranger.issueCard("c1")
  }

  func serverContext(_ ca: ProviderCertificateAuthority, trusting trusted: ProviderCertificateAuthority)
    throws
    -> TLSContext
  {
    try TLSContext(
      role: .server, certificateAuthorityPath: trusted.certificatePath,
      certificatePath: ca.controllerIdentity.certificatePath, privateKeyPath: ca.controllerIdentity.keyPath)
  }

  func cardContext(_ identity: IssuedIdentity, trusting trusted: ProviderCertificateAuthority) throws
    -> TLSContext
  {
    try TLSContext(
      role: .client, certificateAuthorityPath: trusted.certificatePath,
      certificatePath: identity.certificatePath,
      privateKeyPath: identity.keyPath)
  }

  /// Accepts one connection, runs the handshake, and answers "pong" to the
  /// client's first bytes. Returns the peer's name or the failure.
  func exchange(
    server: TLSContext, client: TLSContext,
    expectedName: String = ProviderCertificateAuthority.defaultControllerName
  ) throws -> (server: Result<String, TLSError>, client: Result<String, TLSError>) {
    let listener = try TCPListener(host: "127.0.0.1", port: 0)
    let serverSide = ServerOutcome()
    let thread = Thread {
      guard let socket = listener.accept(waker: nil, timeoutMilliseconds: 10_000) else {
        serverSide.finish(.failure(.timedOut))
        return
      }
      do throws(TLSError) {
        let connection = try TLSConnection(context: server, socket: socket, expectedPeerName: nil)
        try connection.handshake(timeoutMilliseconds: 10_000)
        serverSide.finish(.success(connection.peerCommonName ?? "?"))
        var buffer = [UInt8](repeating: 0, count: 64)
        while try connection.read(into: &buffer) == 0 {
          _ = connection.wait(waker: nil, timeoutMilliseconds: 10_000)
        }
        try connection.write(Array("pong".utf8))
        _ = connection.wait(waker: nil, timeoutMilliseconds: 10_000)
        connection.close()
      } catch {
        serverSide.finish(.failure(error))
      }
    }
    thread.start()
    let clientSide: Result<String, TLSError>
    do throws(TLSError) {
      let connection = try TLSConnection.connect(
        host: "127.0.0.1", port: listener.port, context: client, expectedPeerName: expectedName,
        timeoutMilliseconds: 10_000)
      try connection.write(Array("ping".utf8))
      var buffer = [UInt8](repeating: 0, count: 64)
      var count = 0
      // In TLS 1.3 the client finishes its handshake before the server has
      // checked the client's certificate: a refusal arrives as an alert on
      // the first read.
      while count == 0 {
        _ = connection.wait(waker: nil, timeoutMilliseconds: 10_000)
        count = try connection.read(into: &buffer)
      }
      clientSide = .success(String(decoding: buffer[..<count], as: UTF8.self))
      connection.close()
    } catch {
      clientSide = .failure(error)
    }
    return (serverSide.wait(), clientSide)
  }

  @Test func cardFromTheProviderCAIsAccepted() throws {
    let outcome = try exchange(
      server: try serverContext(authority, trusting: authority),
      client: try cardContext(authority.cardIdentity("c1"), trusting: authority))
    #expect(outcome.server == .success("c1"))
    #expect(outcome.client == .success("pong"))
  }

  @Test func cardFromAnotherCAIsRefused() throws {
    let outcome = try exchange(
      server: try serverContext(authority, trusting: authority),
      client: try cardContext(stranger.cardIdentity("c1"), trusting: authority))
    guard case .failure(.handshake(let reason)) = outcome.server else {
      Issue.record("server accepted a card of another CA: \(outcome.server)")
      return
    }
    #expect(reason.contains("unable to get local issuer certificate") || reason.contains("certificate"))
    #expect((try? outcome.client.get()) == nil)
  }

  @Test func expiredCardIsRefused() throws {
    let expired = try authority.issueCard("old", validFrom: .seconds(-3 * 86_400), lifetime: .seconds(86_400))
    let outcome = try exchange(
      server: try serverContext(authority, trusting: authority),
      client: try cardContext(expired, trusting: authority))
    guard case .failure(.handshake(let reason)) = outcome.server else {
      Issue.record("server accepted an expired card: \(outcome.server)")
      return
    }
    #expect(reason.contains("expired"))
    #expect((try? outcome.client.get()) == nil)
  }

  @Test func cardWithoutCertificateIsRefused() throws {
    let outcome = try exchange(
      server: try serverContext(authority, trusting: authority),
      client: try TLSContext(anonymousClientTrusting: authority.certificatePath))
    guard case .failure(.handshake) = outcome.server else {
      Issue.record("server accepted a client without certificate: \(outcome.server)")
      return
    }
    #expect((try? outcome.client.get()) == nil)
  }

  @Test func cardRefusesAControllerOfAnotherCA() throws {
    let outcome = try exchange(
      server: try serverContext(stranger, trusting: authority),
      client: try cardContext(authority.cardIdentity("c1"), trusting: authority))
    guard case .failure(.handshake(let reason)) = outcome.client else {
      Issue.record("card accepted a controller of another CA: \(outcome.client)")
      return
    }
    #expect(reason.contains("certificate"))
  }

  @Test func cardRefusesAControllerWithAnotherName() throws {
    let outcome = try exchange(
      server: try serverContext(authority, trusting: authority),
      client: try cardContext(authority.cardIdentity("c1"), trusting: authority),
      expectedName: "other-controller")
    guard case .failure(.handshake(let reason)) = outcome.client else {
      Issue.record("card accepted a controller with the wrong name: \(outcome.client)")
      return
    }
    #expect(reason.contains("hostname mismatch"))
  }

  @Test func cardCertificateCannotServeAsController() throws {
    // A card's certificate is for clientAuth only (RFC 5280 §4.2.1.12).
    let card = authority.cardIdentity("c1")
    let server = try TLSContext(
      role: .server, certificateAuthorityPath: authority.certificatePath,
      certificatePath: card.certificatePath,
      privateKeyPath: card.keyPath)
    let outcome = try exchange(
      server: server, client: try cardContext(authority.cardIdentity("c1"), trusting: authority),
      expectedName: "c1")
    #expect((try? outcome.client.get()) == nil)
  }
}

/// The server thread's result, awaited by the test.
final class ServerOutcome: @unchecked Sendable {
  // @unchecked: `result` is written once before `done` is signalled.
  private var result: Result<String, TLSError> = .failure(.timedOut)
  private let done = DispatchSemaphore(value: 0)
  private var finished = false

  func finish(_ value: Result<String, TLSError>) {
    guard !finished else { return }
    finished = true
    result = value
    done.signal()
  }

  func wait() -> Result<String, TLSError> {
    _ = done.wait(timeout: .now() + 20)
    return result
  }
}
