import CPacketSocket
import DataPlane
import Platform

/// An `AFPacketPort`'s copy mode: one non-blocking `recvmmsg` per received
/// burst, straight into buffers taken from the pool, and one `sendmmsg` per
/// transmitted burst, straight from the batch's buffers. The kernel copies
/// each frame once, as with the rings; nothing is mapped, so it works where
/// the ring socket options are refused (QEMU's user-mode emulation).
///
/// Unsafe code: the scratch arrays hold `PacketBatch.capacity` entries,
/// allocated once in `init` and freed in `deinit`; a burst never passes
/// more entries than that to the shim, and every buffer pointer handed to
/// the kernel is a pool buffer's storage from its headroom to its end (or
/// the scratch frame, `discardCapacity` bytes).
final class PacketSocketBursts {
  static let burstCapacity = PacketBatch.capacity
  let addresses: UnsafeMutablePointer<UnsafeMutableRawPointer?>
  let lengths: UnsafeMutablePointer<UInt32>
  let packetTypes: UnsafeMutablePointer<UInt8>
  /// The buffers a receive burst filled, by position in the burst.
  let taken: UnsafeMutablePointer<PacketBuffer?>
  /// Where frames go when the pool is empty: they are still read (cut
  /// short, and counted as dropped), as the rings would, so that the
  /// kernel's queue does not hold stale frames until buffers come back.
  let discard: UnsafeMutableRawPointer
  static let discardCapacity = 64

  init() {
    precondition(Self.burstCapacity <= Int(CPS_BURST_MAX))
    addresses = .allocate(capacity: Self.burstCapacity)
    addresses.initialize(repeating: nil, count: Self.burstCapacity)
    lengths = .allocate(capacity: Self.burstCapacity)
    lengths.initialize(repeating: 0, count: Self.burstCapacity)
    packetTypes = .allocate(capacity: Self.burstCapacity)
    packetTypes.initialize(repeating: 0, count: Self.burstCapacity)
    taken = .allocate(capacity: Self.burstCapacity)
    taken.initialize(repeating: nil, count: Self.burstCapacity)
    discard = .allocate(byteCount: Self.discardCapacity, alignment: 64)
  }

  deinit {
    addresses.deallocate()
    lengths.deallocate()
    packetTypes.deallocate()
    taken.deinitialize(count: Self.burstCapacity)
    taken.deallocate()
    discard.deallocate()
  }

  /// Per burst: receives up to the batch's free room in one system call.
  func receive(
    into batch: inout PacketBatch, pool: PacketPool, socket: FileDescriptor, port: UInt16,
    statistics: inout PortStatistics
  ) -> Int {
    let room = PacketBatch.capacity - batch.count
    guard room > 0 else { return 0 }
    // A frame goes behind the buffer's headroom, up to the buffer's end.
    let capacity = pool.bufferSize - pool.headroom
    for i in 0..<room {
      if let buffer = pool.take() {
        taken[i] = buffer
        addresses[i] = buffer.storage + pool.headroom
        lengths[i] = UInt32(truncatingIfNeeded: capacity)
      } else {
        taken[i] = nil
        addresses[i] = discard
        lengths[i] = UInt32(Self.discardCapacity)
      }
    }
    let n = Int(cps_receive_burst(socket.rawValue, addresses, lengths, packetTypes, UInt32(room)))
    // n < 0: the socket failed (e.g. the interface went away); nothing was
    // read, and the next burst tries again.
    let filled = max(n, 0)
    var received = 0
    for i in 0..<room {
      guard var buffer = taken[i] else {
        if i < filled, packetTypes[i] != UInt8(CPS_PACKET_OUTGOING) { statistics.countDrop(.noBuffer) }
        continue
      }
      taken[i] = nil
      let length = Int(lengths[i])
      guard i < filled, packetTypes[i] != UInt8(CPS_PACKET_OUTGOING) else {
        pool.give(buffer)
        continue
      }
      // The kernel reports a frame's real length (MSG_TRUNC): one longer
      // than the buffer was cut short.
      guard length <= capacity, buffer.setLength(length) else {
        pool.give(buffer)
        statistics.countDrop(.oversize)
        continue
      }
      buffer.inputPort = port
      statistics.countReceived(bytes: length)
      batch.append(buffer)
      received += 1
    }
    return received
  }

  /// Per burst: sends the batch in one system call (more only after a
  /// frame the kernel refused), gives every buffer back, empties the batch.
  func transmit(
    _ batch: inout PacketBatch, pool: PacketPool, socket: FileDescriptor, statistics: inout PortStatistics
  ) -> Int {
    let count = min(batch.count, Self.burstCapacity)
    precondition(count == batch.count, "a batch holds at most PacketBatch.capacity buffers")
    for i in 0..<count {
      let buffer = batch[i]
      addresses[i] = buffer.storage + buffer.dataOffset
      lengths[i] = UInt32(truncatingIfNeeded: buffer.length)
    }
    var next = 0
    var sent = 0
    while next < count {
      let r = Int(cps_send_burst(socket.rawValue, addresses + next, lengths + next, UInt32(count - next)))
      if r > 0 {
        for i in next..<next + r { statistics.countTransmitted(bytes: Int(lengths[i])) }
        next += r
        sent += r
        continue
      }
      // The frame at `next` failed. A full queue (the socket's send buffer,
      // or the device queue dropping it) refuses the rest of the burst too.
      if r == 0 || r == -Int(CPS_EAGAIN) || r == -Int(CPS_ENOBUFS) {
        for _ in next..<count { statistics.countDrop(.transmitQueueFull) }
        break
      }
      // Anything else (EMSGSIZE for a frame over the MTU, ENETDOWN) is
      // this frame's: drop it and send the rest.
      statistics.countDrop(.transmitError)
      next += 1
    }
    for i in 0..<count { pool.give(batch[i]) }
    batch.removeAll()
    return sent
  }
}
