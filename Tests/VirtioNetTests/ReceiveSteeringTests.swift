import DataPlane
import Testing
import Virtio
import VirtioDriver
import Wire

@testable import VirtioNet

/// Receive steering over queue pairs: one flow, one queue; flows spread
/// over the pairs the driver enabled; what is not IP, too short or a
/// fragment is steered without ports; and the device delivers each frame
/// on its pair, delivered frames first.
@Suite struct ReceiveSteeringTests {
  static func frame(port: Int, ipv6: Bool = false) -> [UInt8] {
    var f = TestFrames.complete(TestFrames.tcp(ipv6: ipv6, payload: [1, 2, 3]), ipv6: ipv6)
    let l4 = ipv6 ? 54 : 34
    f[l4] = UInt8(port >> 8)
    f[l4 + 1] = UInt8(port & 0xFF)
    return f
  }

  static func pair(_ frame: [UInt8], length: Int? = nil, pairs: Int = 2) -> Int {
    frame.withUnsafeBytes {
      ReceiveSteering.queuePair(frame: $0.baseAddress!, length: length ?? frame.count, pairs: pairs)
    }
  }

  @Test(arguments: [false, true])
  func oneFlowOneQueueAndFlowsSpread(ipv6: Bool) {
    var seen = Set<Int>()
    for port in 1000..<1064 {
      let q = Self.pair(Self.frame(port: port, ipv6: ipv6))
      #expect(q == Self.pair(Self.frame(port: port, ipv6: ipv6)))
      #expect((0..<2).contains(q))
      seen.insert(q)
      #expect((0..<4).contains(Self.pair(Self.frame(port: port, ipv6: ipv6), pairs: 4)))
    }
    #expect(seen == [0, 1], "64 flows over 2 pairs use both")
    #expect(Self.pair(Self.frame(port: 1000, ipv6: ipv6), pairs: 1) == 0)
  }

  @Test func notIPShortOrFragmentedFramesAreSteeredWithoutPorts() {
    var arp = Self.frame(port: 1)
    arp[12] = 0x08
    arp[13] = 0x06
    #expect(Self.pair(arp, pairs: 8) == 0)
    // Cut short: inside the Ethernet header, inside the IPv4 header.
    #expect(Self.pair(Self.frame(port: 7), length: 13, pairs: 8) == 0)
    #expect(Self.pair(Self.frame(port: 7), length: 30, pairs: 8) == 0)
    #expect(Self.pair(Self.frame(port: 7, ipv6: true), length: 50, pairs: 8) == 0)
    // A fragment (MF set): its "ports" are payload, not looked at.
    var counts = Set<Int>()
    for port in 0..<32 {
      var f = Self.frame(port: port)
      f[20] = 0x20
      counts.insert(Self.pair(f, pairs: 8))
    }
    #expect(counts.count == 1)
  }

  @Test(arguments: [false, true])
  func theDeviceDeliversEachFrameOnItsFlowsPair(packed: Bool) throws {
    let f = try NetFixture(packed: packed)
    let rx1 = try f.activateSecondPair().rx
    #expect(f.command([4, 0, 2, 0]) == 0)  // VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET 2 (§5.1.6.5.5)
    #expect(f.device.state.activeQueuePairs == 2)

    let frames = (2000..<2016).map { Self.frame(port: $0) }
    let expected = frames.map { Self.pair($0) }
    #expect(Set(expected) == [0, 1])
    // Exactly one buffer per frame on each queue: none is left over.
    for (queue, driver) in [(0, f.rx), (1, rx1)] {
      for e in expected where e == queue { driver.add([.writable(f.reserve(2048), 2048)]) }
    }
    var batch = f.batch(frames)
    #expect(f.device.receiveSteered(&batch) == frames.count)
    #expect(batch.count == frames.count)
    var onQueue0 = 0
    var onQueue1 = 0
    while f.rx.popUsed() != nil { onQueue0 += 1 }
    while rx1.popUsed() != nil { onQueue1 += 1 }
    #expect(onQueue0 == expected.filter { $0 == 0 }.count)
    #expect(onQueue1 == expected.filter { $0 == 1 }.count)
    let notified = f.device.takeNotifications()
    #expect(notified.contains(0) && notified.contains(2))
    for b in batch.buffers { f.pool.give(b) }

    // No buffers left on queue 1: its flows are not delivered, and come
    // after the delivered frames, in their order.
    for _ in 0..<16 { f.rx.add([.writable(f.reserve(2048), 2048)]) }
    batch = f.batch(frames)
    let delivered = f.device.receiveSteered(&batch)
    #expect(delivered == expected.filter { $0 == 0 }.count)
    #expect(batch.count == frames.count)
    let rest = batch.buffers[delivered...].map { Self.pair($0.bytes) }
    #expect(rest.allSatisfy { $0 == 1 })
    #expect(batch.buffers[delivered...].map(\.bytes) == frames.filter { Self.pair($0) == 1 })
    for b in batch.buffers { f.pool.give(b) }
  }
}
