import Virtio

/// One front-end connection's protocol state (vhost-user.rst). Takes
/// decoded messages and their descriptors, keeps the memory table and ring
/// state, and starts and stops the device's rings. No system calls of its
/// own: those go through `Host`, so the fuzzer drives it without any.
///
/// Descriptors: the session owns every descriptor handed to `handle`, and
/// closes each one it does not keep (refused messages, surplus fds).
public final class VhostUserSession<Device: VhostUserDevice, Host: HostResources> {
  public private(set) var device: Device
  public private(set) var host: Host
  public let options: SessionOptions
  public private(set) var memory = MemoryTable()
  public private(set) var rings: [RingState]
  public private(set) var counters = SessionCounters()
  public private(set) var features: UInt64 = 0
  public private(set) var protocolFeatures: ProtocolFeatures = []
  public private(set) var status: UInt8 = 0
  public private(set) var hasOwner = false
  /// The MTU from NET_SET_MTU and the MAC from the last SEND_RARP.
  public private(set) var mtu: UInt64 = 0
  public private(set) var announcedMAC: UInt64 = 0
  /// The back-end's channel to the front-end (SET_BACKEND_REQ_FD), owned
  /// by the session: replaced by the next one, closed on disconnect.
  public private(set) var backendChannelFD: Int32?
  /// Where packed rings' device positions outlive this process (the server
  /// maps it from a file next to the socket); nil: not kept, and a packed
  /// ring resumes from the base the front-end sends.
  public var resumeRecord: RingResumeRecord?

  public init(device: Device, host: Host, options: SessionOptions = SessionOptions()) {
    self.device = device
    self.host = host
    self.options = options
    rings = [RingState](repeating: RingState(), count: device.queueCount)
  }

  deinit { close() }

  /// Virtio features offered: the device's, plus protocol features.
  public var offeredFeatures: UInt64 { device.offeredFeatures | VhostFeatureBits.protocolFeatures }

  public var offeredProtocolFeatures: ProtocolFeatures {
    var f: ProtocolFeatures = [.replyAck, .multiqueue, .config, .status, .rarp, .mtu]
    if options.offersMemorySlots { f.insert(.configureMemorySlots) }
    if device.announcesConfigurationChanges { f.insert(.backendRequest) }
    return f
  }

  /// Handles one framed message.
  public func handle(_ frame: MessageFramer.Frame) -> SessionOutcome {
    handle(header: frame.header, payload: frame.payload, fds: frame.fds, droppedFDs: frame.droppedFDs)
  }

  /// Handles one message. Never traps on what the front-end sent.
  /// `droppedFDs`: descriptors the transport had to close because too many
  /// came with this message; the message is refused.
  public func handle(header: MessageHeader, payload: [UInt8], fds: [Int32], droppedFDs: Int = 0)
    -> SessionOutcome
  {
    counters.messages += 1
    let message: VhostUserMessage
    do throws(VhostUserError) {
      message = try VhostUserMessage.decode(
        header: header, payload: payload, fdCount: fds.count + droppedFDs)
    } catch {
      closeAll(fds)
      return refuse(error, header: header, request: VhostUserRequest(rawValue: header.request))
    }
    do throws(VhostUserError) {
      if let reply = try apply(message, fds: fds) { return .reply(reply) }
      if header.needsReply && protocolFeatures.contains(.replyAck) {
        return .reply(Reply.u64(message.request, 0))
      }
      return .none
    } catch {
      return refuse(error, header: header, request: message.request)
    }
  }

  /// Counts a refusal and picks the answer: a failed REPLY_ACK if the
  /// front-end asked for one, a disconnect if it waits for a real reply.
  private func refuse(_ error: VhostUserError, header: MessageHeader, request: VhostUserRequest?)
    -> SessionOutcome
  {
    counters.refused += 1
    counters.lastError = error
    if let request, Self.hasReply(request) { return .disconnect(error) }
    if header.needsReply && protocolFeatures.contains(.replyAck) {
      // Unknown requests too: the front-end asked for an ack and waits.
      return .reply(Reply.u64(header.request, 1))
    }
    return .none
  }

  static func hasReply(_ r: VhostUserRequest) -> Bool {
    switch r {
    case .getFeatures, .getProtocolFeatures, .getVringBase, .getQueueNum, .getConfig, .getMaxMemorySlots,
      .getStatus, .setLogBase:
      return true
    default: return false
    }
  }

  /// Applies a decoded message; returns its own reply, if it has one.
  /// Descriptors in `fds` are kept or closed here, on every path.
  private func apply(_ message: VhostUserMessage, fds: [Int32]) throws(VhostUserError) -> [UInt8]? {
    switch message {
    case .getFeatures: return Reply.u64(.getFeatures, offeredFeatures)
    case .setFeatures(let f):
      guard f & ~offeredFeatures == 0 else { throw .unofferedFeatures(f) }
      features = f
      device.negotiated(features: f)
      if f & VhostFeatureBits.protocolFeatures == 0 {
        // vhost-user.rst: without protocol features, rings are enabled
        // as soon as they are started.
        for i in rings.indices { rings[i].isEnabled = true }
      }
    case .getProtocolFeatures: return Reply.u64(.getProtocolFeatures, offeredProtocolFeatures.rawValue)
    case .setProtocolFeatures(let f):
      guard f.rawValue & ~offeredProtocolFeatures.rawValue == 0 else { throw .unofferedFeatures(f.rawValue) }
      protocolFeatures = f
    case .setOwner: hasOwner = true
    case .resetOwner:
      stopAll()
      resumeRecord?.clearAll()
      device.reset()
      features = 0
    case .setMemoryTable(let regions):
      try setMemoryTable(regions, fds: fds)
    case .addMemoryRegion(let r):
      guard protocolFeatures.contains(.configureMemorySlots) else {
        closeAll(fds)
        throw .protocolViolation(.addMemoryRegion)
      }
      try addRegion(r, fd: fds[0])
    case .removeMemoryRegion(let r):
      guard protocolFeatures.contains(.configureMemorySlots) else {
        throw .protocolViolation(.removeMemoryRegion)
      }
      let running = stopAll()
      try memory.remove(r, host: &host)
      restart(running)
    case .getMaxMemorySlots:
      return Reply.u64(.getMaxMemorySlots, UInt64(options.maximumMemorySlots))
    case .setLogBase, .setLogFD:
      // Dirty logging (migration) is not offered (no LOG_SHMFD, no LOG_ALL).
      closeAll(fds)
      throw .unsupportedRequest(message.request)
    case .setVringNum(let s):
      let q = try queue(s.index)
      guard s.number > 0, s.number <= UInt32(device.maximumQueueSize), s.number & (s.number - 1) == 0 else {
        throw .invalidQueueSize(s.number)
      }
      rings[q].size = s.number
    case .setVringAddress(let a):
      let q = try queue(a.index)
      guard a.flags & VringAddress.logFlag == 0 else { throw .unsupportedRequest(.setVringAddress) }
      let wasRunning = rings[q].isRunning
      if wasRunning { stop(q) }
      rings[q].address = a
      if wasRunning { try startIfReady(q) }
    case .setVringBase(let s):
      let q = try queue(s.index)
      guard !rings[q].isRunning else { throw .protocolViolation(.setVringBase) }
      rings[q].base = s.number
    case .getVringBase(let index):
      let q = try queue(index)
      // vhost-user.rst: GET_VRING_BASE stops the ring. The front-end now
      // holds the position: the record's entry is no longer needed.
      if rings[q].isRunning { stop(q) }
      resumeRecord?.clear(queue: q)
      if let fd = rings[q].kickFD { host.close(fd: fd) }
      rings[q].kickFD = nil
      rings[q].hasKick = false
      return Reply.state(.getVringBase, index: index, number: rings[q].base)
    case .setVringKick(let r):
      let q: Int
      do throws(VhostUserError) { q = try queue(r.index) } catch {
        closeAll(fds)
        throw error
      }
      if let old = rings[q].kickFD { host.close(fd: old) }
      rings[q].kickFD = r.hasFD ? fds[0] : nil
      rings[q].hasKick = true
      try startIfReady(q)
    case .setVringCall(let r):
      let q: Int
      do throws(VhostUserError) { q = try queue(r.index) } catch {
        closeAll(fds)
        throw error
      }
      if let old = rings[q].callFD { host.close(fd: old) }
      rings[q].callFD = r.hasFD ? fds[0] : nil
    case .setVringError(let r):
      let q: Int
      do throws(VhostUserError) { q = try queue(r.index) } catch {
        closeAll(fds)
        throw error
      }
      if let old = rings[q].errorFD { host.close(fd: old) }
      rings[q].errorFD = r.hasFD ? fds[0] : nil
    case .setVringEnable(let s):
      let q = try queue(s.index)
      // vhost-user.rst says "only when VHOST_USER_F_PROTOCOL_FEATURES has
      // been negotiated", but QEMU disables every ring right after
      // SET_PROTOCOL_FEATURES, before SET_FEATURES: accept it whenever we
      // offered the bit (always).
      guard s.number <= 1 else { throw .protocolViolation(.setVringEnable) }
      rings[q].isEnabled = s.number == 1
      if s.number == 1 { try startIfReady(q) } else if rings[q].isRunning { stop(q) }
    case .getQueueNum: return Reply.u64(.getQueueNum, UInt64(device.queueCount))
    case .getConfig(let offset, let size, let flags):
      guard let bytes = device.readConfig(offset: Int(offset), count: Int(size)), bytes.count == Int(size)
      else {
        // QEMU reads a reply without the requested bytes as a failure.
        counters.refused += 1
        counters.lastError = .invalidConfigAccess(offset: offset, size: size)
        return Reply.bytes(.getConfig, [])
      }
      var p: [UInt8] = []
      p.appendLittleEndian(offset)
      p.appendLittleEndian(size)
      p.appendLittleEndian(flags)
      return Reply.bytes(.getConfig, p + bytes)
    case .setConfig(let c):
      guard device.writeConfig(offset: Int(c.offset), bytes: c.bytes) else {
        throw .invalidConfigAccess(offset: c.offset, size: UInt32(c.bytes.count))
      }
    case .netSetMTU(let value): mtu = value
    case .sendRARP(let mac): announcedMAC = mac & 0xFFFF_FFFF_FFFF
    case .setStatus(let s):
      // virtio 1.2 §2.1.2: writing 0 resets the device.
      if s == 0 {
        stopAll()
        // The driver starts its rings over: no position is worth keeping.
        resumeRecord?.clearAll()
        device.reset()
      }
      status = s
    case .getStatus: return Reply.u64(.getStatus, UInt64(status))
    case .setBackendRequestFD:
      guard protocolFeatures.contains(.backendRequest) else {
        closeAll(fds)
        throw .protocolViolation(.setBackendRequestFD)
      }
      if let old = backendChannelFD { host.close(fd: old) }
      backendChannelFD = fds[0]
    }
    return nil
  }

  private func queue(_ index: UInt32) throws(VhostUserError) -> Int {
    guard index < UInt32(rings.count) else { throw .invalidQueueIndex(index) }
    return Int(index)
  }

  private func setMemoryTable(_ regions: [MemoryRegionDescription], fds: [Int32]) throws(VhostUserError) {
    var checked: [MemoryRegionDescription] = []
    for r in regions {
      do throws(VhostUserError) {
        try MemoryTable.validate(r)
        try MemoryTable.checkDisjoint(r, from: checked)
      } catch {
        closeAll(fds)
        throw error
      }
      checked.append(r)
    }
    // The new table replaces the old one whole: stop rings, unmap, map, and
    // restart the rings that ran (QEMU resends the table on memory hotplug).
    let running = stopAll()
    memory.removeAll(host: &host)
    for (i, r) in regions.enumerated() {
      do throws(VhostUserError) { try memory.map(r, fd: fds[i], host: &host) } catch {
        closeAll(Array(fds[(i + 1)...]))
        memory.removeAll(host: &host)
        throw error
      }
    }
    restart(running)
  }

  private func addRegion(_ r: MemoryRegionDescription, fd: Int32) throws(VhostUserError) {
    do throws(VhostUserError) {
      guard memory.regions.count < options.maximumMemorySlots else {
        throw .tooManyRegions(count: UInt32(memory.regions.count + 1))
      }
      try MemoryTable.validate(r)
      try MemoryTable.checkDisjoint(r, from: memory.regions.map { $0.description })
    } catch {
      host.close(fd: fd)
      throw error
    }
    try memory.map(r, fd: fd, host: &host)
  }

  /// Starts ring `q` on the device once all its parts are in place.
  private func startIfReady(_ q: Int) throws(VhostUserError) {
    let ring = rings[q]
    guard !ring.isRunning, ring.hasKick, ring.isEnabled, ring.size > 0, let address = ring.address else {
      return
    }
    guard !memory.isEmpty else { throw .noMemoryTable }
    if features & VirtqueueFeatures.ringPacked.rawValue != 0 {
      try startPacked(q, address: address)
      return
    }
    guard let parts = RingState.locate(address, size: ring.size, memory: memory),
      let usedIndexWord = memory.hostAddress(forGuestAddress: parts.used + 2, length: 2)
    else { throw .ringOutsideMemory(queue: UInt32(q)) }
    // Sound: two bytes inside a mapped region (checked just above).
    let usedIndex = UInt16(littleEndian: usedIndexWord.loadUnaligned(as: UInt16.self))
    var next = UInt16(truncatingIfNeeded: ring.base)
    if next != usedIndex {
      // After a back-end restart QEMU cannot ask the dead back-end where it
      // stopped, so it sets the base from the used index; descriptors made
      // available but never used are made available again. We do the same
      // when the two disagree (as DPDK does), so the guest's driver never
      // sees its ring go backwards or skip.
      next = usedIndex
      counters.ringsResumedFromUsedIndex += 1
    }
    rings[q].base = UInt32(next)
    let accepted = device.start(
      ActiveRing(
        queue: q, size: UInt16(ring.size), descriptorTableAddress: parts.descriptors,
        availableRingAddress: parts.available, usedRingAddress: parts.used, nextAvailableIndex: next,
        usedIndex: usedIndex, features: features),
      memory: memory)
    guard accepted else { throw .deviceRefusedRing(queue: UInt32(q)) }
    rings[q].isRunning = true
    counters.ringsStarted += 1
  }

  /// A packed ring (virtio 1.2 §2.8) starts where the resume record says,
  /// if its entry is live, names this ring and the ring agrees; otherwise
  /// where the front-end's base says. QEMU's net device sends a stale base
  /// after a back-end restart (it has no used index in guest memory to
  /// read back), which is what the record is for. A start the ring
  /// contradicts leaves the queue broken on the device (NEEDS_RESET).
  private func startPacked(_ q: Int, address: VringAddress) throws(VhostUserError) {
    let ring = rings[q]
    let size = UInt16(ring.size)
    guard let parts = RingState.locatePacked(address, size: ring.size, memory: memory),
      let descriptors = memory.hostAddress(forGuestAddress: parts.descriptors, length: 16 * UInt64(size))
    else { throw .ringOutsideMemory(queue: UInt32(q)) }
    // Bits 16–31 (the used position) are not needed: this back-end returns
    // every buffer it takes before it stops a ring, so used equals avail.
    guard ring.base & 0x7fff < ring.size else { throw .invalidRingBase(queue: UInt32(q), base: ring.base) }
    var start = VirtqueueStart(vhostRingBase: ring.base, packed: true)
    let identity = RingResumeRecord.Identity(
      descriptorRing: address.descriptorTable, deviceEvent: address.usedRing, size: size)
    var lastSlots: UInt16 = 0
    if let record = resumeRecord, let kept = record.position(queue: q, for: identity) {
      // Sound: the whole descriptor ring lies inside a mapped region.
      if let resumed = kept.resolved(ring: UnsafeRawPointer(descriptors), size: size) {
        let resumedStart = VirtqueueStart(
          lastAvailIndex: resumed.usedIndex, wrapCounter: resumed.usedWrapCounter)
        if resumedStart != start { counters.ringsResumedFromRecord += 1 }
        start = resumedStart
        lastSlots = resumed.lastSlots
      } else {
        counters.resumeRecordsRejected += 1
      }
    }
    let half = start.vhostRingBase(packed: true)
    rings[q].base = half | half << 16
    resumeRecord?.claim(
      queue: q, for: identity,
      at: PackedRingPosition(
        usedIndex: start.lastAvailIndex, usedWrapCounter: start.wrapCounter, lastSlots: lastSlots))
    let accepted = device.start(
      ActiveRing(
        queue: q, size: size, descriptorTableAddress: parts.descriptors,
        availableRingAddress: parts.available,
        usedRingAddress: parts.used, nextAvailableIndex: start.lastAvailIndex,
        availableWrapCounter: start.wrapCounter, usedIndex: start.lastAvailIndex, features: features,
        positionRecord: resumeRecord?.positionWord(queue: q)),
      memory: memory)
    guard accepted else {
      resumeRecord?.clear(queue: q)
      throw .deviceRefusedRing(queue: UInt32(q))
    }
    rings[q].isRunning = true
    counters.ringsStarted += 1
  }

  private func stop(_ q: Int) {
    rings[q].base = device.stop(queue: q)
    rings[q].isRunning = false
  }

  /// Stops every running ring; returns which ran.
  @discardableResult private func stopAll() -> [Int] {
    var running: [Int] = []
    for q in rings.indices where rings[q].isRunning {
      stop(q)
      running.append(q)
    }
    return running
  }

  private func restart(_ queues: [Int]) {
    for q in queues {
      do throws(VhostUserError) { try startIfReady(q) } catch {
        counters.refused += 1
        counters.lastError = error
      }
    }
  }

  private func closeAll(_ fds: [Int32]) {
    for fd in fds { host.close(fd: fd) }
    counters.descriptorsClosed += UInt64(fds.count)
  }

  /// The front-end is gone: stop rings, unmap memory, close descriptors.
  /// The session can serve a new connection afterwards (a reconnecting
  /// front-end resends the whole set-up).
  public func close() {
    // The record's entries stay live: a front-end that reconnects (QEMU
    // after the back-end dropped it) cannot say where its packed rings were.
    stopAll()
    device.reset()
    memory.removeAll(host: &host)
    for q in rings.indices {
      for fd in [rings[q].kickFD, rings[q].callFD, rings[q].errorFD] {
        if let fd { host.close(fd: fd) }
      }
      rings[q] = RingState()
    }
    closeBackendChannel()
    features = 0
    protocolFeatures = []
    status = 0
    hasOwner = false
    counters = SessionCounters()
  }

  /// Closes the back-end channel (the front-end went away, or it broke:
  /// a send failed). Config changes are then read on the next GET_CONFIG.
  public func closeBackendChannel() {
    if let fd = backendChannelFD { host.close(fd: fd) }
    backendChannelFD = nil
  }

  /// Ring `q`'s call descriptor, for the server's notifications.
  public func callFD(queue q: Int) -> Int32? { rings.indices.contains(q) ? rings[q].callFD : nil }
  public func kickFD(queue q: Int) -> Int32? { rings.indices.contains(q) ? rings[q].kickFD : nil }

  /// Gives the server mutable access to the device (to service rings).
  public func withDevice<R>(_ body: (inout Device) -> R) -> R { body(&device) }

  /// Gives the transport the host resources (to close descriptors that
  /// never made it into a message).
  public func withHost<R>(_ body: (inout Host) -> R) -> R { body(&host) }
}
