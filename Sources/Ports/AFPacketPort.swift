import CPacketSocket
import DataPlane
import Platform

/// A port on a Linux network interface through an AF_PACKET socket with
/// PACKET_MMAP rings (TPACKET_V2): the card's uplink in the emulator, and
/// tenant-side ports in tests. Promiscuous; frames the host itself sends
/// out of the interface are not received (PACKET_IGNORE_OUTGOING, and the
/// packet type is checked again per frame).
///
/// The rings are shared with the kernel, not with the pool, so each frame
/// is copied once each way (packet_mmap.rst: the kernel owns a frame while
/// its status is TP_STATUS_KERNEL / TP_STATUS_SEND_REQUEST).
public final class AFPacketPort: PacketPort {
  public let number: UInt16
  public let interface: String
  public let interfaceIndex: Int32
  public private(set) var statistics = PortStatistics()
  let socket: FileDescriptor
  let ring: UnsafeMutableRawPointer
  let frameSize: Int
  let frameCount: Int
  let ringLength: Int
  var receiveIndex = 0
  var transmitIndex = 0
  let transmitDataOffset: Int

  public struct Geometry: Sendable {
    /// Bytes per ring frame (header + frame); a multiple of 16.
    public var frameSize: Int
    /// Bytes per ring block; a multiple of the page size and of `frameSize`.
    public var blockSize: Int
    public var blockCount: Int
    public init(frameSize: Int = 2048, blockSize: Int = 1 << 16, blockCount: Int = 8) {
      self.frameSize = frameSize
      self.blockSize = blockSize
      self.blockCount = blockCount
    }
  }

  /// Opens `interface` (which must exist; it need not be up yet).
  public init(number: UInt16, interface: String, geometry: Geometry = Geometry()) throws(SystemError) {
    self.number = number
    self.interface = interface
    let index = interface.withCString { cps_interface_index($0) }
    guard index > 0 else { throw SystemError("if_nametoindex", errno: -index) }
    interfaceIndex = index
    let fd = cps_open()
    guard fd >= 0 else { throw SystemError("socket(AF_PACKET)", errno: -fd) }
    socket = FileDescriptor(rawValue: fd)
    frameSize = geometry.frameSize
    frameCount = (geometry.blockSize / geometry.frameSize) * geometry.blockCount
    ringLength = geometry.blockSize * geometry.blockCount
    transmitDataOffset = Int(cps_tx_data_offset())
    var mapped: UnsafeMutableRawPointer? = nil
    var r = cps_setup_rings(fd, UInt32(geometry.blockSize), UInt32(geometry.blockCount), UInt32(frameSize))
    if r == 0 { r = cps_map_rings(fd, UInt64(ringLength * 2), &mapped) }
    if r == 0 { r = cps_bind(fd, index) }
    if r == 0 { r = cps_set_promiscuous(fd, index) }
    guard r == 0, let mapped else {
      if let mapped { _ = cps_unmap(mapped, UInt64(ringLength * 2)) }
      _ = try? socket.close()
      throw SystemError("AF_PACKET ring set-up", errno: -r)
    }
    ring = mapped
  }

  deinit {
    _ = cps_unmap(ring, UInt64(ringLength * 2))
    _ = try? socket.close()
  }

  public var wakeDescriptor: FileDescriptor? { socket }

  /// True if the kernel has handed us a frame we have not read.
  public func prepareToSleep() -> Bool {
    cps_status(ring + receiveIndex * frameSize) & UInt32(CPS_STATUS_USER) != 0
  }

  /// Per burst: walks the receive ring from where it left off.
  public func receive(into batch: inout PacketBatch, pool: PacketPool) -> Int {
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
      buffer.inputPort = number
      statistics.countReceived(bytes: captured)
      batch.append(buffer)
      received += 1
    }
    return received
  }

  /// Per burst: copies each frame into the transmit ring, gives its buffer
  /// back, and asks the kernel once to send them all.
  @discardableResult
  public func transmit(_ batch: inout PacketBatch, pool: PacketPool) -> Int {
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

  /// Adds what the kernel dropped since the last call (its counter resets
  /// when read) to `statistics.deviceDrops`.
  public func collectKernelDrops() {
    let dropped = cps_kernel_drops(socket.rawValue)
    if dropped > 0 { statistics.deviceDrops &+= UInt64(dropped) }
  }
}
