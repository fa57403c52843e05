import Wire

/// What the fast path knows about one packet of the batch between its
/// passes: the flow key, what the actions need from the packet, and where
/// a hit's flow entry and first connection entry are (found in pass 2, so
/// that pass 3 neither masks nor indexes again).
///
/// Unsafe code: `entry` and `connection` point into the flow and
/// connection tables' slots, which are allocated once for the plane's
/// lifetime and never move. Between the passes the slow path of an
/// earlier packet of the batch may rewrite the flow entry, but only with
/// the same key (a hit stays a hit of the same flow), and its new program
/// may name another connection: the run checks the connection's serial
/// (unique per connection), so an entry other than the program's own
/// fails the check and the packet takes the slow path.
struct FastLane {
  var key: FlowKey
  var hash: UInt64
  var summary: PacketSummary
  /// The entry of a current-generation hit, else nil.
  var entry: UnsafeMutablePointer<FlowEntry>?
  /// The entry in the program's first connection slot when pass 2 ran
  /// (slot 0 for a program without connections, and then unused).
  var connection: UnsafeMutablePointer<ConnectionEntry>?
  /// Where pass 2 stopped probing (past the prefetched slots) and goes
  /// on after the rest of the batch (for the lanes `resumedLanes` lists).
  var resumeSlot: Int
  var isClassified: Bool

  static var idle: FastLane {
    FastLane(
      key: FlowEntry.empty.key, hash: 0,
      summary: PacketSummary(tcpFlags: TCPFlags(rawValue: 0), innerFrameOffset: 0),
      entry: nil, connection: nil, resumeSlot: -1, isClassified: false)
  }
}

extension DataPlane {
  /// Up to `PacketBatch.capacity` packets through the pipeline in three
  /// passes, so that the cache misses of different packets overlap
  /// (software pipelining over the batch) instead of being taken one after
  /// the other:
  /// 1. classify each frame and prefetch the first two slots of its flow's run;
  /// 2. look each flow up and prefetch its connection entry;
  /// 3. run the cached program, or the slow path on a miss or a punt.
  /// Pass 3 keeps the batch order, and a packet whose flow an earlier
  /// packet of the same batch has just compiled finds it there (the slow
  /// path looks the cache up again after the full parse). The slot found
  /// in pass 2 stays valid in pass 3: only the sweep, after the batch,
  /// moves or removes entries; the slow path only fills free slots or
  /// rewrites the entry of the same key. Per batch.
  ///
  /// Each pass is a function of its own, called once per batch: the
  /// compiler inlines into a function only up to a size, and one function
  /// holding all three passes got the action program's run as a call per
  /// packet (about 30 instructions of calling convention and spills).
  @inline(__always)
  func processChunk(
    _ buffers: UnsafeMutableBufferPointer<PacketBuffer>, _ range: Range<Int>, tables set: TableSet,
    cacheEnabled: Bool, now: UInt64
  ) {
    if cacheEnabled {
      classifyPass(buffers, range, tables: set)
      lookupPass(range, generation: set.generation)
    }
    runPass(buffers, range, tables: set, cacheEnabled: cacheEnabled, now: now)
  }

  /// Pass 1: the flow key and hash of each pending frame into its lane
  /// (the classifier hashes the key where it builds it), and a prefetch
  /// of the flow's home slot and the slot after it (a flow's second
  /// direction, inserted after others, often sits one past home: at 1 M
  /// flows fetching both cut decap from about 81–97 to 63–72 ns inside
  /// `process`, and encap from 54–58 to 43–47). Per batch.
  @inline(never)
  func classifyPass(
    _ buffers: UnsafeMutableBufferPointer<PacketBuffer>, _ range: Range<Int>, tables set: TableSet
  ) {
    let lanes = self.lanes
    let flows = self.flows
    let cardUnderlay = set.cardUnderlay
    let cardMAC = set.cardMAC
    for k in 0..<range.count {
      let i = range.lowerBound &+ k
      let lane = lanes + k
      lane.pointee.isClassified = false
      lane.pointee.entry = nil
      guard buffers[i].verdict == .pending else { continue }
      let start = buffers[i].storage + buffers[i].dataOffset
      if !IPv4FastClassifier.classify(
        start, count: buffers[i].length, inputPort: buffers[i].inputPort, cardUnderlay: cardUnderlay,
        cardMAC: cardMAC, into: lane)
      {
        guard
          let (key, summary) = FastClassifier.classify(
            buffers[i].data, inputPort: buffers[i].inputPort, cardUnderlay: cardUnderlay, cardMAC: cardMAC)
        else { continue }
        lane.pointee.key = key
        lane.pointee.hash = key.hashValue64
        lane.pointee.summary = summary
      }
      lane.pointee.isClassified = true
      flows.prefetchRun(slot: Int(truncatingIfNeeded: lane.pointee.hash))
    }
  }

  /// Pass 2: each classified lane's flow entry (a current-generation hit)
  /// and its connection entry, prefetched. A key in the home slot or the
  /// next is found with one full comparison; a key further from home than
  /// pass 1 prefetched (about 1 in 10 at a load of 1/2, more for keys
  /// inserted late) is not waited for: its next slots are prefetched and
  /// its lookup goes on after the rest of the batch. Per batch.
  @inline(never)
  func lookupPass(_ range: Range<Int>, generation: UInt32) {
    let lanes = self.lanes
    let flows = self.flows
    let resumedLanes = self.resumedLanes
    var resumed = 0
    for k in 0..<range.count {
      let lane = lanes + k
      guard lane.pointee.isClassified else { continue }
      // The home slot or the next, chosen without a branch by three
      // words of the key, then compared in full: a key one past home
      // (a third of the keys inserted late) costs no mispredicted branch.
      // Otherwise (a key further on, or a miss) the two slots are probed
      // as a run, and the picked one compared again: rare, and in cache.
      let home = Int(truncatingIfNeeded: lane.pointee.hash)
      let (first, second) = flows.run(from: home)
      let pick = first.pointee.key.mayEqual(lane.pointee.key) ? first : second
      if pick.pointee.key == lane.pointee.key {
        found(pick, lane: lane, generation: generation)
        continue
      }
      var next = -1
      let entry = withUnsafePointer(to: &lane.pointee.key) {
        flows.entry(forKeyAt: $0, from: home, probes: FlowTable.prefetchedRun, next: &next)
      }
      if entry == nil && next >= 0 {
        lane.pointee.resumeSlot = next
        flows.prefetchRun(slot: next)
        resumedLanes[resumed] = k
        resumed &+= 1
        continue
      }
      found(entry, lane: lane, generation: generation)
    }
    batchState.pointee.resumedLookups &+= UInt64(truncatingIfNeeded: resumed)
    for r in 0..<resumed {
      let lane = lanes + resumedLanes[r]
      var next = -1
      let entry = withUnsafePointer(to: &lane.pointee.key) {
        flows.entry(forKeyAt: $0, from: lane.pointee.resumeSlot, probes: flows.maximumProbes, next: &next)
      }
      found(entry, lane: lane, generation: generation)
    }
  }

  /// The end of a lane's lookup: a current-generation `entry` goes into
  /// the lane with its first connection, prefetched; anything else is a
  /// miss, whose connections the slow path will want. Per packet.
  @inline(__always)
  func found(
    _ entry: UnsafeMutablePointer<FlowEntry>?, lane: UnsafeMutablePointer<FastLane>, generation: UInt32
  ) {
    guard let entry, entry.pointee.generation == generation else {
      prefetchConnections(for: lane.pointee.key)
      return
    }
    let connection = firstConnection(of: entry)
    lane.pointee.entry = entry
    lane.pointee.connection = connection
    if entry.pointee.program.connectionCount > 0 { connections.prefetch(entry: connection) }
  }

  /// Pass 3: the cached program of each hit, the full pipeline for the
  /// rest, in batch order. Per batch.
  @inline(never)
  func runPass(
    _ buffers: UnsafeMutableBufferPointer<PacketBuffer>, _ range: Range<Int>, tables set: TableSet,
    cacheEnabled: Bool, now: UInt64
  ) {
    guard cacheEnabled else {
      for i in range where buffers[i].verdict == .pending {
        processPacket(&buffers[i], tables: set, cacheEnabled: false, now: now)
      }
      return
    }
    let lanes = self.lanes
    for k in 0..<range.count {
      let i = range.lowerBound &+ k
      guard buffers[i].verdict == .pending else { continue }
      let lane = lanes + k
      if let entry = lane.pointee.entry, !exceedsVPCMTU(buffers[i], set) {
        let done = run(
          entry, connection: lane.pointee.connection, on: &buffers[i],
          tcpFlags: lane.pointee.summary.tcpFlags,
          innerFrameOffset: lane.pointee.summary.innerFrameOffset, tables: set, now: now)
        if done {
          entry.pointee.lastUsed = now
          entry.pointee.packets &+= 1
          continue
        }
      }
      processPacket(&buffers[i], tables: set, cacheEnabled: true, now: now)
    }
  }

  /// The entry in the first connection slot `flow`'s program names (slot
  /// 0 when it tracks none). Per packet.
  @inline(__always)
  func firstConnection(of flow: UnsafeMutablePointer<FlowEntry>) -> UnsafeMutablePointer<ConnectionEntry> {
    connections.entry(at: Int(truncatingIfNeeded: flow.pointee.program.firstConnectionSlot))
  }

  /// A guest's frame longer than the VPC's MTU allows (plus its Ethernet
  /// header) never runs a cached flow: the slow path drops and answers it
  /// (EgressPath). A flow's first packets are small (a TCP handshake), so
  /// its later, full-size packets would otherwise pass on the cache. Per
  /// packet: one comparison.
  @inline(__always)
  func exceedsVPCMTU(_ buffer: PacketBuffer, _ set: TableSet) -> Bool {
    buffer.inputPort != Self.uplinkPort
      && buffer.length > set.guestFrameLimit
  }

  /// A miss goes to the slow path, which looks the connection up both ways
  /// round: fetch both home slots now, while the rest of the batch is
  /// looked up. Egress only (an ingress packet's zone is the receiving
  /// NIC's port, known only after the mapping). A hint: nothing depends on
  /// it. Per packet (misses).
  @inline(__always)
  func prefetchConnections(for key: FlowKey) {
    guard key.direction == .egress else { return }
    let connection = ConnectionKey(
      source: key.source, destination: key.destination, sourcePort: key.sourcePort,
      destinationPort: key.destinationPort, protocol: key.ipProtocol,
      zone: UInt16(truncatingIfNeeded: key.portOrVNI))
    connections.prefetch(slot: Int(truncatingIfNeeded: connection.hashValue64))
    connections.prefetch(slot: Int(truncatingIfNeeded: connection.reversed.hashValue64))
  }
}
