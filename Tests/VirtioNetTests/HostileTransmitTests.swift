import DataPlane
import Testing
import Virtio
import VirtioDriver
import Wire

@testable import VirtioNet

/// Guest-made TX chains the device must survive: each is dropped with a
/// typed error and counted, and the queue keeps serving.
@Suite struct HostileTransmitTests {
  func tsoHeader(mss: UInt16, headerLength: UInt16) -> VirtioNetHeader {
    var h = VirtioNetHeader()
    h.flags = VirtioNetHeader.needsChecksum
    h.gsoType = VirtioNetHeader.gsoTCPv4
    h.gsoSize = mss
    h.checksumStart = 34
    h.checksumOffset = 16
    h.headerLength = headerLength
    return h
  }

  /// virtio 1.2 §5.1.6.2.2: without GUEST_HDRLEN, hdr_len is only a hint;
  /// the device finds the headers itself, so a wild hdr_len changes nothing.
  @Test(arguments: [UInt16(0), 7, 60_000])
  func headerLengthIsOnlyAHint(headerLength: UInt16) throws {
    let f = try NetFixture()
    let payload = TestFrames.payload(2500)
    let frame = TestFrames.tcp(payload: payload)
    f.send(tsoHeader(mss: 1000, headerLength: headerLength), frame)
    let out = f.transmitAll()
    #expect(out.count == 3)
    var joined: [UInt8] = []
    for segment in out { joined += try checkSegment(segment).payload }
    #expect(joined == payload)
    #expect(f.device.counters.transmitErrors == 0)
  }

  @Test(arguments: [false, true])
  func chainsTooShortOrWriteOnly(packed: Bool) throws {
    let f = try NetFixture(packed: packed)
    // Only a writable buffer: nothing to read, not even a header.
    f.tx.add([.writable(f.reserve(64), 64)])
    // A header split over descriptors but 11 bytes in all.
    f.tx.add([.readable(f.place([0, 0, 0, 0, 0]), 5), .readable(f.place([0, 0, 0, 0, 0, 0]), 6)])
    // A header and no frame.
    f.tx.add([.readable(f.place([UInt8](repeating: 0, count: 12)), 12)])
    // A header and 13 bytes of frame.
    f.send(VirtioNetHeader(), [UInt8](repeating: 0xaa, count: 13))
    // A zero-length descriptor: the queue drops the chain and counts it.
    f.tx.add([.readable(f.reserve(1), 0), .readable(f.place([UInt8](repeating: 0, count: 80)), 80)])
    // A good packet whose header and frame are cut across three descriptors.
    let good = TestFrames.tcp(payload: TestFrames.payload(20))
    var header = [UInt8](repeating: 0, count: VirtioNetHeader.size)
    header.withUnsafeMutableBytes { VirtioNetHeader().write(to: $0.baseAddress!) }
    f.tx.add([
      .readable(f.place(Array(header[0..<4])), 4),
      .readable(f.place(Array(header[4...]) + Array(good[0..<10])), 18),
      .readable(f.place(Array(good[10...])), UInt32(good.count - 10)),
    ])
    let out = f.transmitAll()
    #expect(out == [good])
    #expect(f.device.counters.transmitErrors == 4)
    #expect(f.device.queueCounters(1)?.zeroLengthDescriptors == 1)
    var returned = 0
    while f.tx.popUsed() != nil { returned += 1 }
    #expect(returned == 6)
  }

  @Test func badChecksumFieldsAreRefused() throws {
    let f = try NetFixture()
    let frame = TestFrames.tcp(payload: TestFrames.payload(40))
    // The checksum field would straddle the frame's last byte.
    var straddling = VirtioNetHeader()
    straddling.flags = VirtioNetHeader.needsChecksum
    straddling.checksumStart = UInt16(frame.count - 1)
    straddling.checksumOffset = 0
    f.send(straddling, frame)
    // csum_offset past the end from a start inside the frame.
    var past = VirtioNetHeader()
    past.flags = VirtioNetHeader.needsChecksum
    past.checksumStart = 34
    past.checksumOffset = UInt16.max
    f.send(past, frame)
    #expect(f.transmitAll().isEmpty)
    #expect(f.device.counters.transmitErrors == 2)
    if case .checksumOffsetOutOfRange = f.device.counters.lastTransmitError {
    } else {
      Issue.record(
        "expected checksumOffsetOutOfRange, got \(String(describing: f.device.counters.lastTransmitError))")
    }
  }
}

/// MQ (virtio 1.2 §5.1.6.5.5): only the first pair runs until the driver
/// sets more with VQ_PAIRS_SET on the control queue.
@Suite struct MultiqueueTests {
  @Test(arguments: [false, true])
  func secondPairServesAfterPairsSet(packed: Bool) throws {
    let f = try NetFixture(packed: packed)
    let tx1 = try f.activateSecondPair().tx
    let frame = TestFrames.tcp(payload: TestFrames.payload(64))
    var h = [UInt8](repeating: 0, count: VirtioNetHeader.size)
    h.withUnsafeMutableBytes { VirtioNetHeader().write(to: $0.baseAddress!) }
    tx1.add([.readable(f.place(h + frame), UInt32(h.count + frame.count))])

    var batch = PacketBatch()
    #expect(f.device.transmit(queuePair: 1, into: &batch, pool: f.pool) == 0)

    #expect(f.command([4, 0, 2, 0]) == 0)

    #expect(f.device.transmit(queuePair: 1, into: &batch, pool: f.pool) == 1)
    #expect(batch.buffers.map(\.bytes) == [frame])
    #expect(tx1.popUsed() != nil)
    for b in batch.buffers { f.pool.give(b) }
  }
}
