/// Per-device packet counters.
public struct VirtioNetCounters: Equatable {
  public var transmittedPackets: UInt64 = 0
  public var transmittedBytes: UInt64 = 0
  /// Packets made by segmenting GSO chains (counted in transmittedPackets too).
  public var segmentsMade: UInt64 = 0
  public var checksumsCompleted: UInt64 = 0
  public var transmitErrors: UInt64 = 0
  public var receivedPackets: UInt64 = 0
  public var receivedBytes: UInt64 = 0
  /// Packets not delivered because the guest had no receive buffers.
  public var receiveNoBuffers: UInt64 = 0
  /// Packets larger than the guest's receive buffers (no MRG_RXBUF).
  public var receiveTooLong: UInt64 = 0
  /// Receive chains without writable room, given back empty.
  public var receiveBadChains: UInt64 = 0
  public var controlCommands: UInt64 = 0
  public var controlErrors: UInt64 = 0
  public var lastTransmitError: VirtioNetError?

  public init() {}
}
