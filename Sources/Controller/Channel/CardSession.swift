import CardTLS
import Foundation
import Management

/// Hears what the card sessions learn; the reconciler implements it. Called
/// on the sessions' threads, so implementations must be quick and
/// thread-safe.
public protocol CardSessionDelegate: AnyObject, Sendable {
  /// Whether a certificate's name is a registered card.
  func isRegistered(card: String) -> Bool
  func sessionOpened(_ session: CardSession, hello: Hello)
  func session(_ session: CardSession, received message: ManagementMessage)
  func sessionClosed(_ session: CardSession)
}

/// One card's connection on the controller: its own thread runs the
/// handshake, checks the card's identity, then reads frames and writes what
/// the reconciler queued (one thread per connection, because an OpenSSL
/// connection must not be used from two threads at once).
public final class CardSession: @unchecked Sendable {
  // @unchecked: `outbound` and `closing` are guarded by `lock`; the
  // connection is used only by the session's thread.
  public private(set) var cardName = ""
  private let connection: TLSConnection
  private let waker: Waker
  private let lock = NSLock()
  private var outbound: [[UInt8]] = []
  private var closing = false
  private let counters: ChannelCounters
  private weak var delegate: (any CardSessionDelegate)?
  private let helloTimeoutMilliseconds: Int32

  init(
    connection: TLSConnection, counters: ChannelCounters, delegate: any CardSessionDelegate,
    helloTimeoutMilliseconds: Int32
  ) throws(TLSError) {
    self.connection = connection
    self.counters = counters
    self.delegate = delegate
    self.helloTimeoutMilliseconds = helloTimeoutMilliseconds
    waker = try Waker()
  }

  /// Queues a frame for the card; returns at once.
  public func send(_ frame: [UInt8]) {
    lock.lock()
    outbound.append(frame)
    lock.unlock()
    waker.signal()
  }

  /// Ends the session from another thread.
  public func close() {
    lock.lock()
    closing = true
    lock.unlock()
    waker.signal()
  }

  /// The session's thread body: handshake, identity, then serve.
  func run(handshakeTimeoutMilliseconds: Int32) {
    defer {
      connection.close()
      ChannelCounters.bump(counters.sessionsClosed)
    }
    do throws(TLSError) {
      try connection.handshake(timeoutMilliseconds: handshakeTimeoutMilliseconds)
    } catch {
      ChannelCounters.bump(counters.handshakeFailures)
      return
    }
    guard let delegate, let name = connection.peerCommonName else { return }
    guard delegate.isRegistered(card: name) else {
      // A certificate from our CA for a card that is not (or no longer)
      // registered: deregistering a card revokes its access.
      ChannelCounters.bump(counters.unknownCards)
      refuse(
        .unauthorized, "card '\(name)' is not registered; register it with `dpuctl cards register \(name)`")
      return
    }
    cardName = name
    var decoder = FrameStreamDecoder()
    var buffer = [UInt8](repeating: 0, count: 16 * 1024)
    do throws(TLSError) {
      guard case .hello(let hello)? = try firstMessage(&decoder, &buffer), hello.cardID == name else {
        ChannelCounters.bump(counters.identityMismatches)
        refuse(
          .unauthorized, "the first frame must be a Hello whose card id is the certificate's name '\(name)'")
        return
      }
      ChannelCounters.bump(counters.sessionsOpened)
      delegate.sessionOpened(self, hello: hello)
      defer { delegate.sessionClosed(self) }
      while true {
        try flush()
        let ready = connection.wait(waker: waker, timeoutMilliseconds: -1)
        if ready.contains(.waker) { waker.drain() }
        if isClosing { return }
        guard ready.contains(.socket) else { continue }
        while true {
          let count = try connection.read(into: &buffer)
          if count == 0 { break }
          decoder.append(buffer[..<count])
          while let message = try next(&decoder) {
            if case .desiredState = message {
              ChannelCounters.bump(counters.unexpectedMessages)
              continue
            }
            if case .error = message { ChannelCounters.bump(counters.errorReports) }
            delegate.session(self, received: message)
          }
        }
      }
    } catch {
      return
    }
  }

  private var isClosing: Bool {
    lock.lock()
    defer { lock.unlock() }
    return closing
  }

  /// Waits for the card's first frame, at most the Hello timeout.
  private func firstMessage(_ decoder: inout FrameStreamDecoder, _ buffer: inout [UInt8]) throws(TLSError)
    -> ManagementMessage?
  {
    let deadline = MonotonicClock.milliseconds() + UInt64(helloTimeoutMilliseconds)
    while true {
      if let message = try next(&decoder) { return message }
      let now = MonotonicClock.milliseconds()
      guard now < deadline else { return nil }
      _ = connection.wait(waker: waker, timeoutMilliseconds: Int32(deadline - now))
      if isClosing { return nil }
      let count = try connection.read(into: &buffer)
      decoder.append(buffer[..<count])
    }
  }

  /// A frame that does not decode closes the session (the stream is out of
  /// step); it is counted and the card is told why.
  private func next(_ decoder: inout FrameStreamDecoder) throws(TLSError) -> ManagementMessage? {
    do throws(ManagementError) {
      return try decoder.nextMessage()
    } catch {
      ChannelCounters.bump(counters.rejectedFrames)
      refuse(.malformedFrame, error.description)
      throw .failure("malformed frame from card '\(cardName)': \(error)")
    }
  }

  private func flush() throws(TLSError) {
    lock.lock()
    let frames = outbound
    outbound.removeAll()
    lock.unlock()
    for frame in frames { try connection.write(frame) }
  }

  private func refuse(_ code: ErrorReport.Code, _ message: String) {
    if let frame = try? ManagementMessage.error(ErrorReport(code: code, message: message)).encodeFrame() {
      try? connection.write(frame, timeoutMilliseconds: 1_000)
    }
  }
}
