/// How an `AFPacketPort` moves frames between the kernel and the pool.
public enum PacketSocketMode: Equatable, Hashable, Sendable, CustomStringConvertible {
  /// Rings if the kernel sets them up, copy mode if it refuses the ring
  /// socket options with ENOPROTOOPT (QEMU's user-mode emulation does).
  case automatic
  /// PACKET_MMAP rings (TPACKET_V2), shared with the kernel; no system
  /// call per received burst.
  case ring
  /// Plain `recvmmsg`/`sendmmsg`, one system call per burst each way,
  /// straight into and out of the pool's buffers.
  case copy

  public var description: String {
    switch self {
    case .automatic: return "automatic"
    case .ring: return "ring"
    case .copy: return "copy"
    }
  }
}
