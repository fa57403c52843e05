import DataPlane
import Foundation
import Platform
import Ports
import Testing

/// Whole bursts through AF_PACKET ports on a veth pair with no addresses
/// (`a0` <-> `b0`, inside the namespace `AFPacketPortTests.Namespace`
/// makes): the port under test on `a0` in copy mode, its peer on `b0`
/// (rings where the kernel has them, so that each mode checks the other).
/// Frames carry the local experimental EtherType 0x88B5 and a sequence
/// number; nothing else crosses the pair (IPv6 is off in the namespace).
@Suite(.serialized) struct AFPacketBurstTests {
  static let etherType: [UInt8] = [0x88, 0xB5]

  /// Frame `sequence` of `length` bytes: to b0's side from a0's, a
  /// two-byte sequence number, then a pattern that depends on both.
  static func frame(_ sequence: Int, length: Int) -> [UInt8] {
    var f = [UInt8](repeating: 0, count: length)
    f[0..<6] = [0x02, 0, 0, 0, 0xB0, 0][...]
    f[6..<12] = [0x02, 0, 0, 0, 0xA0, 0][...]
    f[12..<14] = etherType[...]
    f[14] = UInt8(sequence >> 8)
    f[15] = UInt8(sequence & 0xFF)
    for i in 16..<length { f[i] = UInt8(truncatingIfNeeded: i &* 7 &+ sequence) }
    return f
  }

  /// Lengths from the Ethernet minimum to a full 1500-byte MTU frame.
  static func length(_ sequence: Int) -> Int { 60 + (sequence * 97) % (1514 - 60 + 1) }

  static func pair(_ ns: AFPacketPortTests.Namespace) throws {
    try ns.inside("ip link add a0 type veth peer name b0")
    try ns.inside("ip link set a0 up")
    try ns.inside("ip link set b0 up")
  }

  /// Sends `frames` as one burst; returns what `transmit` said.
  static func send(_ frames: [[UInt8]], through port: AFPacketPort, pool: PacketPool) -> Int {
    var batch = PacketBatch()
    for f in frames {
      var buffer = pool.take()!
      #expect(f.withUnsafeBytes { buffer.load($0, headroom: pool.headroom) })
      batch.append(buffer)
    }
    let sent = port.transmit(&batch, pool: pool)
    #expect(batch.count == 0)
    return sent
  }

  /// Receives test frames until `count` have arrived or 5 s pass, sleeping
  /// in epoll on the port's descriptor between bursts (so the port's wake
  /// descriptor is tested too). Buffers go back to the pool unless `keep`.
  static func receive(
    _ count: Int, from port: AFPacketPort, pool: PacketPool, keep: Bool = false,
    until done: (() -> Bool)? = nil
  ) throws -> [[UInt8]] {
    let epoll = try Epoll()
    defer { try? epoll.close() }
    try epoll.add(port.wakeDescriptor!, events: .readable, token: 0)
    let deadline = MonotonicClock.nanoseconds + 5_000_000_000
    var frames: [[UInt8]] = []
    var batch = PacketBatch()
    while frames.count < count, done?() != true, MonotonicClock.nanoseconds < deadline {
      if port.receive(into: &batch, pool: pool) == 0, !port.prepareToSleep() {
        _ = try epoll.wait(timeoutMilliseconds: 100) { _ in }
        continue
      }
      for i in 0..<batch.count {
        let bytes = batch[i].bytes
        #expect(batch[i].inputPort == port.number)
        if bytes.count >= 14, Array(bytes[12..<14]) == etherType { frames.append(bytes) }
        if !keep { pool.give(batch[i]) }
      }
      batch.removeAll()
    }
    return frames
  }

  @Test(.enabled(if: AFPacketPortTests.canRun, "needs root and iproute2"))
  func aBurstGoesOutAndABurstComesInWithTheirBytesAndCounters() throws {
    let ns = try AFPacketPortTests.Namespace()
    try Self.pair(ns)
    let pool = PacketPool(bufferCount: 512)
    let port = try ns.openPort("a0", number: 3, mode: .copy)
    let peer = try ns.openPort("b0", number: 4)
    #expect(port.mode == .copy)

    let outbound = (0..<PacketBatch.capacity).map { Self.frame($0, length: Self.length($0)) }
    #expect(Self.send(outbound, through: port, pool: pool) == outbound.count)
    let atPeer = try Self.receive(outbound.count, from: peer, pool: pool)
    #expect(atPeer == outbound)

    let inbound = (100..<100 + PacketBatch.capacity).map { Self.frame($0, length: Self.length($0)) }
    #expect(Self.send(inbound, through: peer, pool: pool) == inbound.count)
    let atPort = try Self.receive(inbound.count, from: port, pool: pool)
    #expect(atPort == inbound)

    let s = port.statistics
    #expect(s.transmittedPackets == UInt64(outbound.count))
    #expect(s.transmittedBytes == UInt64(outbound.reduce(0) { $0 + $1.count }))
    #expect(s.receivedPackets == UInt64(inbound.count))
    #expect(s.receivedBytes == UInt64(inbound.reduce(0) { $0 + $1.count }))
    #expect(s.totalDrops == 0 && s.deviceDrops == 0)
    #expect(pool.availableCount == 512)
  }

  @Test(.enabled(if: AFPacketPortTests.canRun, "needs root and iproute2"))
  func framesLargerThanABufferOrTheMTUAreCountedNotSent() throws {
    let ns = try AFPacketPortTests.Namespace()
    try Self.pair(ns)
    // 512 bytes behind the headroom: a 1000-byte frame does not fit.
    let small = PacketPool(bufferCount: 64, bufferSize: PacketPool.defaultHeadroom + 512)
    let pool = PacketPool(bufferCount: 64)
    let port = try ns.openPort("a0", number: 3, mode: .copy)
    let peer = try ns.openPort("b0", number: 4, mode: .copy)

    #expect(
      Self.send([Self.frame(1, length: 1000), Self.frame(2, length: 100)], through: peer, pool: pool) == 2)
    let received = try Self.receive(1, from: port, pool: small) { port.statistics.drops(.oversize) >= 1 }
    #expect(received.map { $0.count } == [100] || received.isEmpty)
    #expect(port.statistics.drops(.oversize) == 1)

    // Over the veth's 1500-byte MTU: the kernel refuses that one frame
    // (EMSGSIZE) and the rest of the burst still goes.
    let burst = [Self.frame(3, length: 1600), Self.frame(4, length: 200)]
    #expect(Self.send(burst, through: port, pool: pool) == 1)
    #expect(port.statistics.drops(.transmitError) == 1)
    #expect(try Self.receive(1, from: peer, pool: pool) == [Self.frame(4, length: 200)])
    #expect(small.availableCount == 64 && pool.availableCount == 64)
  }

  @Test(.enabled(if: AFPacketPortTests.canRun, "needs root and iproute2"))
  func anEmptyPoolAndAFullKernelQueueAreCounted() throws {
    let ns = try AFPacketPortTests.Namespace()
    try Self.pair(ns)
    let pool = PacketPool(bufferCount: 512)
    let port = try ns.openPort("a0", number: 3, mode: .copy)
    let peer = try ns.openPort("b0", number: 4, mode: .copy)

    // 10 free buffers for 32 frames: 10 arrive, 22 are read and dropped.
    let scarce = PacketPool(bufferCount: 10)
    let burst = (0..<32).map { Self.frame($0, length: 64) }
    #expect(Self.send(burst, through: peer, pool: pool) == 32)
    let kept = try Self.receive(32, from: port, pool: scarce, keep: true) {
      port.statistics.drops(.noBuffer) >= 22
    }
    #expect(kept == Array(burst[0..<10]))
    #expect(port.statistics.drops(.noBuffer) == 22)
    #expect(scarce.availableCount == 0)

    // Far more than the socket's receive buffer holds while nobody reads:
    // the kernel drops the rest and PACKET_STATISTICS says how many.
    var sent = 0
    for round in 0..<100 {
      let frames = (0..<32).map { Self.frame(round * 32 + $0, length: 1000) }
      sent += Self.send(frames, through: peer, pool: pool)
    }
    #expect(sent == 3200)
    // Drain what the queue kept: until it has been empty for 200 ms.
    let epoll = try Epoll()
    defer { try? epoll.close() }
    try epoll.add(port.wakeDescriptor!, events: .readable, token: 0)
    var drained = 0
    var batch = PacketBatch()
    while true {
      let n = port.receive(into: &batch, pool: pool)
      for i in 0..<batch.count { pool.give(batch[i]) }
      batch.removeAll()
      drained += n
      if n == 0, try epoll.wait(timeoutMilliseconds: 200, { _ in }) == 0 { break }
    }
    let s = port.statistics
    #expect(s.deviceDrops > 0)
    #expect(drained > 0)
    #expect(UInt64(drained) + s.deviceDrops <= UInt64(sent))
  }
}
