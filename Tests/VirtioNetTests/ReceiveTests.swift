import DataPlane
import Testing
import Virtio
import VirtioDriver
import Wire

@testable import VirtioNet

@Suite struct ReceiveTests {
  @Test(arguments: [false, true])
  func mergeableBuffersAcrossSeveralChains(packed: Bool) throws {
    let f = try NetFixture(packed: packed)
    var buffers: [UInt64] = []
    for _ in 0..<8 {
      let a = f.reserve(512)
      buffers.append(a)
      f.rx.add([.writable(a, 512)])
    }
    let frame = TestFrames.complete(TestFrames.tcp(payload: TestFrames.payload(1400)))  // 1466 bytes
    let b = f.batch([frame])
    #expect(f.device.receive(b, queuePair: 0) == 1)
    // 12 + 1466 = 1478 bytes: three 512-byte buffers.
    var used: [UsedBuffer] = []
    while let u = f.rx.popUsed() { used.append(u) }
    #expect(used.map(\.length) == [512, 512, 454])
    let header = f.read(buffers[0], 12).withUnsafeBytes { VirtioNetHeader($0.baseAddress!) }
    #expect(header.bufferCount == 3)
    #expect(header.flags == VirtioNetHeader.dataValid)  // the card verified the TCP checksum
    let delivered = f.read(buffers[0], 512) + f.read(buffers[1], 512) + f.read(buffers[2], 454)
    #expect(Array(delivered[12...]) == frame)
    #expect(f.device.counters.receivedPackets == 1)
    #expect(f.device.takeNotifications().contains(0))
  }

  @Test func noDataValidForABadChecksum() throws {
    let f = try NetFixture()
    let a = f.reserve(2048)
    f.rx.add([.writable(a, 2048)])
    var frame = TestFrames.complete(TestFrames.tcp(payload: TestFrames.payload(20)))
    frame[frame.count - 1] ^= 0xff
    #expect(f.device.receive(f.batch([frame]), queuePair: 0) == 1)
    let header = f.read(a, 12).withUnsafeBytes { VirtioNetHeader($0.baseAddress!) }
    #expect(header.flags == 0 && header.bufferCount == 1)
  }

  @Test func runsOutOfGuestBuffers() throws {
    let f = try NetFixture()
    f.rx.add([.writable(f.reserve(1024), 1024)])
    let frame = TestFrames.tcp(payload: TestFrames.payload(1400))
    // Needs two buffers, the guest has one: nothing delivered, the buffer kept.
    #expect(f.device.receive(f.batch([frame]), queuePair: 0) == 0)
    #expect(f.device.counters.receiveNoBuffers == 1)
    #expect(f.rx.popUsed() == nil)
    f.rx.add([.writable(f.reserve(1024), 1024)])
    #expect(f.device.receive(f.batch([frame]), queuePair: 0) == 1)
  }

  @Test func withoutMergeableBuffersOneChainMustHoldThePacket() throws {
    let f = try NetFixture(features: [.checksum, .controlQueue])
    f.rx.add([.writable(f.reserve(100), 100)])
    f.rx.add([.writable(f.reserve(1000), 500), .writable(f.reserve(1500), 1500)])
    let frame = TestFrames.tcp(payload: TestFrames.payload(1400))
    #expect(f.device.receive(f.batch([frame]), queuePair: 0) == 1)
    #expect(f.device.counters.receiveTooLong == 1 && f.device.counters.receivedPackets == 0)
    // The small chain went back and is used for the next packet that fits.
    let small = TestFrames.tcp(payload: TestFrames.payload(10))
    #expect(f.device.receive(f.batch([small]), queuePair: 0) == 1)
    #expect(f.rx.popUsed()?.length == UInt32(12 + small.count))
  }
}

@Suite struct ControlAndConfigTests {
  func command(_ f: NetFixture, _ bytes: [UInt8]) -> UInt8? { f.command(bytes) }

  @Test(arguments: [false, true])
  func controlCommands(packed: Bool) throws {
    let f = try NetFixture(packed: packed)
    #expect(command(f, [4, 0, 2, 0]) == 0)  // MQ VQ_PAIRS_SET 2
    #expect(f.device.state.activeQueuePairs == 2)
    #expect(command(f, [4, 0, 3, 0]) == 1)  // more than offered
    #expect(command(f, [4, 0, 0, 0]) == 1)
    #expect(command(f, [4, 0, 2]) == 1)  // short
    #expect(command(f, [0, 0, 1]) == 0)  // promiscuous on
    #expect(f.device.state.isPromiscuous)
    #expect(command(f, [0, 9, 1]) == 1)  // no such RX command
    #expect(command(f, [1, 1, 2, 0, 0, 0, 0, 9]) == 0)  // MAC_ADDR_SET
    #expect(f.device.state.mac == MACAddress(2, 0, 0, 0, 0, 9))
    let table: [UInt8] = [1, 0, 1, 0, 0, 0] + [2, 0, 0, 0, 0, 1] + [0, 0, 0, 0]
    #expect(command(f, table) == 0)  // MAC_TABLE_SET: one unicast, no multicast
    #expect(command(f, Array(table.dropLast())) == 1)
    #expect(command(f, [1, 0, 0xff, 0xff, 0xff, 0xff]) == 1)
    #expect(command(f, [2, 0, 1, 0]) == 1)  // VLAN filtering not offered
    #expect(f.device.counters.controlErrors == 7)
  }

  @Test func negotiation() throws {
    let device = VirtioNetDevice(configuration: VirtioNetConfiguration(mac: NetFixture.mac))
    let offered = VirtioNetFeatures(rawValue: device.offeredFeatures)
    #expect(
      offered.isSuperset(of: [.multiqueue, .controlQueue, .mergeableReceiveBuffers, .hostTSO4, .mtu, .mac]))
    #expect(
      VirtqueueFeatures(rawValue: device.offeredFeatures).isSuperset(of: [
        .version1, .ringPacked, .eventIndex,
      ]))
    let v1 = VirtqueueFeatures.version1.rawValue
    #expect(throws: VirtioDeviceError.self) { try device.acceptFeatures(VirtioNetFeatures.mac.rawValue) }
    #expect(throws: VirtioDeviceError.self) {
      try device.acceptFeatures(VirtioNetFeatures.hostTSO4.rawValue | v1)
    }
    #expect(throws: VirtioDeviceError.self) {
      try device.acceptFeatures(VirtioNetFeatures.multiqueue.rawValue | v1)
    }
    #expect(throws: VirtioDeviceError.self) { try device.acceptFeatures(1 << 40 | v1) }
    try device.acceptFeatures(VirtioNetFeatures([.checksum, .hostTSO4]).rawValue | v1)
    let single = VirtioNetDevice(configuration: VirtioNetConfiguration(mac: NetFixture.mac, queuePairs: 1))
    #expect(!VirtioNetFeatures(rawValue: single.offeredFeatures).contains(.multiqueue))
  }

  @Test func configSpace() throws {
    let device = VirtioNetDevice(
      configuration: VirtioNetConfiguration(mac: NetFixture.mac, mtu: 9000, queuePairs: 4))
    var config = [UInt8](repeating: 0, count: 12)
    try config.withUnsafeMutableBytes { try device.readConfig(offset: 0, into: $0) }
    #expect(config == [0x52, 0x54, 0, 0x12, 0x34, 0x56, 1, 0, 4, 0, 0x28, 0x23])
    var tail = [UInt8](repeating: 0, count: 2)
    try tail.withUnsafeMutableBytes { try device.readConfig(offset: 10, into: $0) }
    #expect(tail == [0x28, 0x23])
    #expect(throws: VirtioDeviceError.configAccessOutOfRange(offset: 11, count: 2)) {
      try tail.withUnsafeMutableBytes { try device.readConfig(offset: 11, into: $0) }
    }
    #expect(throws: VirtioDeviceError.self) {
      try tail.withUnsafeBytes { try device.writeConfig(offset: 0, from: $0) }
    }
  }

  @Test func brokenQueueSetsNeedsReset() throws {
    let f = try NetFixture()
    guard case .split(let driver) = f.tx else { return }
    driver.setAvailableIndex(500)
    #expect(f.transmitAll().isEmpty)
    #expect(f.device.status.contains(.needsReset))
    // The control queue still answers.
    #expect(command(f, [4, 0, 1, 0]) == 0)
  }
}
