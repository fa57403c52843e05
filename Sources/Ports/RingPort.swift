import DataPlane
import Platform

/// An in-memory port: `inbound` holds frames the port will receive,
/// `outbound` collects what the run loop transmitted, both without a copy
/// (the buffers move). Tests and benchmarks feed and drain the two rings;
/// whoever pops a buffer from `outbound` gives it back to the pool.
public final class RingPort: PacketPort {
  public let number: UInt16
  public let inbound: PacketRing
  public let outbound: PacketRing
  // Touched only by the run loop's thread (no dynamic exclusivity checks
  // per packet).
  @exclusivity(unchecked) public private(set) var statistics = PortStatistics()

  public init(number: UInt16, capacity: Int = 1024, pool: PacketPool) {
    self.number = number
    inbound = PacketRing(capacity: capacity, pool: pool)
    outbound = PacketRing(capacity: capacity, pool: pool)
  }

  /// Copies `frame` into a buffer from `pool` and queues it for receive;
  /// false if the pool or the ring is full (tests, benchmarks).
  public func inject(_ frame: UnsafeRawBufferPointer, pool: PacketPool) -> Bool {
    guard var buffer = pool.take() else { return false }
    guard buffer.load(frame, headroom: pool.headroom), inbound.push(buffer) else {
      pool.give(buffer)
      return false
    }
    return true
  }

  /// In-memory ports cannot wake a sleeper; the loop polls them.
  public func prepareToSleep() -> Bool { !inbound.isEmpty }

  /// Per burst.
  public func receive(into batch: inout PacketBatch, pool: PacketPool) -> Int {
    var received = 0
    while !batch.isFull, var buffer = inbound.pop() {
      buffer.inputPort = number
      buffer.verdict = .pending
      statistics.countReceived(bytes: buffer.length)
      batch.append(buffer)
      received += 1
    }
    return received
  }

  /// Per burst.
  @discardableResult
  public func transmit(_ batch: inout PacketBatch, pool: PacketPool) -> Int {
    var sent = 0
    for i in 0..<batch.count {
      let buffer = batch[i]
      if outbound.push(buffer) {
        statistics.countTransmitted(bytes: buffer.length)
        sent += 1
      } else {
        statistics.countDrop(.transmitQueueFull)
        pool.give(buffer)
      }
    }
    batch.removeAll()
    return sent
  }

  /// Pops everything transmitted so far and gives it back to `pool`;
  /// returns how many there were (benchmarks' sink).
  @discardableResult
  public func drainOutbound(to pool: PacketPool) -> Int {
    var n = 0
    while let buffer = outbound.pop() {
      pool.give(buffer)
      n += 1
    }
    return n
  }
}
