import Platform
import VhostUser

/// The vhost-user back-end's event loop: one epoll instance serving any
/// number of socket paths (endpoints), one front-end on each.
///
/// Notifications: a ring sleeps in epoll on its kick eventfd. When a kick
/// finds work, the ring's notifications are turned off and it is polled on
/// every loop turn; after `idlePollsBeforeSleep` empty polls in a row they
/// are turned back on (and the ring checked once more, virtio 1.2 §2.7.10's
/// race) and the ring sleeps again. So a busy ring costs no eventfd round
/// trips and an idle back-end no CPU.
public final class VhostUserServer<Device: VhostUserDevice> {
  /// Endpoint slots, by the index in their epoll tokens; a removed
  /// endpoint leaves its slot empty until the next `addEndpoint` fills it.
  private var slots: [Endpoint<Device>?] = []
  /// The endpoints in service.
  public var endpoints: [Endpoint<Device>] { slots.compactMap { $0 } }
  let epoll: Epoll
  /// Empty polls in a row before a ring goes back to sleep.
  public var idlePollsBeforeSleep = 256
  /// Lines for the log (connects, refusals, disconnects).
  public var log: (String) -> Void = { print($0) }

  /// Where messages are received (one message at most) and the
  /// descriptors that come with them (a memory table's eight at most).
  private let receiveBuffer: UnsafeMutableRawBufferPointer
  private let receivedFDs: UnsafeMutableBufferPointer<Int32>

  public init() throws(SystemError) {
    try ProcessSignals.ignoreBrokenPipe()
    epoll = try Epoll()
    receiveBuffer = .allocate(
      byteCount: MessageHeader.size + Int(MessageHeader.maximumPayload), alignment: 8)
    receivedFDs = .allocate(capacity: VhostUserMessage.maximumTableRegions)
  }

  deinit {
    receiveBuffer.deallocate()
    receivedFDs.deallocate()
    try? epoll.close()
  }

  /// Readable whenever the server has something to do (a connection, a
  /// message, a kick): a run loop that serves other ports too sleeps on it
  /// and calls `runOnce(timeoutMilliseconds: 0)` when it wakes.
  public var waitDescriptor: FileDescriptor { epoll.fd }

  /// True while some ring is being polled with its notifications off: the
  /// guest will not kick it, so a loop that drives the server must not
  /// sleep yet.
  public var isPolling: Bool { slots.contains { $0?.polled.contains(true) ?? false } }

  /// Signals the call eventfds of `queues` (a bit set) on endpoint
  /// `index`: for a device whose queues are served outside `runOnce` (a
  /// network device driven by the card's run loop).
  public func notify(endpoint index: Int, queues: UInt64) {
    guard let endpoint = endpoint(at: index) else { return }
    interrupt(endpoint, queues)
  }

  /// The endpoint in slot `index`, if it is in service.
  public func endpoint(at index: Int) -> Endpoint<Device>? {
    index >= 0 && index < slots.count ? slots[index] : nil
  }

  /// Listens on `path` (replacing a stale socket file) for one front-end.
  @discardableResult
  public func addEndpoint(path: String, device: Device, options: SessionOptions = SessionOptions())
    throws(SystemError) -> Int
  {
    let endpoint = try Endpoint(path: path, device: device, options: options)
    let index = slots.firstIndex { $0 == nil } ?? slots.count
    do {
      try epoll.add(endpoint.listener, events: .readable, token: EventToken.listener(index).raw)
    } catch {
      try? endpoint.listener.close()
      UnixSocket.unlink(path: path)
      throw error
    }
    if index == slots.count { slots.append(endpoint) } else { slots[index] = endpoint }
    return index
  }

  /// Stops serving endpoint `index` (a volume detached): its front-end is
  /// disconnected, its listener closed and its socket file removed. Other
  /// endpoints keep their slots, so their epoll tokens stay valid.
  public func removeEndpoint(at index: Int) {
    guard let endpoint = endpoint(at: index) else { return }
    close(endpoint)
    endpoint.releaseRecord(removingFile: true)
    slots[index] = nil
  }

  /// Tells the front-end of endpoint `index` that the device's config
  /// space changed (VHOST_USER_BACKEND_CONFIG_CHANGE_MSG on its back-end
  /// channel). Never blocks: the channel is non-blocking, and one that is
  /// full, closed or broken is dropped (counted, logged) and the front-end
  /// finds the change on its next GET_CONFIG. False if nothing was sent.
  @discardableResult
  public func announceConfigurationChange(endpoint index: Int) -> Bool {
    guard let endpoint = endpoint(at: index), endpoint.isConnected,
      let fd = endpoint.session.backendChannelFD
    else { return false }
    let message = BackendRequest.configChange.encoded
    let sent = message.withUnsafeBytes { b in
      try? UnixSocket.send(FileDescriptor(rawValue: fd), b, fds: UnsafeBufferPointer(start: nil, count: 0))
    }
    guard sent == message.count else {
      endpoint.session.closeBackendChannel()
      endpoint.totals.backendChannelFailures += 1
      log("vhost-user " + endpoint.path + ": back-end channel broken; closed")
      return false
    }
    endpoint.totals.configChangesAnnounced += 1
    return true
  }

  /// Runs until `shouldStop` says so (checked every turn; an idle loop wakes
  /// at least every `wakeMilliseconds`).
  public func run(wakeMilliseconds: Int32 = 1000, shouldStop: () -> Bool) throws(SystemError) {
    while !shouldStop() { try runOnce(timeoutMilliseconds: wakeMilliseconds) }
  }

  /// One loop turn: wait for events (not at all if a ring is polled),
  /// handle them, then poll the rings that are busy.
  public func runOnce(timeoutMilliseconds: Int32) throws(SystemError) {
    let anyPolled = isPolling
    var ready: [EventToken] = []
    _ = try epoll.wait(timeoutMilliseconds: anyPolled ? 0 : timeoutMilliseconds) { event in
      ready.append(EventToken(raw: event.token))
    }
    for token in ready { handle(token) }
    for endpoint in slots { if let endpoint { pollBusyRings(endpoint) } }
  }

  private func handle(_ token: EventToken) {
    guard let endpoint = endpoint(at: token.endpoint) else { return }
    switch token.kind {
    case .listener: accept(endpoint, index: token.endpoint)
    case .connection: readMessages(endpoint, index: token.endpoint)
    case .kick:
      guard let fd = endpoint.session.kickFD(queue: token.queue) else { return }
      _ = try? EventNotifier(adopting: FileDescriptor(rawValue: fd)).drain()
      service(endpoint, queue: token.queue)
    }
  }

  private func accept(_ endpoint: Endpoint<Device>, index: Int) {
    while let client = try? UnixSocket.accept(endpoint.listener) {
      if endpoint.isConnected {
        // The served front-end may have hung up with its hang-up not yet
        // handled (a reconnecting front-end is quick): look first.
        readMessages(endpoint, index: index)
      }
      if endpoint.isConnected {
        // One front-end per socket; a second one is turned away.
        try? client.close()
        endpoint.totals.turnedAway += 1
        log("vhost-user " + endpoint.path + ": second front-end turned away")
        continue
      }
      do throws(SystemError) {
        try client.setNonblocking()
        try epoll.add(client, events: [.readable, .peerClosed], token: EventToken.connection(index).raw)
      } catch {
        try? client.close()
        continue
      }
      endpoint.connection = client
      endpoint.framer = MessageFramer()
      endpoint.noteConnected()
      log("vhost-user " + endpoint.path + ": front-end connected")
    }
  }

  /// Reads what the front-end sent, one message at a time (exact lengths,
  /// so descriptors are never mixed across messages), and answers.
  private func readMessages(_ endpoint: Endpoint<Device>, index: Int) {
    guard let socket = endpoint.connection else { return }
    while endpoint.connection != nil {
      let wanted = min(endpoint.framer.wanted, receiveBuffer.count)
      let received: UnixSocket.Received
      do throws(SystemError) {
        received = try UnixSocket.receive(
          socket, into: UnsafeMutableRawBufferPointer(rebasing: receiveBuffer[0..<wanted]), fds: receivedFDs)
      } catch {
        if error.isWouldBlock { break }
        disconnect(endpoint, reason: error.description, refused: false)
        return
      }
      if received.byteCount == 0 {
        for i in 0..<received.fdCount { try? FileDescriptor(rawValue: receivedFDs[i]).close() }
        disconnect(endpoint, reason: "front-end closed the connection", refused: false)
        return
      }
      endpoint.framer.append(
        Array(UnsafeRawBufferPointer(rebasing: receiveBuffer[0..<received.byteCount]))[...],
        fds: Array(receivedFDs[0..<received.fdCount])[...], droppedFDs: received.droppedFDCount)
      drainFrames(endpoint, socket: socket)
    }
    syncKicks(endpoint, index: index)
  }

  private func drainFrames(_ endpoint: Endpoint<Device>, socket: FileDescriptor) {
    while endpoint.connection != nil {
      let frame: MessageFramer.Frame
      do throws(VhostUserError) {
        guard let next = try endpoint.framer.next() else { return }
        frame = next
      } catch {
        disconnect(endpoint, reason: error.description, refused: true)
        return
      }
      let before = endpoint.session.counters
      let channel = endpoint.session.backendChannelFD
      let outcome = endpoint.session.handle(frame)
      let after = endpoint.session.counters
      if let fd = endpoint.session.backendChannelFD, fd != channel {
        // Sends on it must never block the loop (a front-end that stops
        // reading it): a failed send drops the channel instead.
        if (try? FileDescriptor(rawValue: fd).setNonblocking()) == nil {
          endpoint.session.closeBackendChannel()
        }
      }
      if after.refused != before.refused, let error = after.lastError {
        log("vhost-user " + endpoint.path + ": refused: " + error.description)
      }
      if after.ringsStarted != before.ringsStarted {
        let resumed = after.ringsResumedFromUsedIndex != before.ringsResumedFromUsedIndex
        let fromRecord = after.ringsResumedFromRecord != before.ringsResumedFromRecord
        log(
          "vhost-user " + endpoint.path + ": ring started"
            + (resumed
              ? " (resumed from the used index)" : fromRecord ? " (packed, resumed from the record)" : "")
        )
        // A ring may start broken (a packed start its ring contradicts):
        // say so now, before a GET_VRING_BASE right behind stops it.
        for q in endpoint.session.rings.indices where endpoint.session.rings[q].isRunning {
          reportIfBroken(endpoint, queue: q)
        }
      }
      if after.resumeRecordsRejected != before.resumeRecordsRejected {
        log("vhost-user " + endpoint.path + ": resume record entry contradicts the ring: ignored")
      }
      switch outcome {
      case .none: break
      case .reply(let reply):
        let sent = reply.withUnsafeBytes { b in
          try? UnixSocket.send(socket, b, fds: UnsafeBufferPointer(start: nil, count: 0))
        }
        if sent != reply.count {
          disconnect(endpoint, reason: "reply could not be sent", refused: false)
          return
        }
      case .disconnect(let error):
        disconnect(endpoint, reason: error.description, refused: true)
        return
      }
    }
  }

  /// Registers the rings' current kick descriptors with epoll. Re-adds all
  /// of them: a replaced descriptor may have been given the same number,
  /// and closing the old one removed its registration.
  private func syncKicks(_ endpoint: Endpoint<Device>, index: Int) {
    for q in endpoint.registeredKicks.indices {
      if let old = endpoint.registeredKicks[q] { epoll.remove(FileDescriptor(rawValue: old)) }
      endpoint.registeredKicks[q] = nil
      guard let fd = endpoint.session.kickFD(queue: q) else { continue }
      if (try? epoll.add(
        FileDescriptor(rawValue: fd), events: .readable, token: EventToken.kick(index, q).raw))
        != nil
      {
        endpoint.registeredKicks[q] = fd
      }
      // A kick may have come before the ring started: look once.
      if endpoint.session.rings[q].isRunning { service(endpoint, queue: q) }
    }
    for q in endpoint.polled.indices where !endpoint.session.rings[q].isRunning {
      endpoint.polled[q] = false
      endpoint.reportedBroken[q] = false
    }
  }

  private func service(_ endpoint: Endpoint<Device>, queue q: Int) {
    guard endpoint.session.rings.indices.contains(q), endpoint.session.rings[q].isRunning else { return }
    let activity = endpoint.session.withDevice { $0.service(queue: q) }
    interrupt(endpoint, activity.interrupts)
    reportIfBroken(endpoint, queue: q)
    if activity.didWork && !endpoint.polled[q] {
      _ = endpoint.session.withDevice { $0.setNotifications(queue: q, enabled: false) }
      endpoint.polled[q] = true
      endpoint.idlePolls[q] = 0
    }
  }

  /// Logs once per start that ring `q` broke (the queue's counters have
  /// the kind; the device reports NEEDS_RESET).
  private func reportIfBroken(_ endpoint: Endpoint<Device>, queue q: Int) {
    guard !endpoint.reportedBroken[q], let reason = endpoint.session.device.brokenReason(queue: q) else {
      return
    }
    endpoint.reportedBroken[q] = true
    log("vhost-user " + endpoint.path + ": ring " + String(q) + " broken (needs reset): " + reason)
  }

  private func pollBusyRings(_ endpoint: Endpoint<Device>) {
    for q in endpoint.polled.indices where endpoint.polled[q] {
      guard endpoint.session.rings[q].isRunning else {
        endpoint.polled[q] = false
        continue
      }
      let activity = endpoint.session.withDevice { $0.service(queue: q) }
      interrupt(endpoint, activity.interrupts)
      reportIfBroken(endpoint, queue: q)
      if activity.didWork {
        endpoint.idlePolls[q] = 0
        continue
      }
      endpoint.idlePolls[q] += 1
      if endpoint.idlePolls[q] >= idlePollsBeforeSleep {
        let pending = endpoint.session.withDevice { $0.setNotifications(queue: q, enabled: true) }
        if pending {
          endpoint.idlePolls[q] = 0
          _ = endpoint.session.withDevice { $0.setNotifications(queue: q, enabled: false) }
        } else {
          endpoint.polled[q] = false
        }
      }
    }
  }

  /// Signals the call eventfd of each ring in `rings` (a bit set).
  private func interrupt(_ endpoint: Endpoint<Device>, _ rings: UInt64) {
    var pending = rings
    while pending != 0 {
      let q = pending.trailingZeroBitCount
      pending &= pending - 1
      guard let fd = endpoint.session.callFD(queue: q) else { continue }
      try? EventNotifier(adopting: FileDescriptor(rawValue: fd)).signal()
    }
  }

  /// Ends the front-end's connection: this endpoint's rings stop, its
  /// memory is unmapped, and it listens for the next front-end (QEMU's
  /// reconnect). No other endpoint is touched.
  private func disconnect(_ endpoint: Endpoint<Device>, reason: String, refused: Bool) {
    guard let socket = endpoint.connection else { return }
    epoll.remove(socket)
    try? socket.close()
    for fd in endpoint.framer.takePendingFDs() { try? FileDescriptor(rawValue: fd).close() }
    for q in endpoint.registeredKicks.indices {
      if let fd = endpoint.registeredKicks[q] { epoll.remove(FileDescriptor(rawValue: fd)) }
      endpoint.registeredKicks[q] = nil
      endpoint.polled[q] = false
      endpoint.reportedBroken[q] = false
    }
    endpoint.connection = nil
    endpoint.noteDisconnected(refused: refused)
    let counters = endpoint.session.counters
    endpoint.session.close()
    log(
      "vhost-user " + endpoint.path + ": front-end disconnected: " + reason + " (" + String(counters.messages)
        + " messages, " + String(counters.refused) + " refused, " + String(counters.ringsResumedFromRecord)
        + " packed rings resumed from the record, " + String(counters.resumeRecordsRejected)
        + " record entries rejected)")
  }

  /// Closes every connection and listener and removes the socket files.
  /// The packed rings' resume records stay: QEMU cannot tell the next
  /// back-end where those rings were.
  public func shutdown() {
    for endpoint in slots {
      if let endpoint {
        close(endpoint)
        endpoint.releaseRecord(removingFile: false)
      }
    }
    slots.removeAll()
  }

  private func close(_ endpoint: Endpoint<Device>) {
    disconnect(endpoint, reason: "back-end shutting down", refused: false)
    epoll.remove(endpoint.listener)
    try? endpoint.listener.close()
    UnixSocket.unlink(path: endpoint.path)
  }
}
