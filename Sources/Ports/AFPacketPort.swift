import CPacketSocket
import DataPlane
import Platform

/// A port on a Linux network interface through an AF_PACKET socket: the
/// card's uplink in the emulator, and tenant-side ports in tests.
/// Promiscuous; frames the host itself sends out of the interface are not
/// received (PACKET_IGNORE_OUTGOING where the kernel takes it, and the
/// packet type is checked again per frame).
///
/// Two modes (`PacketSocketMode`), the same port either way:
/// - ring: PACKET_MMAP rings (TPACKET_V2, `MappedPacketRings`);
/// - copy: `recvmmsg`/`sendmmsg` bursts into and out of the pool's buffers
///   (`PacketSocketBursts`), for where the ring options are refused: QEMU's
///   user-mode emulation answers ENOPROTOOPT to every SOL_PACKET option, so
///   the aarch64 firmware under `qemu-aarch64` runs its uplink this way.
/// In both the socket is non-blocking and its descriptor is what the run
/// loop sleeps on.
public final class AFPacketPort: PacketPort {
  public let number: UInt16
  public let interface: String
  public let interfaceIndex: Int32
  /// The mode the port runs in: `.ring` or `.copy`, never `.automatic`.
  public let mode: PacketSocketMode
  /// Why an `.automatic` port runs in copy mode (the ring set-up's error),
  /// nil when it runs the mode it was asked for.
  public let fallbackCause: SystemError?
  var counters = PortStatistics()
  let socket: FileDescriptor
  let rings: MappedPacketRings?
  let bursts: PacketSocketBursts?

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
  /// `.automatic` tries the rings and falls back to copy mode only when
  /// the kernel refuses them with ENOPROTOOPT; `.ring` fails instead.
  public init(
    number: UInt16, interface: String, mode requested: PacketSocketMode = .automatic,
    geometry: Geometry = Geometry()
  ) throws(SystemError) {
    self.number = number
    self.interface = interface
    let index = interface.withCString { cps_interface_index($0) }
    guard index > 0 else { throw SystemError("if_nametoindex", errno: -index) }
    interfaceIndex = index
    var socket = try Self.openSocket()
    var rings: MappedPacketRings? = nil
    var cause: SystemError? = nil
    if requested != .copy {
      do {
        rings = try MappedPacketRings(socket: socket, geometry: geometry)
      } catch {
        guard requested == .automatic, error.errno == Int32(CPS_ENOPROTOOPT) else {
          _ = try? socket.close()
          throw error
        }
        cause = error
        // PACKET_VERSION may have been taken before the ring was refused:
        // start again on a socket with no ring state.
        _ = try? socket.close()
        socket = try Self.openSocket()
      }
    }
    self.socket = socket
    self.rings = rings
    bursts = rings == nil ? PacketSocketBursts() : nil
    mode = rings == nil ? .copy : .ring
    fallbackCause = cause
    if rings == nil { cps_ignore_outgoing(socket.rawValue) }
    var r = cps_bind(socket.rawValue, index)
    if r == 0 { r = Self.setPromiscuous(socket, index: index, interface: interface) }
    guard r == 0 else {
      _ = try? socket.close()
      throw SystemError("AF_PACKET bind", errno: -r)
    }
  }

  deinit { _ = try? socket.close() }

  static func openSocket() throws(SystemError) -> FileDescriptor {
    let fd = cps_open()
    guard fd >= 0 else { throw SystemError("socket(AF_PACKET)", errno: -fd) }
    return FileDescriptor(rawValue: fd)
  }

  /// The membership where the kernel takes SOL_PACKET options, otherwise
  /// the interface's IFF_PROMISC flag. 0 or -errno.
  static func setPromiscuous(_ socket: FileDescriptor, index: Int32, interface: String) -> Int32 {
    let r = cps_set_promiscuous(socket.rawValue, index)
    guard r == -Int32(CPS_ENOPROTOOPT) else { return r }
    return interface.withCString { cps_set_interface_promiscuous(socket.rawValue, $0) }
  }

  /// The counters, with what the kernel dropped (a full ring or receive
  /// queue) collected first. Read for reports, not per burst.
  public var statistics: PortStatistics {
    collectKernelDrops()
    return counters
  }

  public var wakeDescriptor: FileDescriptor? { socket }

  /// True if frames are already waiting. In copy mode the socket's own
  /// readiness says so to the (level-triggered) epoll, so nothing is
  /// checked here.
  public func prepareToSleep() -> Bool {
    rings?.hasWaitingFrame ?? false
  }

  /// Per burst.
  public func receive(into batch: inout PacketBatch, pool: PacketPool) -> Int {
    if let rings { return rings.receive(into: &batch, pool: pool, port: number, statistics: &counters) }
    guard let bursts else { return 0 }
    return bursts.receive(into: &batch, pool: pool, socket: socket, port: number, statistics: &counters)
  }

  /// Per burst: one system call (ring flush or sendmmsg); every buffer goes
  /// back to the pool.
  @discardableResult
  public func transmit(_ batch: inout PacketBatch, pool: PacketPool) -> Int {
    if let rings { return rings.transmit(&batch, pool: pool, socket: socket, statistics: &counters) }
    guard let bursts else { return 0 }
    return bursts.transmit(&batch, pool: pool, socket: socket, statistics: &counters)
  }

  /// Adds what the kernel dropped since the last call (its counter resets
  /// when read) to `statistics.deviceDrops`. Where PACKET_STATISTICS is
  /// refused (QEMU's user-mode emulation) nothing is added.
  public func collectKernelDrops() {
    let dropped = cps_kernel_drops(socket.rawValue)
    if dropped > 0 { counters.deviceDrops &+= UInt64(dropped) }
  }
}
