import Testing
import Virtio

@testable import VhostUser

/// A packed ring (virtio 1.2 §2.8) served through the adapter: ring 1 of a
/// `SinkDevice`, 16 slots at guest address 0, the driver event suppression
/// structure at 0x1000 and the device's at 0x2000, buffers from 0x8000.
/// The driver side is written by hand here, as a guest's driver would.
struct PackedRingFixture {
  typealias Session = VhostUserSession<VirtioDeviceAdapter<SinkDevice>, MemoryHost>
  static let size: UInt16 = 16
  static let address = VringAddress(
    index: 1, descriptorTable: 0x1000_0000, usedRing: 0x1000_2000, availableRing: 0x1000_1000)
  static let identity = RingResumeRecord.Identity(
    descriptorRing: 0x1000_0000, deviceEvent: 0x1000_2000, size: size)

  let session: Session
  let sink = SinkDevice()
  let memory: UnsafeMutableRawPointer

  /// Negotiates packed rings and starts ring 1 from `base`; `image` is
  /// copied into guest memory first (the guest as a restarted back-end
  /// finds it).
  init(record: RingResumeRecord?, base: UInt32, image: [UInt8]? = nil) throws {
    var host = MemoryHost()
    host.fileSizes[10] = 0x10000
    session = Session(device: VirtioDeviceAdapter(sink), host: host)
    session.resumeRecord = record
    _ = session.send(
      .setFeatures(VirtqueueFeatures.version1.rawValue | VirtqueueFeatures.ringPacked.rawValue))
    let region = MemoryRegionDescription(guestAddress: 0, size: 0x10000, userAddress: 0x1000_0000)
    _ = session.send(.setMemoryTable([region]), fds: [10])
    memory = try #require(session.memory.hostAddress(forGuestAddress: 0, length: 0x10000))
    if let image { image.withUnsafeBytes { memory.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
    _ = session.send(.setVringNum(VringState(index: 1, number: UInt32(Self.size))))
    _ = session.send(.setVringBase(VringState(index: 1, number: base)))
    _ = session.send(.setVringAddress(Self.address))
    _ = session.send(.setVringKick(VringFileRequest(index: 1, hasFD: false)))
  }

  var queue: PackedVirtqueue? {
    if case .packed(let q)? = sink.queues[1] { return q }
    return nil
  }

  /// §2.8.6: one readable 64-byte buffer in `slot`, made available in the
  /// lap `wrap` names (AVAIL = wrap, USED = !wrap).
  func offer(slot: Int, id: UInt16, wrap: Bool) {
    let d = memory + slot * 16
    d.storeBytes(of: UInt64(0x8000 + slot * 64).littleEndian, as: UInt64.self)
    d.storeBytes(of: UInt32(64).littleEndian, toByteOffset: 8, as: UInt32.self)
    d.storeBytes(of: id.littleEndian, toByteOffset: 12, as: UInt16.self)
    let flags: UInt16 = wrap ? 1 << 7 : 1 << 15
    d.storeBytes(of: flags.littleEndian, toByteOffset: 14, as: UInt16.self)
  }

  func flags(slot: Int) -> UInt16 { UInt16(littleEndian: (memory + slot * 16 + 14).load(as: UInt16.self)) }

  func service() -> RingActivity { session.withDevice { $0.service(queue: 1) } }

  /// The guest's memory as it is now.
  var image: [UInt8] { Array(UnsafeRawBufferPointer(start: memory, count: 0x3000)) }
}

/// GET_VRING_BASE's number.
func ringBase(_ outcome: SessionOutcome) -> UInt32? {
  guard case .reply(let bytes) = outcome, bytes.count == 20 else { return nil }
  return bytes.littleEndian(at: 16, as: UInt32.self)
}

/// A zeroed, 8-aligned buffer for a resume record (the server maps a file).
final class RecordBytes {
  let bytes: UnsafeMutableRawBufferPointer
  init(queueCount: Int = 2, filler: UInt8 = 0) {
    bytes = .allocate(byteCount: RingResumeRecord.byteCount(queueCount: queueCount), alignment: 8)
    bytes.initializeMemory(as: UInt8.self, repeating: filler)
  }
  deinit { bytes.deallocate() }
  func record(queueCount: Int = 2) -> RingResumeRecord? {
    RingResumeRecord(bytes: bytes, queueCount: queueCount)
  }
}

@Suite struct PackedRingSessionTests {
  @Test func packedRingsAreOfferedAndServed() throws {
    let f = try PackedRingFixture(record: nil, base: 0x8000_8000)
    #expect(f.session.offeredFeatures & VirtqueueFeatures.ringPacked.rawValue != 0)
    let q = try #require(f.queue)
    #expect(f.session.rings[1].isRunning && !q.isBroken)
    for slot in 0..<3 { f.offer(slot: slot, id: UInt16(10 + slot), wrap: true) }
    let activity = f.service()
    #expect(activity.didWork && activity.interrupts == 1 << 1)
    #expect(f.sink.chains == 3)
    // §2.8.7: each slot handed back with AVAIL = USED = the used wrap
    // counter (1 in the first lap), its buffer id kept.
    #expect(f.flags(slot: 0) & 0x8080 == 0x8080 && f.flags(slot: 2) & 0x8080 == 0x8080)
    #expect(UInt16(littleEndian: (f.memory + 2 * 16 + 12).load(as: UInt16.self)) == 12)
  }

  /// vhost-user.rst: SET_VRING_BASE for a packed ring carries the next
  /// available slot in bits 0–14 and the driver wrap counter in bit 15
  /// (the used half in bits 16–31); GET_VRING_BASE answers the same way.
  @Test func vringBaseCarriesSlotAndWrapCounterBothWays() throws {
    // Slot 5, wrap counter 1; slot 5 of a fresh ring is not used yet.
    let f = try PackedRingFixture(record: nil, base: 0x8005_8005)
    let q = try #require(f.queue)
    #expect(q.lastAvailIndex == 5 && q.availWrapCounter && q.usedIndex == 5 && !q.isBroken)
    // Slots 5..15, then 0 in the next lap: the device's counters flip.
    for slot in 5..<16 { f.offer(slot: slot, id: UInt16(slot), wrap: true) }
    f.offer(slot: 0, id: 0, wrap: false)
    _ = f.service()
    #expect(f.sink.chains == 12)
    #expect(q.lastAvailIndex == 1 && !q.availWrapCounter)
    // Slot 1, wrap counter 0, in both halves.
    #expect(ringBase(f.session.send(.getVringBase(index: 1))) == 0x0001_0001)
    #expect(!f.session.rings[1].isRunning)
  }

  @Test func aBaseBeyondTheRingIsRefused() throws {
    let f = try PackedRingFixture(record: nil, base: 0x8000 | 20)
    #expect(!f.session.rings[1].isRunning)
    #expect(f.session.counters.lastError == .invalidRingBase(queue: 1, base: 0x8000 | 20))
  }

  /// A wrap counter that contradicts the ring (0 on a ring whose slot 0
  /// reads as used in lap 0): the queue starts broken, pops nothing, and
  /// the session goes on serving.
  @Test func aBogusWrapCounterLeavesTheQueueBrokenNotTheSession() throws {
    let f = try PackedRingFixture(record: nil, base: 0)
    let q = try #require(f.queue)
    #expect(q.isBroken && q.counters.inconsistentStarts == 1)
    // What the server logs.
    #expect(f.session.device.brokenReason(queue: 1)?.contains("already used in this lap") == true)
    #expect(f.session.device.brokenReason(queue: 0) == nil)
    f.offer(slot: 0, id: 1, wrap: true)
    #expect(!f.service().didWork && f.sink.chains == 0)
    #expect(replyValue(f.session.send(.getQueueNum)) == 2)
  }

  /// The parts SET_VRING_ADDR names are the descriptor ring and the two
  /// 4-byte event suppression structures (§2.8.10): a device event word
  /// in the region's last 4 bytes fits (a split used ring there would not).
  @Test func addressesAreTheEventSuppressionStructures() throws {
    var host = MemoryHost()
    host.fileSizes[10] = 0x10000
    let s = VhostUserSession(device: VirtioDeviceAdapter(SinkDevice()), host: host)
    _ = s.send(.setFeatures(VirtqueueFeatures.version1.rawValue | VirtqueueFeatures.ringPacked.rawValue))
    _ = s.send(
      .setMemoryTable([MemoryRegionDescription(guestAddress: 0, size: 0x10000, userAddress: 0x1000_0000)]),
      fds: [10])
    _ = s.send(.setVringNum(VringState(index: 1, number: 16)))
    _ = s.send(.setVringBase(VringState(index: 1, number: 0x8000)))
    _ = s.send(
      .setVringAddress(
        VringAddress(
          index: 1, descriptorTable: 0x1000_0000, usedRing: 0x1000_FFFC, availableRing: 0x1000_1000)))
    _ = s.send(.setVringKick(VringFileRequest(index: 1, hasFD: false)))
    #expect(s.rings[1].isRunning)
    // Misaligned driver event structure (§2.8.10.1: 4-aligned).
    _ = s.send(
      .setVringAddress(
        VringAddress(
          index: 1, descriptorTable: 0x1000_0000, usedRing: 0x1000_2000, availableRing: 0x1000_1002)))
    #expect(!s.rings[1].isRunning && s.counters.lastError == .ringOutsideMemory(queue: 1))
  }

  /// §2.8.10: the device's own structure says disable (1) while it polls
  /// and enable (0) when it sleeps; the driver's "disable" suppresses
  /// interrupts.
  @Test func eventSuppressionBothWays() throws {
    let f = try PackedRingFixture(record: nil, base: 0x8000_8000)
    let deviceFlags = { UInt16(littleEndian: (f.memory + 0x2002).load(as: UInt16.self)) }
    _ = f.session.withDevice { $0.setNotifications(queue: 1, enabled: false) }
    #expect(deviceFlags() == 1)
    f.offer(slot: 0, id: 0, wrap: true)
    // Buffers waiting: enabling says so, so the server polls once more.
    #expect(f.session.withDevice { $0.setNotifications(queue: 1, enabled: true) })
    #expect(deviceFlags() == 0)
    // The driver disables used-buffer notifications.
    (f.memory + 0x1002).storeBytes(of: UInt16(1).littleEndian, as: UInt16.self)
    let activity = f.service()
    #expect(activity.didWork && activity.interrupts == 0)
    (f.memory + 0x1002).storeBytes(of: UInt16(0).littleEndian, as: UInt16.self)
    f.offer(slot: 1, id: 1, wrap: true)
    #expect(f.service().interrupts == 1 << 1)
  }
}

/// The resume record: a restarted back-end finds where its packed rings
/// were, whatever stale base the front-end sends, and ignores a record
/// that is corrupt, names another ring, or that the ring contradicts.
@Suite struct RingResumeRecordTests {
  @Test func aRestartedBackEndResumesFromTheRecordNotTheStaleBase() throws {
    // A corrupt file: the record is rewritten with nothing live.
    let bytes = RecordBytes(filler: 0xA5)
    let first = try PackedRingFixture(record: bytes.record(), base: 0x8000_8000)
    #expect(first.session.counters.ringsResumedFromRecord == 0)
    for slot in 0..<3 { first.offer(slot: slot, id: UInt16(slot), wrap: true) }
    _ = first.service()
    #expect(first.sink.chains == 3)
    let kept = try #require(bytes.record()?.position(queue: 1, for: PackedRingFixture.identity))
    #expect(kept == PackedRingPosition(usedIndex: 3, usedWrapCounter: true, lastSlots: 1))

    // The back-end is killed (nothing runs on close) and started again:
    // QEMU sends the base it set at the first start (slot 0, wrap 1).
    let second = try PackedRingFixture(record: bytes.record(), base: 0x8000_8000, image: first.image)
    let q = try #require(second.queue)
    #expect(second.session.counters.ringsResumedFromRecord == 1)
    #expect(q.lastAvailIndex == 3 && q.availWrapCounter && !q.isBroken)
    second.offer(slot: 3, id: 7, wrap: true)
    _ = second.service()
    #expect(second.sink.chains == 1 && second.flags(slot: 3) & 0x8080 == 0x8080)
    #expect(ringBase(second.session.send(.getVringBase(index: 1))) == 0x8004_8004)
    // A clean stop hands the position to the front-end: the entry is gone.
    #expect(bytes.record()?.position(queue: 1, for: PackedRingFixture.identity) == nil)
  }

  @Test func withoutARecordTheStaleBaseLeavesTheQueueBroken() throws {
    let first = try PackedRingFixture(record: nil, base: 0x8000_8000)
    for slot in 0..<3 { first.offer(slot: slot, id: UInt16(slot), wrap: true) }
    _ = first.service()
    let second = try PackedRingFixture(record: nil, base: 0x8000_8000, image: first.image)
    let q = try #require(second.queue)
    // Slot 0 is already used in lap 1: serving from it would hand the
    // driver ids it does not have in flight.
    #expect(q.isBroken && q.counters.inconsistentStarts == 1)
  }

  @Test func anEntryForAnotherRingIsIgnored() throws {
    let bytes = RecordBytes()
    let record = try #require(bytes.record())
    let other = RingResumeRecord.Identity(descriptorRing: 0x1000_4000, deviceEvent: 0x1000_2000, size: 16)
    record.claim(queue: 1, for: other, at: PackedRingPosition(usedIndex: 9, usedWrapCounter: true))
    let f = try PackedRingFixture(record: bytes.record(), base: 0x8000_8000)
    #expect(f.queue?.lastAvailIndex == 0)
    #expect(f.session.counters.ringsResumedFromRecord == 0 && f.session.counters.resumeRecordsRejected == 0)
  }

  /// A live entry naming this ring, but the ring was set up afresh while
  /// the back-end was away (its last used slot is not marked used): the
  /// entry is rejected, counted, and the front-end's base is used.
  @Test func anEntryTheRingContradictsIsRejected() throws {
    let bytes = RecordBytes()
    let record = try #require(bytes.record())
    record.claim(
      queue: 1, for: PackedRingFixture.identity,
      at: PackedRingPosition(usedIndex: 4, usedWrapCounter: true, lastSlots: 1))
    let f = try PackedRingFixture(record: bytes.record(), base: 0x8000_8000)
    #expect(f.session.counters.resumeRecordsRejected == 1)
    #expect(f.queue?.lastAvailIndex == 0 && f.queue?.isBroken == false)
  }

  @Test func aResetClearsTheRecord() throws {
    let bytes = RecordBytes()
    let f = try PackedRingFixture(record: bytes.record(), base: 0x8000_8000)
    #expect(bytes.record()?.position(queue: 1, for: PackedRingFixture.identity) != nil)
    _ = f.session.send(.setStatus(0))
    #expect(bytes.record()?.position(queue: 1, for: PackedRingFixture.identity) == nil)
  }

  @Test func positionWordsRoundTripAndGarbageIsRefused() {
    let p = PackedRingPosition(usedIndex: 300, usedWrapCounter: false, pendingSlots: 2, lastSlots: 3)
    #expect(PackedRingPosition(word: p.word, size: 512) == p)
    #expect(PackedRingPosition(word: p.word, size: 256) == nil)  // slot beyond the ring
    #expect(PackedRingPosition(word: 0, size: 512) == nil)
    #expect(PackedRingPosition(word: p.word & 0xFFFF_FFFF_FFFF, size: 512) == nil)  // no marker
    #expect(RingResumeRecord(bytes: RecordBytes(queueCount: 1).bytes, queueCount: 2) == nil)  // too small
  }

  /// A back-end killed between naming a used write as pending and storing
  /// its new position: the ring says whether the write's flags landed.
  @Test func aPendingWriteCountsOnlyIfItsFlagsLanded() {
    let ring = UnsafeMutableRawPointer.allocate(byteCount: 16 * 8, alignment: 16)
    defer { ring.deallocate() }
    ring.initializeMemory(as: UInt8.self, repeating: 0, count: 16 * 8)
    let setFlags = { (slot: Int, flags: UInt16) in
      (ring + slot * 16 + 14).storeBytes(of: flags.littleEndian, as: UInt16.self)
    }
    // Slots 0 and 1 used in lap 1; slot 2 offered (AVAIL only).
    setFlags(0, 0x8080)
    setFlags(1, 0x8080)
    setFlags(2, 0x0080)
    let pending = PackedRingPosition(usedIndex: 2, usedWrapCounter: true, pendingSlots: 1, lastSlots: 1)
    #expect(
      pending.resolved(ring: ring, size: 8)
        == PackedRingPosition(usedIndex: 2, usedWrapCounter: true, lastSlots: 1))
    setFlags(2, 0x8080)
    #expect(
      pending.resolved(ring: ring, size: 8)
        == PackedRingPosition(usedIndex: 3, usedWrapCounter: true, lastSlots: 1))
    // A stale word (slot 1 is already used in lap 1) is refused.
    #expect(
      PackedRingPosition(usedIndex: 1, usedWrapCounter: true, lastSlots: 1).resolved(ring: ring, size: 8)
        == nil)
  }
}
