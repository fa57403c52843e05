import DataPlane
import Ports
import Testing

@Suite struct RingPortTests {
  @Test func ringKeepsOrderAndRefusesWhenFull() {
    let pool = PacketPool(bufferCount: 16)
    let ring = PacketRing(capacity: 3, pool: pool)
    #expect(ring.capacity == 4)
    var taken: [PacketBuffer] = []
    for _ in 0..<4 {
      let b = pool.take()!
      taken.append(b)
      #expect(ring.push(b))
    }
    let extra = pool.take()!
    #expect(!ring.push(extra))
    #expect(ring.isFull)
    for b in taken { #expect(ring.pop()?.index == b.index) }
    #expect(ring.pop() == nil)
    pool.give(extra)
    for b in taken { pool.give(b) }
    #expect(pool.availableCount == 16)
  }

  @Test func receiveStampsThePortAndTransmitMovesBuffers() {
    let pool = PacketPool(bufferCount: 64)
    let port = RingPort(number: 3, capacity: 8, pool: pool)
    let frame: [UInt8] = Array(repeating: 0xAB, count: 60)
    for _ in 0..<5 { #expect(frame.withUnsafeBytes { port.inject($0, pool: pool) }) }
    var batch = PacketBatch()
    #expect(port.receive(into: &batch, pool: pool) == 5)
    #expect(batch.count == 5)
    #expect(batch[0].inputPort == 3)
    #expect(batch[4].bytes == frame)
    #expect(port.statistics.receivedPackets == 5)
    #expect(port.statistics.receivedBytes == 300)
    #expect(port.transmit(&batch, pool: pool) == 5)
    #expect(batch.count == 0)
    #expect(port.outbound.count == 5)
    #expect(port.statistics.transmittedBytes == 300)
    #expect(port.drainOutbound(to: pool) == 5)
    #expect(pool.availableCount == 64)
  }

  @Test func transmitIntoAFullRingDropsAndReturnsTheBuffer() {
    let pool = PacketPool(bufferCount: 64)
    let port = RingPort(number: 1, capacity: 2, pool: pool)
    var batch = PacketBatch()
    for _ in 0..<3 {
      var b = pool.take()!
      _ = b.setLength(64)
      batch.append(b)
    }
    #expect(port.transmit(&batch, pool: pool) == 2)
    #expect(port.statistics.drops(.transmitQueueFull) == 1)
    #expect(pool.availableCount == 62)
    port.drainOutbound(to: pool)
    #expect(pool.availableCount == 64)
  }

  @Test func receiveStopsAtTheBatchCapacity() {
    let pool = PacketPool(bufferCount: 128)
    let port = RingPort(number: 1, capacity: 64, pool: pool)
    let frame: [UInt8] = Array(repeating: 1, count: 42)
    for _ in 0..<40 { _ = frame.withUnsafeBytes { port.inject($0, pool: pool) } }
    var batch = PacketBatch()
    #expect(port.receive(into: &batch, pool: pool) == PacketBatch.capacity)
    #expect(port.inbound.count == 40 - PacketBatch.capacity)
    #expect(port.prepareToSleep())
  }

  @Test func vhostUserPortWithoutADeviceDropsAndCounts() {
    let pool = PacketPool(bufferCount: 8)
    let port = VhostUserNetPort(number: 2, socketPath: "nic.sock")
    var batch = PacketBatch()
    #expect(port.receive(into: &batch, pool: pool) == 0)
    batch.append(pool.take()!)
    #expect(port.transmit(&batch, pool: pool) == 0)
    #expect(port.statistics.drops(.deviceNotReady) == 1)
    #expect(pool.availableCount == 8)
  }
}
