import CardAgent
import DataPlane
import Management
import Ports

extension CardCounterBoard {
  /// On the run loop's thread, from its `onControl` hook (every 1024 busy
  /// passes, on each wake and before each sleep): stores the card's totals
  /// for the agent's next heartbeat. No allocation and no lock; reading an
  /// AF_PACKET port's statistics costs one system call (the kernel's
  /// drops), a few per millisecond at most under load.
  public func publish<Port: PacketPort>(ports: [Port], plane: DataPlane?, volumes: VolumeFunctions?) {
    var rxPackets: UInt64 = 0
    var txPackets: UInt64 = 0
    var rxBytes: UInt64 = 0
    var txBytes: UInt64 = 0
    var portDrops: UInt64 = 0
    for port in ports {
      let s = port.statistics
      rxPackets &+= s.receivedPackets
      txPackets &+= s.transmittedPackets
      rxBytes &+= s.receivedBytes
      txBytes &+= s.transmittedBytes
      portDrops &+= s.deviceDrops
      // By raw value rather than `allCases`, which builds an array.
      var raw: UInt8 = 0
      while let reason = PortDropReason(rawValue: raw) {
        portDrops &+= s.drops(reason)
        raw &+= 1
      }
    }
    var pipelineDrops: UInt64 = 0
    if let plane {
      var raw: UInt8 = 0
      while let reason = DropReason(rawValue: raw) {
        pipelineDrops &+= plane.counters.totalDrops(reason)
        raw &+= 1
      }
    }
    let volumeTotals = volumes?.requestTotals ?? VolumeRequestTotals()
    store(.rxPackets, rxPackets)
    store(.txPackets, txPackets)
    store(.rxBytes, rxBytes)
    store(.txBytes, txBytes)
    store(.portDrops, portDrops)
    store(.pipelineDrops, pipelineDrops)
    store(.volumeReads, volumeTotals.reads)
    store(.volumeWrites, volumeTotals.writes)
    store(.volumeErrors, volumeTotals.errors)
    markPublished()
  }
}
