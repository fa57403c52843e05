import CPacketSocket
import DataPlane
import Platform

/// The receive and transmit rings of an AF_PACKET socket (PACKET_MMAP,
/// TPACKET_V2), mapped once: an `AFPacketPort`'s ring mode.
///
/// The rings are shared with the kernel, not with the pool, so each frame
/// is copied once each way (packet_mmap.rst: the kernel owns a frame while
/// its status is TP_STATUS_KERNEL / TP_STATUS_SEND_REQUEST).
///
/// Unsafe code: `ring` is the mapping of `2 * ringLength` bytes made by
/// `init` and unmapped by `deinit`; frame indices stay below `frameCount`,
/// and every kernel-written offset and length is checked against the frame
/// before it is used.
final class MappedPacketRings {
  let ring: UnsafeMutableRawPointer
  let frameSize: Int
  let frameCount: Int
  let ringLength: Int
  let transmitDataOffset: Int
  var receiveIndex = 0
  var transmitIndex = 0

  /// Sets up and maps both rings on `socket`, which must not be bound yet.
  /// Throws with the kernel's errno (ENOPROTOOPT where ring options are
  /// refused, e.g. under QEMU's user-mode emulation).
  init(socket: FileDescriptor, geometry: AFPacketPort.Geometry) throws(SystemError) {
    frameSize = geometry.frameSize
    frameCount = (geometry.blockSize / geometry.frameSize) * geometry.blockCount
    ringLength = geometry.blockSize * geometry.blockCount
    transmitDataOffset = Int(cps_tx_data_offset())
    let r = cps_setup_rings(
      socket.rawValue, UInt32(geometry.blockSize), UInt32(geometry.blockCount), UInt32(frameSize))
    guard r == 0 else { throw SystemError("setsockopt(PACKET_RX_RING)", errno: -r) }
    var mapped: UnsafeMutableRawPointer? = nil
    let m = cps_map_rings(socket.rawValue, UInt64(ringLength * 2), &mapped)
    guard m == 0, let mapped else { throw SystemError("mmap(AF_PACKET rings)", errno: -m) }
    ring = mapped
  }

  deinit { _ = cps_unmap(ring, UInt64(ringLength * 2)) }

  /// True if the kernel has handed us a frame we have not read.
  var hasWaitingFrame: Bool {
    cps_status(ring + receiveIndex * frameSize) & UInt32(CPS_STATUS_USER) != 0
  }

  /// Per burst: walks the receive ring from where it left off.
  func receive(
    into batch: inout PacketBatch, pool: PacketPool, port: UInt16, statistics: inout PortStatistics
  ) -> Int {
    var received = 0
    while !batch.isFull {
      let frame = ring + receiveIndex * frameSize
      let status = cps_status(frame)
      guard status & UInt32(CPS_STATUS_USER) != 0 else { break }
      defer {
        cps_set_status(frame, UInt32(CPS_STATUS_KERNEL))
        receiveIndex = receiveIndex + 1 == frameCount ? 0 : receiveIndex + 1
      }
      if cps_packet_type(frame) == UInt8(CPS_PACKET_OUTGOING) { continue }
      let captured = Int(cps_snap_length(frame))
      let offset = Int(cps_mac_offset(frame))
      // The kernel's offsets are checked against the frame all the same.
      guard captured == Int(cps_length(frame)), offset + captured <= frameSize else {
        statistics.countDrop(.truncated)
        continue
      }
      guard var buffer = pool.take() else {
        statistics.countDrop(.noBuffer)
        continue
      }
      guard
        buffer.load(UnsafeRawBufferPointer(start: frame + offset, count: captured), headroom: pool.headroom)
      else {
        pool.give(buffer)
        statistics.countDrop(.oversize)
        continue
      }
      buffer.inputPort = port
      statistics.countReceived(bytes: captured)
      batch.append(buffer)
      received += 1
    }
    return received
  }

  /// Per burst: copies each frame into the transmit ring, gives its buffer
  /// back, and asks the kernel once to send them all.
  func transmit(
    _ batch: inout PacketBatch, pool: PacketPool, socket: FileDescriptor, statistics: inout PortStatistics
  ) -> Int {
    let transmitRing = ring + ringLength
    var queued = 0
    for i in 0..<batch.count {
      let buffer = batch[i]
      defer { pool.give(buffer) }
      let frame = transmitRing + transmitIndex * frameSize
      var status = cps_status(frame)
      if status & UInt32(CPS_STATUS_WRONG_FORMAT) != 0 {
        // The kernel refused an earlier frame in this slot.
        statistics.countDrop(.transmitError)
        status = UInt32(CPS_STATUS_AVAILABLE)
      }
      guard status == UInt32(CPS_STATUS_AVAILABLE) else {
        statistics.countDrop(.transmitQueueFull)
        continue
      }
      guard buffer.length <= frameSize - transmitDataOffset else {
        statistics.countDrop(.oversize)
        continue
      }
      (frame + transmitDataOffset).copyMemory(
        from: buffer.storage + buffer.dataOffset, byteCount: buffer.length)
      cps_set_send_length(frame, UInt32(buffer.length))
      cps_set_status(frame, UInt32(CPS_STATUS_SEND_REQUEST))
      transmitIndex = transmitIndex + 1 == frameCount ? 0 : transmitIndex + 1
      statistics.countTransmitted(bytes: buffer.length)
      queued += 1
    }
    batch.removeAll()
    if queued > 0 {
      // EAGAIN/ENOBUFS: the frames stay requested and go with the next flush.
      _ = cps_flush(socket.rawValue)
    }
    return queued
  }
}
