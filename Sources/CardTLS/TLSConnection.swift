import CCardChannel

/// One TLS connection of the management channel over a TCP socket it owns.
/// Not for concurrent use: one thread reads and writes it (OpenSSL's SSL
/// objects are not thread-safe); other threads wake that thread with a
/// `Waker`.
public final class TLSConnection: @unchecked Sendable {
  private let raw: OpaquePointer
  private var isClosed = false

  /// Wraps a connected socket; `expectedPeerName` (clients) is the DNS name
  /// the server's certificate must carry.
  public init(context: TLSContext, socket: Int32, expectedPeerName: String?) throws(TLSError) {
    let made: OpaquePointer?
    if let expectedPeerName {
      made = expectedPeerName.withCString { cch_tls_session_new(context.raw, socket, $0) }
    } else {
      made = cch_tls_session_new(context.raw, socket, nil)
    }
    guard let made else {
      cch_close(socket)
      throw .configuration("cannot create a TLS session")
    }
    raw = made
  }

  /// Connects to `host:port` (an IPv4 or IPv6 literal) and authenticates
  /// both ends.
  public static func connect(
    host: String, port: UInt16, context: TLSContext, expectedPeerName: String, timeoutMilliseconds: Int32
  ) throws(TLSError) -> TLSConnection {
    let socket = host.withCString { cch_tcp_connect($0, port, timeoutMilliseconds) }
    guard socket >= 0 else { throw .socket(-socket) }
    let connection = try TLSConnection(context: context, socket: socket, expectedPeerName: expectedPeerName)
    try connection.handshake(timeoutMilliseconds: timeoutMilliseconds)
    return connection
  }

  deinit {
    if !isClosed { cch_tls_session_free(raw) }
  }

  public var fileDescriptor: Int32 { cch_tls_fd(raw) }

  public func handshake(timeoutMilliseconds: Int32) throws(TLSError) {
    var error = [CChar](repeating: 0, count: 256)
    let status = cch_tls_handshake(raw, timeoutMilliseconds, &error, error.count)
    guard status == 0 else {
      if status == CCH_TIMED_OUT { throw .timedOut }
      if status == CCH_TLS_ERROR { throw .handshake(string(fromCBuffer: error)) }
      throw .socket(-status)
    }
  }

  /// The verified peer certificate's common name (a card's name).
  public var peerCommonName: String? {
    var name = [CChar](repeating: 0, count: 256)
    guard cch_tls_peer_common_name(raw, &name, name.count) >= 0 else { return nil }
    return string(fromCBuffer: name)
  }

  /// Reads what is ready into `buffer`'s first bytes: the count, or 0 when
  /// nothing is ready yet.
  public func read(into buffer: inout [UInt8]) throws(TLSError) -> Int {
    let count = buffer.count
    let result = buffer.withUnsafeMutableBufferPointer { cch_tls_read(raw, $0.baseAddress, count) }
    if result > 0 { return Int(result) }
    if result == Int(CCH_WOULD_BLOCK) { return 0 }
    throw .status(Int32(truncatingIfNeeded: result), context: lastError())
  }

  /// Sends all of `bytes` or fails (the peer stopped reading for
  /// `timeoutMilliseconds`, or the connection broke).
  public func write(_ bytes: [UInt8], timeoutMilliseconds: Int32 = 10_000) throws(TLSError) {
    let status = bytes.withUnsafeBufferPointer {
      cch_tls_write(raw, $0.baseAddress, $0.count, timeoutMilliseconds)
    }
    guard status == 0 else { throw .status(status, context: lastError()) }
  }

  /// Waits until bytes can be read or `waker` is signalled, at most
  /// `timeoutMilliseconds` (-1: no limit). Bytes OpenSSL already decrypted
  /// count as readable at once.
  public func wait(waker: Waker?, timeoutMilliseconds: Int32) -> Readiness {
    if cch_tls_pending(raw) > 0 { return Readiness(rawValue: CCH_READY_SOCKET) }
    let ready = cch_wait(fileDescriptor, waker?.fileDescriptor ?? -1, timeoutMilliseconds)
    return ready < 0 ? Readiness(rawValue: CCH_READY_SOCKET) : Readiness(rawValue: ready)
  }

  public func close() {
    guard !isClosed else { return }
    isClosed = true
    cch_tls_session_free(raw)
  }

  private func lastError() -> String {
    var error = [CChar](repeating: 0, count: 256)
    cch_tls_last_error(raw, &error, error.count)
    return string(fromCBuffer: error)
  }
}

/// What a wait found ready. (A failed wait reports the socket as readable,
/// so that the next read surfaces the error.)
public struct Readiness: OptionSet, Sendable {
  public let rawValue: Int32
  public init(rawValue: Int32) { self.rawValue = rawValue }
  public static let socket = Readiness(rawValue: CCH_READY_SOCKET)
  public static let waker = Readiness(rawValue: CCH_READY_WAKER)
}
