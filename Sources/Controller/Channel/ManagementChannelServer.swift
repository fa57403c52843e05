import CardTLS
import Foundation

/// The controller's end of the management channel: listens for cards on a
/// TCP port, and gives each accepted connection its own `CardSession`
/// thread. Mutual TLS 1.3: a card must present a certificate from the
/// provider CA whose name is a registered card (Docs/control-plane.md).
public final class ManagementChannelServer: @unchecked Sendable {
  // @unchecked: `sessions` and `stopped` are guarded by `lock`.
  public let port: UInt16
  public let counters = ChannelCounters()
  private let listener: TCPListener
  private let context: TLSContext
  private let waker: Waker
  private let lock = NSLock()
  private var sessions: [ObjectIdentifier: CardSession] = [:]
  private var stopped = false
  private var acceptThread: Thread?
  private let finished = DispatchSemaphore(value: 0)
  private let handshakeTimeoutMilliseconds: Int32
  private let helloTimeoutMilliseconds: Int32

  public init(
    host: String, port: UInt16, context: TLSContext, handshakeTimeoutMilliseconds: Int32 = 5_000,
    helloTimeoutMilliseconds: Int32 = 5_000
  ) throws(TLSError) {
    precondition(context.role == .server, "the controller's context must be a server context")
    listener = try TCPListener(host: host, port: port)
    self.port = listener.port
    self.context = context
    waker = try Waker()
    self.handshakeTimeoutMilliseconds = handshakeTimeoutMilliseconds
    self.helloTimeoutMilliseconds = helloTimeoutMilliseconds
  }

  /// Starts accepting on a thread of its own; sessions report to `delegate`.
  public func start(delegate: any CardSessionDelegate) {
    let thread = Thread { [self] in
      defer { finished.signal() }
      while true {
        let socket = listener.accept(waker: waker, timeoutMilliseconds: -1)
        lock.lock()
        let isStopped = stopped
        lock.unlock()
        if isStopped {
          if let socket {
            try? TLSConnection(context: context, socket: socket, expectedPeerName: nil).close()
          }
          return
        }
        guard let socket else { continue }
        accept(socket, delegate: delegate)
      }
    }
    thread.name = "management-accept"
    acceptThread = thread
    thread.start()
  }

  private func accept(_ socket: Int32, delegate: any CardSessionDelegate) {
    let session: CardSession
    do throws(TLSError) {
      let connection = try TLSConnection(context: context, socket: socket, expectedPeerName: nil)
      session = try CardSession(
        connection: connection, counters: counters, delegate: delegate,
        helloTimeoutMilliseconds: helloTimeoutMilliseconds)
    } catch {
      ChannelCounters.bump(counters.handshakeFailures)
      return
    }
    let key = ObjectIdentifier(session)
    lock.lock()
    sessions[key] = session
    lock.unlock()
    let timeout = handshakeTimeoutMilliseconds
    let thread = Thread { [self] in
      session.run(handshakeTimeoutMilliseconds: timeout)
      lock.lock()
      sessions[key] = nil
      lock.unlock()
    }
    thread.name = "management-session"
    thread.start()
  }

  /// Stops accepting and closes every session (as a controller shutting
  /// down would); cards keep their state and reconnect to the next one.
  public func stop() {
    lock.lock()
    guard !stopped else {
      lock.unlock()
      return
    }
    stopped = true
    let open = Array(sessions.values)
    lock.unlock()
    waker.signal()
    if acceptThread != nil { finished.wait() }
    listener.close()
    for session in open { session.close() }
  }

  public var openSessionCount: Int {
    lock.lock()
    defer { lock.unlock() }
    return sessions.count
  }
}
