import Wire

/// What the fast path knows about one packet of the batch between its
/// passes: the flow key, what the actions need from the packet, and the
/// flow-table slot of a hit.
struct FastLane {
  var key: FlowKey
  var hash: UInt64
  var summary: PacketSummary
  /// The slot of a current-generation hit, else -1.
  var slot: Int
  var isClassified: Bool

  static let idle = FastLane(
    key: FlowEntry.empty.key, hash: 0,
    summary: PacketSummary(tcpFlags: TCPFlags(rawValue: 0), innerFrameOffset: 0),
    slot: -1, isClassified: false)
}

extension DataPlane {
  /// Up to `PacketBatch.capacity` packets through the pipeline in three
  /// passes, so that the cache misses of different packets overlap
  /// (software pipelining over the batch) instead of being taken one after
  /// the other:
  /// 1. classify each frame and prefetch the home slot of its flow;
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

  /// Pass 1: the flow key and hash of each pending frame into its lane,
  /// and a prefetch of the flow's home slot. Per batch.
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
      lane.pointee.slot = -1
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
        lane.pointee.summary = summary
      }
      let hash = lane.pointee.key.hashValue64
      lane.pointee.hash = hash
      lane.pointee.isClassified = true
      flows.prefetch(hash: hash)
    }
  }

  /// Pass 2: each classified lane's flow-table slot (a current-generation
  /// hit) and a prefetch of its connection entry. Per batch.
  @inline(never)
  func lookupPass(_ range: Range<Int>, generation: UInt32) {
    let lanes = self.lanes
    let flows = self.flows
    for k in 0..<range.count {
      let lane = lanes + k
      guard lane.pointee.isClassified else { continue }
      guard let slot = flows.find(lane.pointee.key, hash: lane.pointee.hash),
        flows.entry(at: slot).pointee.generation == generation
      else {
        prefetchConnections(for: lane.pointee.key)
        continue
      }
      let entry = flows.entry(at: slot)
      lane.pointee.slot = slot
      if entry.pointee.program.connectionCount > 0 {
        connections.prefetch(slot: Int(truncatingIfNeeded: entry.pointee.program.firstConnectionSlot))
      }
    }
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
    let flows = self.flows
    for k in 0..<range.count {
      let i = range.lowerBound &+ k
      guard buffers[i].verdict == .pending else { continue }
      let lane = lanes + k
      if lane.pointee.slot >= 0 && !exceedsVPCMTU(buffers[i], set) {
        let entry = flows.entry(at: lane.pointee.slot)
        let done = run(
          entry, on: &buffers[i], tcpFlags: lane.pointee.summary.tcpFlags,
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
