import DataPlane
import Testing
import Virtio
import VirtioDriver
import Wire

@testable import VirtioNet

@Suite struct TransmitTests {
  func tsoHeader(_ frame: [UInt8], ipv6: Bool, mss: UInt16) -> VirtioNetHeader {
    var h = VirtioNetHeader()
    h.flags = VirtioNetHeader.needsChecksum
    h.gsoType = ipv6 ? VirtioNetHeader.gsoTCPv6 : VirtioNetHeader.gsoTCPv4
    h.gsoSize = mss
    h.checksumStart = ipv6 ? 54 : 34
    h.checksumOffset = 16
    h.headerLength = h.checksumStart + 32
    return h
  }

  @Test(arguments: [false, true])
  func plainFrame(packed: Bool) throws {
    let f = try NetFixture(packed: packed)
    let frame = TestFrames.tcp(payload: TestFrames.payload(100))
    f.send(VirtioNetHeader(), frame)
    f.send(VirtioNetHeader(), frame, split: false)
    let out = f.transmitAll()
    #expect(out == [frame, frame])
    #expect(f.tx.popUsed() != nil && f.tx.popUsed() != nil)
    #expect(f.device.counters.transmittedPackets == 2)
  }

  /// A guest that set a larger MTU than the device's (the front-end need
  /// not offer VIRTIO_NET_F_MTU): its frames and TSO segments reach the
  /// pipeline, which answers them with ICMP, instead of vanishing here.
  @Test func framesOverTheDeviceMTUGoOnToThePipeline() throws {
    let f = try NetFixture(mtu: 1400)
    let frame = TestFrames.tcp(payload: TestFrames.payload(1448))
    f.send(VirtioNetHeader(), frame)
    let tso = TestFrames.tcp(payload: TestFrames.payload(3 * 1448))
    f.send(tsoHeader(tso, ipv6: false, mss: 1448), tso)
    let out = f.transmitAll()
    #expect(out.count == 4)
    #expect(out.allSatisfy { $0.count == 14 + 20 + 32 + 1448 })
    #expect(f.device.counters.transmitErrors == 0)
    // A buffer is still the limit: a frame larger than one is refused.
    f.send(VirtioNetHeader(), TestFrames.tcp(payload: TestFrames.payload(4000)))
    #expect(f.transmitAll().isEmpty)
    #expect(f.device.counters.transmitErrors == 1)
  }

  @Test(arguments: [false, true])
  func completesPartialChecksum(ipv6: Bool) throws {
    let f = try NetFixture()
    let frame = TestFrames.tcp(ipv6: ipv6, payload: TestFrames.payload(333))
    var h = VirtioNetHeader()
    h.flags = VirtioNetHeader.needsChecksum
    h.checksumStart = ipv6 ? 54 : 34
    h.checksumOffset = 16
    f.send(h, frame)
    let out = f.transmitAll()
    #expect(out.count == 1)
    let segment = try checkSegment(out[0])
    #expect(segment.checksumsValid && segment.payload == TestFrames.payload(333))
    #expect(f.device.counters.checksumsCompleted == 1)
  }

  @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
  func segmentsTSO(ipv6: Bool, packed: Bool) throws {
    let f = try NetFixture(packed: packed)
    let payload = TestFrames.payload(4000)
    let frame = TestFrames.tcp(ipv6: ipv6, payload: payload, sequence: 0xffff_f000, flags: 0x19 | 0x80)
    // The MSS Linux uses at MTU 1500 with timestamps.
    let mss = ipv6 ? 1428 : 1448
    f.send(tsoHeader(frame, ipv6: ipv6, mss: UInt16(mss)), frame)
    let out = f.transmitAll()
    #expect(out.count == 3)
    var joined: [UInt8] = []
    for (i, bytes) in out.enumerated() {
      let s = try checkSegment(bytes)
      #expect(s.checksumsValid)
      #expect(s.sequence == 0xffff_f000 &+ UInt32(i * mss))
      let last = i == out.count - 1
      // FIN and PSH only on the last segment, CWR only on the first.
      #expect((s.flags & 0x01 != 0) == last && (s.flags & 0x08 != 0) == last)
      #expect((s.flags & 0x80 != 0) == (i == 0))
      #expect(s.flags & 0x10 != 0)
      if !ipv6 { #expect(s.identification == UInt16(0x1234 + i)) }
      #expect(s.payload.count == (last ? 4000 - 2 * mss : mss))
      joined += s.payload
    }
    #expect(joined == payload)
    #expect(f.device.counters.segmentsMade == 3)
    #expect(f.tx.popUsed() != nil)
  }

  @Test func resumesASegmentedChainInTheNextBatch() throws {
    let f = try NetFixture()
    let payload = TestFrames.payload(40 * 100)
    let frame = TestFrames.tcp(payload: payload)
    f.send(tsoHeader(frame, ipv6: false, mss: 100), frame)
    var batch = PacketBatch()
    #expect(f.device.transmit(queuePair: 0, into: &batch, pool: f.pool) == 32)
    #expect(f.tx.popUsed() == nil)  // not complete until every segment is out
    var second = PacketBatch()
    #expect(f.device.transmit(queuePair: 0, into: &second, pool: f.pool) == 8)
    #expect(f.tx.popUsed() != nil)
    var joined: [UInt8] = []
    for b in batch.buffers + second.buffers {
      joined += try checkSegment(b.bytes).payload
      f.pool.give(b)
    }
    #expect(joined == payload)
  }

  @Test func hostileHeadersAreCountedAndDropped() throws {
    let f = try NetFixture(features: [.checksum, .hostTSO4, .controlQueue, .mergeableReceiveBuffers])
    let frame = TestFrames.tcp(payload: TestFrames.payload(3000))
    // Header shorter than 12 bytes.
    f.tx.add([.readable(f.place([1, 2, 3]), 3)])
    // Frame shorter than Ethernet.
    f.send(VirtioNetHeader(), [1, 2, 3])
    // TSO over IPv6 was not negotiated.
    f.send(tsoHeader(frame, ipv6: true, mss: 1000), frame)
    // UDP fragmentation offload is never offered.
    var ufo = tsoHeader(frame, ipv6: false, mss: 1000)
    ufo.gsoType = VirtioNetHeader.gsoUDP
    f.send(ufo, frame)
    // ECN without HOST_ECN.
    var ecn = tsoHeader(frame, ipv6: false, mss: 1000)
    ecn.gsoType |= VirtioNetHeader.gsoECN
    f.send(ecn, frame)
    // gso_size zero, and one that cannot fit a buffer.
    f.send(tsoHeader(frame, ipv6: false, mss: 0), frame)
    f.send(tsoHeader(frame, ipv6: false, mss: 9000), frame)
    // Too many segments.
    f.send(tsoHeader(frame, ipv6: false, mss: 1), frame)
    // TSO with headers that are not TCP/IPv4.
    f.send(
      tsoHeader(frame, ipv6: false, mss: 1000), TestFrames.tcp(ipv6: true, payload: TestFrames.payload(3000)))
    // A checksum field past the end.
    var h = VirtioNetHeader()
    h.flags = VirtioNetHeader.needsChecksum
    h.checksumStart = 60000
    h.checksumOffset = 16
    f.send(h, frame)
    // A non-TSO frame over the MTU.
    f.send(VirtioNetHeader(), frame)
    // A good one still goes through.
    let good = TestFrames.tcp(payload: TestFrames.payload(10))
    f.send(VirtioNetHeader(), good)
    let out = f.transmitAll()
    #expect(out == [good])
    #expect(f.device.counters.transmitErrors == 11)
    var returned = 0
    while f.tx.popUsed() != nil { returned += 1 }
    #expect(returned == 12)
  }
}
