import Wire

/// The VPC data plane of one core: the slow path (classification, local
/// services, security groups with connection tracking, routing, mapping)
/// compiles each flow's actions into the flow table, and the fast path runs
/// those actions for every later packet of the flow.
public final class DataPlane {
  /// Port 0 is the uplink to the underlay; 1... are host functions (NICs).
  public static let uplinkPort: UInt16 = 0

  public private(set) var tables: TableSet
  public let flows: FlowTable
  public let connections: ConnectionTable
  public let counters: PortCounters
  public let portCount: Int
  /// Off: every packet takes the slow path (which still compiles and runs
  /// the same action list); for differential tests and the benchmark.
  public var isFlowCacheEnabled: Bool {
    get { batchState.pointee.isFlowCacheEnabled }
    set { batchState.pointee.isFlowCacheEnabled = newValue }
  }
  /// Flow entries idle this long are removed by the sweep.
  public var flowIdleTimeout: UInt64 {
    get { batchState.pointee.flowIdleTimeout }
    set { batchState.pointee.flowIdleTimeout = newValue }
  }
  /// At most this many slots of each table are swept per batch.
  public var sweepBudget: Int {
    get { batchState.pointee.sweepBudget }
    set { batchState.pointee.sweepBudget = newValue }
  }
  /// The sweep goes once round each table per this much time (of `now`):
  /// its cost follows time, not packets, so at tens of Mpps it stays a
  /// fraction of a slot per batch instead of streaming the tables through
  /// the cache (at 64 slots per batch it cost about 40 ns per packet with
  /// a million flows).
  public var sweepPeriod: UInt64 {
    get { batchState.pointee.sweepPeriod }
    set { batchState.pointee.sweepPeriod = newValue }
  }
  /// Fast-path lookups that went past the slots prefetched for them and
  /// finished after the rest of their batch (a diagnostic: a high share
  /// means long probe runs, a table sized too small).
  public var resumedLookups: UInt64 { batchState.pointee.resumedLookups }
  var nextSerial: UInt32 = 1
  /// The switches and sweep bookkeeping `process` reads and writes once
  /// per batch, in memory of their own: a class's stored `var` is checked
  /// for exclusive access at run time on each access the compiler cannot
  /// prove, and those checks cost more per batch than the sweep itself.
  /// Sound: allocated in init, freed in deinit, only this object uses it.
  let batchState: UnsafeMutablePointer<BatchState>
  /// Scratch for the passes over one batch (`processChunk`), made once.
  let lanes: UnsafeMutablePointer<FastLane>
  /// Scratch for pass 2: the lanes whose lookup goes on after the batch's
  /// first round (`lookupPass`), made once.
  let resumedLanes: UnsafeMutablePointer<Int>

  public init(
    configuration: NetworkConfiguration, portCount: Int = 256, flowCapacity: Int = 1 << 16,
    connectionCapacity: Int = 1 << 16
  ) throws(ConfigurationError) {
    self.portCount = portCount
    tables = try TableSet(compiling: configuration, generation: 1, portCount: portCount)
    flows = FlowTable(capacity: flowCapacity)
    connections = ConnectionTable(capacity: connectionCapacity)
    counters = PortCounters(portCount: portCount)
    lanes = UnsafeMutablePointer<FastLane>.allocate(capacity: PacketBatch.capacity)
    lanes.initialize(repeating: .idle, count: PacketBatch.capacity)
    resumedLanes = UnsafeMutablePointer<Int>.allocate(capacity: PacketBatch.capacity)
    resumedLanes.initialize(repeating: 0, count: PacketBatch.capacity)
    batchState = UnsafeMutablePointer<BatchState>.allocate(capacity: 1)
    batchState.initialize(to: BatchState())
    configureMeters()
  }

  deinit {
    lanes.deinitialize(count: PacketBatch.capacity)
    lanes.deallocate()
    resumedLanes.deallocate()
    batchState.deinitialize(count: 1)
    batchState.deallocate()
  }

  /// Replaces the whole configuration. Called between batches (the run
  /// loop is single-threaded), so no packet sees a mix of old and new
  /// tables; cached flows of the old generation become misses. Tracked
  /// connections stay: changing a rule does not cut an open connection
  /// (as with EC2 security groups), but new flows are judged by new rules.
  public func apply(_ configuration: NetworkConfiguration) throws(ConfigurationError) {
    // Generation 0 marks a free flow slot: skip it when the counter wraps.
    let next = tables.generation &+ 1
    tables = try TableSet(compiling: configuration, generation: next == 0 ? 1 : next, portCount: portCount)
    configureMeters()
  }

  private func configureMeters() {
    for port in 0..<portCount {
      let limit = tables.nicsByPort[port]?.nic.rateLimit ?? .unlimited
      for direction in [FlowDirection.egress, .ingress] {
        let m = counters.meter(port: UInt16(port), direction: direction)
        // A burst of 1/10 s of the rate, at least one packet / one frame.
        m.pointee.packets.reconfigure(
          rate: limit.packetsPerSecond, burst: max(limit.packetsPerSecond / 10, 1))
        m.pointee.bits.reconfigure(rate: limit.bitsPerSecond, burst: max(limit.bitsPerSecond / 10, 12_144))
      }
    }
  }

  /// Runs every pending buffer of `batch` through the pipeline; each ends
  /// with verdict `.forward` (and `outputPort`) or `.drop`. `now` is a
  /// monotonic clock in nanoseconds. Per batch.
  public func process(_ batch: inout PacketBatch, now: UInt64) {
    // Read once per batch: the table set (a swap takes effect between
    // batches) and the cache switch.
    let set = tables
    let state = batchState
    let cacheEnabled = state.pointee.isFlowCacheEnabled
    batch.buffers.withUnsafeMutableBufferPointer { buffers in
      var start = 0
      while start < buffers.count {
        let end = min(start + PacketBatch.capacity, buffers.count)
        processChunk(buffers, start..<end, tables: set, cacheEnabled: cacheEnabled, now: now)
        start = end
      }
    }
    let generation = set.generation
    let idle = state.pointee.flowIdleTimeout
    let elapsed = min(state.pointee.lastSweep.map { now > $0 ? now - $0 : 0 } ?? 0, state.pointee.sweepPeriod)
    state.pointee.lastSweep = now
    let flowSlots = sweepSlots(
      capacity: flows.capacity, elapsed: elapsed, credit: &state.pointee.flowSweepCredit)
    let connectionSlots = sweepSlots(
      capacity: connections.capacity, elapsed: elapsed, credit: &state.pointee.connectionSweepCredit)
    if flowSlots > 0 {
      flows.sweep(budget: flowSlots) { $0.generation != generation || now &- $0.lastUsed > idle }
    }
    if connectionSlots > 0 { connections.sweep(budget: connectionSlots) { $0.isExpired(now: now) } }
  }

  /// Slots due for sweeping after `elapsed` ns: `capacity` per
  /// `sweepPeriod`, the remainder carried in `credit` (slot·ns), at most
  /// `sweepBudget`. Per batch.
  func sweepSlots(capacity: Int, elapsed: UInt64, credit: inout UInt64) -> Int {
    let sweepBudget = batchState.pointee.sweepBudget
    let period = max(batchState.pointee.sweepPeriod, 1)
    let gained = UInt64(capacity).multipliedReportingOverflow(by: elapsed)
    let sum = credit.addingReportingOverflow(gained.partialValue)
    credit = gained.overflow || sum.overflow ? UInt64.max : sum.partialValue
    let due = min(credit / period, UInt64(max(sweepBudget, 0)))
    credit -= due * period
    // Credit beyond one batch's budget is dropped, not hoarded.
    let cap = period.multipliedReportingOverflow(by: UInt64(max(sweepBudget, 1)))
    credit = min(credit, cap.overflow ? UInt64.max : cap.partialValue)
    return Int(due)
  }

  /// Per packet, for what the batch's fast passes did not finish: the
  /// frame is parsed in full; a flow-table hit (a shape the fast
  /// classifier leaves to the full parser, or a flow an earlier packet of
  /// the batch has just compiled) runs the cached actions, anything else
  /// takes the slow path.
  func processPacket(_ buffer: inout PacketBuffer, tables set: TableSet, cacheEnabled: Bool, now: UInt64) {
    let parsed: ParsedPacket
    do {
      parsed = try PacketParser.parse(UnsafeRawBufferPointer(buffer.data))
    } catch {
      drop(&buffer, .malformed, port: buffer.inputPort)
      return
    }
    let key = FlowKey(
      parsed, in: buffer.data, inputPort: buffer.inputPort, cardUnderlay: set.cardUnderlay,
      cardMAC: set.cardMAC)
    let summary = PacketSummary(
      tcpFlags: parsed.hasInnerFrame ? parsed.inner.tcpFlags : parsed.outer.tcpFlags,
      innerFrameOffset: parsed.hasInnerFrame ? innerFrameOffset(parsed, buffer.data) : 0)
    if cacheEnabled, let key, !exceedsVPCMTU(buffer, set),
      runCached(key, summary: summary, on: &buffer, tables: set, now: now)
    {
      return
    }
    slowPath(
      &buffer, parsed: parsed, key: key, summary: summary, tables: set, cacheEnabled: cacheEnabled, now: now)
  }

  /// Runs the cached actions of `key`; false on a miss, a stale entry or a
  /// punt. Per packet.
  @inline(__always)
  func runCached(
    _ key: FlowKey, summary: PacketSummary, on buffer: inout PacketBuffer, tables set: TableSet, now: UInt64
  )
    -> Bool
  {
    guard let slot = flows.find(key, hash: key.hashValue64) else { return false }
    let entry = flows.entry(at: slot)
    guard entry.pointee.generation == set.generation,
      run(
        entry, connection: firstConnection(of: entry), on: &buffer, tcpFlags: summary.tcpFlags,
        innerFrameOffset: summary.innerFrameOffset,
        tables: set,
        now: now)
    else { return false }
    entry.pointee.lastUsed = now
    entry.pointee.packets &+= 1
    return true
  }

  /// Compiles the packet's actions, caches them when the flow is
  /// cacheable, and runs them.
  func slowPath(
    _ buffer: inout PacketBuffer, parsed: ParsedPacket, key: FlowKey?, summary: PacketSummary,
    tables set: TableSet, cacheEnabled: Bool, now: UInt64
  ) {
    let outcome =
      buffer.inputPort == Self.uplinkPort
      ? ingress(&buffer, parsed: parsed, tables: set, now: now)
      : egress(&buffer, parsed: parsed, tables: set, now: now)
    switch outcome {
    case .handled:
      return
    case .dropped(let reason):
      drop(&buffer, reason, port: buffer.inputPort)
    case .actions(let actions, let cacheable):
      // A cached flow's first packet runs the program just stored, as its
      // later packets will; the list itself runs only when the flow is not
      // cached (the cache off, a non-cacheable decision, or a full run of
      // probes). The differential test (cache off against cache on) thus
      // holds the list executor and the packed program to the same output.
      // A list outside the canonical order would stay on the slow path;
      // the pipeline emits none.
      let done: Bool
      if cacheEnabled, cacheable, let key, let program = ActionProgram(actions),
        let slot = flows.slotForInsert(key, hash: key.hashValue64)
      {
        flows.store(
          FlowEntry(key: key, program: program, generation: set.generation, lastUsed: now), at: slot)
        let entry = flows.entry(at: slot)
        done = run(
          entry, connection: firstConnection(of: entry), on: &buffer, tcpFlags: summary.tcpFlags,
          innerFrameOffset: summary.innerFrameOffset, tables: set, now: now)
      } else {
        done = execute(actions, on: &buffer, summary: summary, tables: set, now: now)
      }
      if !done {
        // Only reachable through a bug: a fresh list refers to live state.
        drop(&buffer, .malformed, port: buffer.inputPort)
      }
    }
  }

  func drop(_ buffer: inout PacketBuffer, _ reason: DropReason, port: UInt16) {
    buffer.verdict = .drop(reason)
    counters.countDrop(port: port, reason: reason)
  }

  /// A connection serial, never 0.
  func takeSerial() -> UInt32 {
    let s = nextSerial
    nextSerial = nextSerial &+ 1 == 0 ? 1 : nextSerial &+ 1
    return s
  }
}

/// What `DataPlane.process` reads and updates once per batch.
struct BatchState {
  var isFlowCacheEnabled = true
  var flowIdleTimeout: UInt64 = 120_000_000_000
  var sweepBudget = 64
  var sweepPeriod: UInt64 = 10_000_000_000
  var lastSweep: UInt64? = nil
  var flowSweepCredit: UInt64 = 0
  var connectionSweepCredit: UInt64 = 0
  var resumedLookups: UInt64 = 0
}

/// What the slow path decided.
enum SlowPathOutcome {
  /// A reply was written in place (or the verdict set): nothing to run.
  case handled
  case dropped(DropReason)
  case actions(ActionList, cacheable: Bool)
}
