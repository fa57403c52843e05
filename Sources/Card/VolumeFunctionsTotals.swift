import VirtioBlk
import Volumes

/// What every volume the card serves (the file's and the slices') has done,
/// summed: the heartbeat's volume counters.
public struct VolumeRequestTotals: Equatable, Sendable {
  public var reads: UInt64 = 0
  public var writes: UInt64 = 0
  /// Requests refused for their framing, failed by the store, or whose
  /// chains the queue dropped.
  public var errors: UInt64 = 0
  public init() {}

  mutating func add(_ c: VirtioBlkCounters) {
    reads &+= UInt64(c.reads)
    writes &+= UInt64(c.writes)
    errors &+= UInt64(c.malformed) &+ UInt64(c.storeErrors) &+ UInt64(c.droppedChains)
  }
}

extension VolumeFunctions {
  /// On the run loop's thread (the devices' counters are its own); no
  /// allocation.
  public var requestTotals: VolumeRequestTotals {
    var totals = VolumeRequestTotals()
    for function in functions { totals.add(function.device.counters) }
    for function in sliceFunctions { totals.add(function.device.counters) }
    return totals
  }
}
