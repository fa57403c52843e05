import DataPlane
import Platform

/// The kinds of port the firmware runs, as one type: the run loop switches
/// once per burst, never per packet, and needs no existential. The DPDK
/// uplink is a case of the host build only (`BULKHEAD_DPDK`).
public enum CardPort: PacketPort {
  case ring(RingPort)
  case afPacket(AFPacketPort)
  case vhostUserNet(VhostUserNetPort)
  #if BULKHEAD_DPDK
    case dpdk(DpdkPort)
  #endif

  public var number: UInt16 {
    switch self {
    case .ring(let p): return p.number
    case .afPacket(let p): return p.number
    case .vhostUserNet(let p): return p.number
    #if BULKHEAD_DPDK
      case .dpdk(let p): return p.number
    #endif
    }
  }

  public var statistics: PortStatistics {
    switch self {
    case .ring(let p): return p.statistics
    case .afPacket(let p): return p.statistics
    case .vhostUserNet(let p): return p.statistics
    #if BULKHEAD_DPDK
      case .dpdk(let p): return p.statistics
    #endif
    }
  }

  public var kind: String {
    switch self {
    case .ring: return "ring"
    case .afPacket(let p): return "af-packet " + p.interface + " " + p.mode.description
    case .vhostUserNet(let p): return "vhost-user " + p.socketPath
    #if BULKHEAD_DPDK
      case .dpdk(let p): return "dpdk " + p.deviceName
    #endif
    }
  }

  @inline(__always)
  public func receive(into batch: inout PacketBatch, pool: PacketPool) -> Int {
    switch self {
    case .ring(let p): return p.receive(into: &batch, pool: pool)
    case .afPacket(let p): return p.receive(into: &batch, pool: pool)
    case .vhostUserNet(let p): return p.receive(into: &batch, pool: pool)
    #if BULKHEAD_DPDK
      case .dpdk(let p): return p.receive(into: &batch, pool: pool)
    #endif
    }
  }

  @inline(__always)
  @discardableResult
  public func transmit(_ batch: inout PacketBatch, pool: PacketPool) -> Int {
    switch self {
    case .ring(let p): return p.transmit(&batch, pool: pool)
    case .afPacket(let p): return p.transmit(&batch, pool: pool)
    case .vhostUserNet(let p): return p.transmit(&batch, pool: pool)
    #if BULKHEAD_DPDK
      case .dpdk(let p): return p.transmit(&batch, pool: pool)
    #endif
    }
  }

  public var wakeDescriptor: FileDescriptor? {
    switch self {
    case .ring(let p): return p.wakeDescriptor
    case .afPacket(let p): return p.wakeDescriptor
    case .vhostUserNet(let p): return p.wakeDescriptor
    #if BULKHEAD_DPDK
      case .dpdk(let p): return p.wakeDescriptor
    #endif
    }
  }

  public func prepareToSleep() -> Bool {
    switch self {
    case .ring(let p): return p.prepareToSleep()
    case .afPacket(let p): return p.prepareToSleep()
    case .vhostUserNet(let p): return p.prepareToSleep()
    #if BULKHEAD_DPDK
      case .dpdk(let p): return p.prepareToSleep()
    #endif
    }
  }
}
