import DataPlane
import Platform
import Ports

/// One core's run-to-completion loop: poll every port for a burst, run it
/// through the processor (the data plane), hand each forwarded buffer to
/// its output port, give the rest back to the pool. It busy-polls while
/// frames flow and sleeps in epoll once the ports have been idle for
/// `idleNanoseconds`, so an idle card does not burn a core; while a port
/// cannot wake it (ring, DPDK) each sleep ends after
/// `pollingSleepMilliseconds` for one pass over the ports.
///
/// Generic over the port and processor types: the per-packet path has no
/// existential, closure or allocation. Single-threaded: the pool, the
/// ports and the data plane belong to this loop.
public final class RunLoop<Port: PacketPort, Processor: BatchProcessor> {
  public let ports: [Port]
  public let pool: PacketPool
  public let processor: Processor
  /// Busy-poll this long after the last frame before sleeping.
  public var idleNanoseconds: UInt64 = 200_000
  /// The sleep's timeout when some port cannot wake the loop (ring and DPDK
  /// ports): an idle card polls them 1000 times a second, not continuously.
  public var pollingSleepMilliseconds: Int32 = 1
  // The loop's own state is touched only by the loop's thread and never
  // through overlapping accesses, so the dynamic exclusivity checks of a
  // class's stored properties (a runtime call per access, about 40 % of a
  // burst's cost in bench-card) are turned off for it.
  @exclusivity(unchecked) @usableFromInline var loopStatistics = RunLoopStatistics()
  public var statistics: RunLoopStatistics { loopStatistics }
  /// Output port number -> index in `ports`, -1 for none.
  @usableFromInline let portIndex: [Int]
  @exclusivity(unchecked) @usableFromInline var batch = PacketBatch()
  @exclusivity(unchecked) @usableFromInline var outputs: [PacketBatch]
  var isStopping = false
  /// Served by `run` once per pass beside the ports (volumes).
  public var services: [any LoopService] = []

  public init(ports: [Port], pool: PacketPool, processor: Processor) {
    var index = [Int](repeating: -1, count: 256)
    for (i, port) in ports.enumerated() {
      precondition(Int(port.number) < index.count && index[Int(port.number)] == -1, "port numbers are unique")
      index[Int(port.number)] = i
    }
    self.ports = ports
    self.pool = pool
    self.processor = processor
    portIndex = index
    outputs = ports.map { _ in PacketBatch() }
  }

  /// One pass over every port; returns how many frames were received.
  /// Per burst: each port's batch is processed and sent before the next
  /// port is read, so a buffer never waits behind another port's burst.
  /// Inlinable so that the firmware's loop is specialised for its port
  /// and processor types: unspecialised generic code costs a witness-table
  /// call per port and batch access.
  @inlinable @discardableResult
  public func pollOnce(now: UInt64) -> Int {
    var received = 0
    for i in 0..<ports.count {
      batch.removeAll()
      let n = ports[i].receive(into: &batch, pool: pool)
      guard n > 0 else { continue }
      received += n
      processor.process(&batch, now: now)
      dispatch()
      for o in 0..<outputs.count where outputs[o].count > 0 {
        ports[o].transmit(&outputs[o], pool: pool)
      }
    }
    loopStatistics.passes &+= 1
    loopStatistics.packets &+= UInt64(received)
    return received
  }

  /// Per packet: moves each buffer of `batch` to its output's batch (sent
  /// when full) or back to the pool.
  @inlinable
  func dispatch() {
    for i in 0..<batch.count {
      let buffer = batch[i]
      guard buffer.verdict == .forward else {
        pool.give(buffer)
        continue
      }
      let o = portIndex[Int(buffer.outputPort & 0xFF)]
      guard o >= 0, buffer.outputPort < 256 else {
        loopStatistics.unknownOutputPort &+= 1
        pool.give(buffer)
        continue
      }
      if outputs[o].isFull { ports[o].transmit(&outputs[o], pool: pool) }
      outputs[o].append(buffer)
    }
    batch.removeAll()
  }

  /// Runs until `signals` asks to stop (or `stop()` is called from
  /// `onReport`). `onReport` runs on SIGUSR1, between bursts.
  /// `onControl` runs between bursts when `controlDescriptor` (the
  /// controller link's handoff) wakes the loop, after every wake, before
  /// every sleep and every 1024 busy passes; it must be cheap when there is
  /// nothing to do. `onReload` runs on
  /// SIGHUP, between bursts.
  public func run(
    signals: SignalWatch?, controlDescriptor: Int32? = nil, onControl: () -> Void = {},
    onReload: () -> Void = {}, onReport: () -> Void
  ) throws(SystemError) {
    let epoll = try Epoll()
    defer { _ = try? epoll.close() }
    var everyPortWakes = true
    for (i, port) in ports.enumerated() {
      if let fd = port.wakeDescriptor {
        try epoll.add(fd, events: .readable, token: UInt64(i))
      } else {
        everyPortWakes = false
      }
    }
    let signalToken = UInt64.max
    if let signals { try epoll.add(signals.descriptor, events: .readable, token: signalToken) }
    if let controlDescriptor {
      try epoll.add(FileDescriptor(rawValue: controlDescriptor), events: .readable, token: signalToken - 1)
    }
    for (i, service) in services.enumerated() {
      guard let fd = service.wakeDescriptor else {
        everyPortWakes = false
        continue
      }
      try epoll.add(fd, events: .readable, token: signalToken - 2 - UInt64(i))
    }
    var lastActivity = MonotonicClock.nanoseconds
    isStopping = false
    while !isStopping {
      let now = MonotonicClock.nanoseconds
      for service in services { service.serviceOnce() }
      let moved = pollOnce(now: now)
      // Look at signals now and then without a system call per pass:
      // every 1024 passes, whether busy or spinning before a sleep. A
      // loop that never sleeps (a ring port always has something, or a
      // port refuses to sleep) still stops, reports and reloads.
      if loopStatistics.passes & 1023 == 0 {
        if let signals { handle(signals, onReport, onReload) }
        onControl()
        if isStopping { break }
      }
      if moved > 0 {
        lastActivity = now
        continue
      }
      guard now &- lastActivity >= idleNanoseconds else { continue }
      var pending = false
      for port in ports where port.prepareToSleep() { pending = true }
      for service in services where service.prepareToSleep() { pending = true }
      if pending { continue }
      // Once more before sleeping, so that what the last burst did is
      // published (heartbeat counters) while the card is idle.
      onControl()
      if isStopping { break }
      loopStatistics.sleeps &+= 1
      let woken = try epoll.wait(timeoutMilliseconds: everyPortWakes ? -1 : pollingSleepMilliseconds) { _ in }
      if let signals { handle(signals, onReport, onReload) }
      onControl()
      // A descriptor's wake busy-polls again for `idleNanoseconds`. A
      // timeout (a polled port may have frames) gets one pass, and if that
      // finds nothing the loop sleeps again at once: an idle card with a
      // DPDK or ring port makes a pass a millisecond instead of spinning.
      if woken > 0 { lastActivity = MonotonicClock.nanoseconds }
    }
  }

  public func stop() { isStopping = true }

  func handle(_ signals: SignalWatch, _ onReport: () -> Void, _ onReload: () -> Void) {
    while let request = signals.next() {
      switch request {
      case .stop: isStopping = true
      case .reportCounters: onReport()
      case .reload: onReload()
      }
    }
  }
}

/// The loop's own counters.
public struct RunLoopStatistics: Equatable, Sendable {
  public var passes: UInt64 = 0
  public var packets: UInt64 = 0
  public var sleeps: UInt64 = 0
  /// Forwarded to a port number this loop has no port for.
  public var unknownOutputPort: UInt64 = 0
  public init() {}
}
