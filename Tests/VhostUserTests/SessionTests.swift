import Testing

@testable import VhostUser

@Suite struct SessionTests {
  /// One 64 KiB region at guest address 0, front-end address 0x10000000.
  static let region = MemoryRegionDescription(guestAddress: 0, size: 0x10000, userAddress: 0x1000_0000)
  static let ring0 = VringAddress(
    index: 0, descriptorTable: 0x1000_0000, usedRing: 0x1000_2000, availableRing: 0x1000_1000)

  func negotiated(_ protocolFeatures: ProtocolFeatures = [.replyAck, .multiqueue, .config]) -> TestSession {
    var host = MemoryHost()
    host.fileSizes[10] = 0x10000
    let session = TestSession(device: RecordingDevice(), host: host)
    _ = session.send(.setOwner)
    let offered = replyValue(session.send(.getFeatures)) ?? 0
    _ = session.send(.setFeatures(offered))
    _ = session.send(.setProtocolFeatures(protocolFeatures))
    #expect(
      session.send(.setMemoryTable([Self.region]), fds: [10], needsReply: true)
        == .reply(Reply.u64(.setMemoryTable, 0)))
    return session
  }

  func startRing0(_ s: TestSession, base: UInt32 = 0) {
    _ = s.send(.setVringNum(VringState(index: 0, number: 256)))
    _ = s.send(.setVringBase(VringState(index: 0, number: base)))
    _ = s.send(.setVringAddress(Self.ring0))
    _ = s.send(.setVringKick(VringFileRequest(index: 0, hasFD: true)), fds: [20])
    _ = s.send(.setVringCall(VringFileRequest(index: 0, hasFD: true)), fds: [21])
    _ = s.send(.setVringEnable(VringState(index: 0, number: 1)))
  }

  @Test func negotiationRepliesAndStartsARing() {
    let s = negotiated()
    #expect(replyValue(s.send(.getProtocolFeatures)) == s.offeredProtocolFeatures.rawValue)
    #expect(replyValue(s.send(.getQueueNum)) == 2)
    startRing0(s)
    #expect(s.rings[0].isRunning)
    #expect(s.device.started.count == 1)
    let ring = s.device.started[0]
    #expect(
      ring.descriptorTableAddress == 0 && ring.availableRingAddress == 0x1000
        && ring.usedRingAddress == 0x2000)
    #expect(ring.size == 256)
    #expect(s.callFD(queue: 0) == 21 && s.kickFD(queue: 0) == 20)
  }

  @Test func ringWaitsForEnableWithProtocolFeatures() {
    let s = negotiated()
    _ = s.send(.setVringNum(VringState(index: 0, number: 256)))
    _ = s.send(.setVringAddress(Self.ring0))
    _ = s.send(.setVringKick(VringFileRequest(index: 0, hasFD: false)))
    #expect(!s.rings[0].isRunning)
    _ = s.send(.setVringEnable(VringState(index: 0, number: 1)))
    #expect(s.rings[0].isRunning)
  }

  @Test func getVringBaseStopsTheRingAndReportsItsIndex() {
    let s = negotiated()
    startRing0(s, base: 0)
    s.withDevice { $0.nextIndex[0] = 42 }
    guard case .reply(let bytes) = s.send(.getVringBase(index: 0)) else {
      Issue.record("no reply")
      return
    }
    #expect(bytes.littleEndian(at: 16, as: UInt32.self) == 42)
    #expect(!s.rings[0].isRunning && s.device.stopped == [0])
    #expect(s.host.closed.contains(20))
  }

  @Test func resumesFromTheUsedIndexInGuestMemory() throws {
    let s = negotiated()
    // The guest's used ring says 7 buffers were used; QEMU's base says 5.
    let usedIdx = try #require(s.memory.hostAddress(forGuestAddress: 0x2002, length: 2))
    usedIdx.storeBytes(of: UInt16(7).littleEndian, as: UInt16.self)
    startRing0(s, base: 5)
    #expect(s.device.started.first?.nextAvailableIndex == 7)
    #expect(s.counters.ringsResumedFromUsedIndex == 1)
  }

  @Test func ringsOutsideMemoryAreRefusedWithAnAck() {
    let s = negotiated()
    _ = s.send(.setVringNum(VringState(index: 0, number: 256)))
    var outside = Self.ring0
    outside.usedRing = 0x1000_FFF0  // used ring runs past the region's end
    _ = s.send(.setVringAddress(outside))
    _ = s.send(.setVringEnable(VringState(index: 0, number: 1)))
    let outcome = s.send(.setVringKick(VringFileRequest(index: 0, hasFD: true)), fds: [20], needsReply: true)
    #expect(outcome == .reply(Reply.u64(.setVringKick, 1)))
    #expect(s.counters.lastError == .ringOutsideMemory(queue: 0))
    #expect(!s.rings[0].isRunning)
    var misaligned = Self.ring0
    misaligned.descriptorTable += 8
    _ = s.send(.setVringAddress(misaligned))
    #expect(
      s.send(.setVringEnable(VringState(index: 0, number: 1)), needsReply: true)
        == .reply(Reply.u64(.setVringEnable, 1)))
  }

  @Test func hostileMemoryTablesAreRefusedAndTheirFDsClosed() {
    let s = negotiated()
    let overlapping = [
      MemoryRegionDescription(guestAddress: 0, size: 0x2000, userAddress: 0x1000),
      MemoryRegionDescription(guestAddress: 0x1000, size: 0x2000, userAddress: 0x9000),
    ]
    #expect(
      s.send(.setMemoryTable(overlapping), fds: [30, 31], needsReply: true)
        == .reply(Reply.u64(.setMemoryTable, 1)))
    #expect(s.counters.lastError == .overlappingRegions)
    #expect(s.host.closed.contains(30) && s.host.closed.contains(31))
    let wrapping = [MemoryRegionDescription(guestAddress: UInt64.max - 10, size: 0x1000, userAddress: 0)]
    _ = s.send(.setMemoryTable(wrapping), fds: [32])
    #expect(s.counters.lastError == .invalidRegion(guestAddress: UInt64.max - 10, size: 0x1000))
    let huge = [MemoryRegionDescription(guestAddress: 0, size: 1 << 50, userAddress: 0)]
    _ = s.send(.setMemoryTable(huge), fds: [33])
    #expect(s.counters.lastError == .regionTooLarge(size: 1 << 50))
    // Bigger than its file (fd 10 is 64 KiB): refused before it is touched.
    let beyondFile = [MemoryRegionDescription(guestAddress: 0, size: 0x20000, userAddress: 0)]
    _ = s.send(.setMemoryTable(beyondFile), fds: [10])
    #expect(s.counters.lastError == .regionTooLarge(size: 0x20000))
    #expect(s.memory.isEmpty)
    #expect(s.host.mapped.isEmpty)
  }

  @Test func malformedMessagesAreCountedNeverFatalUnlessAReplyIsOwed() {
    let s = negotiated()
    let before = s.counters.refused
    #expect(s.handle(header: MessageHeader(request: 77, size: 0), payload: [], fds: [40]) == .none)
    #expect(s.host.closed.contains(40))
    #expect(
      s.send(.setVringNum(VringState(index: 9, number: 256)), needsReply: true)
        == .reply(Reply.u64(.setVringNum, 1)))
    #expect(
      s.send(.setVringNum(VringState(index: 0, number: 100)), needsReply: true)
        == .reply(Reply.u64(.setVringNum, 1)))
    #expect(
      s.send(.setLogBase(size: 4096, offset: 0), fds: [41]) == .disconnect(.unsupportedRequest(.setLogBase)))
    // GET_FEATURES with a payload: the front-end waits for a reply it cannot get.
    let outcome = s.handle(
      header: MessageHeader(request: 1, size: 8), payload: [UInt8](repeating: 0, count: 8), fds: [])
    #expect(outcome == .disconnect(.payloadSizeMismatch(.getFeatures, size: 8)))
    #expect(s.counters.refused == before + 5)
    #expect(s.send(.setFeatures(1 << 63), needsReply: true) == .reply(Reply.u64(.setFeatures, 1)))
  }

  @Test func configReadsAndRefusals() {
    let s = negotiated()
    guard case .reply(let bytes) = s.send(.getConfig(offset: 0, size: 6, flags: 0)) else {
      Issue.record("no config reply")
      return
    }
    #expect(Array(bytes[24...]) == [0x52, 0x54, 0, 0x12, 0x34, 0x56])
    #expect(s.send(.getConfig(offset: 4, size: 100, flags: 0)) == .reply(Reply.bytes(.getConfig, [])))
  }

  @Test func memorySlotsAddAndRemoveRegions() {
    var options = SessionOptions()
    options.offersMemorySlots = true
    var host = MemoryHost()
    host.fileSizes[10] = 0x10000
    host.fileSizes[11] = 0x10000
    let s = TestSession(device: RecordingDevice(), host: host, options: options)
    _ = s.send(.setFeatures(s.offeredFeatures))
    _ = s.send(.setProtocolFeatures([.configureMemorySlots, .replyAck]))
    #expect(replyValue(s.send(.getMaxMemorySlots)) == 32)
    let second = MemoryRegionDescription(guestAddress: 0x10000, size: 0x10000, userAddress: 0x2000_0000)
    #expect(
      s.send(.addMemoryRegion(Self.region), fds: [10], needsReply: true)
        == .reply(Reply.u64(.addMemoryRegion, 0)))
    #expect(
      s.send(.addMemoryRegion(second), fds: [11], needsReply: true) == .reply(Reply.u64(.addMemoryRegion, 0)))
    #expect(
      s.send(.addMemoryRegion(second), fds: [11], needsReply: true) == .reply(Reply.u64(.addMemoryRegion, 1)))
    #expect(s.memory.regions.count == 2)
    _ = s.send(.removeMemoryRegion(Self.region))
    #expect(s.memory.regions.count == 1)
    #expect(
      s.send(.removeMemoryRegion(Self.region), needsReply: true) == .reply(Reply.u64(.removeMemoryRegion, 1)))
  }

  @Test func closeReleasesEverything() {
    let s = negotiated()
    startRing0(s)
    s.close()
    #expect(s.memory.isEmpty && s.host.mapped.isEmpty)
    #expect(s.host.closed.contains(20) && s.host.closed.contains(21))
    #expect(!s.rings[0].isRunning && s.features == 0)
  }
}
