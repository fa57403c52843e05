/// What a queue has done and refused, for telemetry and tests.
public struct VirtqueueCounters: Equatable {
  public var chainsPopped: UInt64 = 0
  public var chainsCompleted: UInt64 = 0
  public var bytesWritten: UInt64 = 0
  public var notificationsNeeded: UInt64 = 0
  public var notificationsSuppressed: UInt64 = 0
  /// Chains completed with 0 bytes because they were malformed.
  public var chainsDropped: UInt64 = 0
  public var queueBreaks: UInt64 = 0

  // One counter per guest error kind.
  public var availableIndexJumps: UInt64 = 0
  public var headsOutOfRange: UInt64 = 0
  public var unterminatedChains: UInt64 = 0
  public var chainsTooLong: UInt64 = 0
  public var nextsOutOfRange: UInt64 = 0
  public var zeroLengthDescriptors: UInt64 = 0
  public var chainLengthsExceeded: UInt64 = 0
  public var readablesAfterWritable: UInt64 = 0
  public var buffersOutOfBounds: UInt64 = 0
  public var indirectErrors: UInt64 = 0
  public var setupErrors: UInt64 = 0
  /// Packed rings started at a position the ring contradicts.
  public var inconsistentStarts: UInt64 = 0

  public init() {}

  mutating func count(_ error: VirtqueueError) {
    switch error {
    case .invalidQueueSize, .misalignedRing, .ringOutOfBounds: setupErrors &+= 1
    case .availableIndexJumped: availableIndexJumps &+= 1
    case .headOutOfRange: headsOutOfRange &+= 1
    case .packedChainUnterminated: unterminatedChains &+= 1
    case .packedStartInconsistent: inconsistentStarts &+= 1
    case .chainTooLong: chainsTooLong &+= 1
    case .nextOutOfRange: nextsOutOfRange &+= 1
    case .zeroLengthDescriptor: zeroLengthDescriptors &+= 1
    case .chainLengthExceeded: chainLengthsExceeded &+= 1
    case .readableAfterWritable: readablesAfterWritable &+= 1
    case .bufferOutOfBounds: buffersOutOfBounds &+= 1
    case .indirectNotNegotiated, .nestedIndirect, .indirectWithNext, .indirectTableLength,
      .indirectTableOutOfBounds, .indirectInChain:
      indirectErrors &+= 1
    }
  }

  /// Every guest error counted, of any kind.
  public var guestErrors: UInt64 {
    availableIndexJumps &+ headsOutOfRange &+ unterminatedChains &+ chainsTooLong &+ nextsOutOfRange
      &+ zeroLengthDescriptors &+ chainLengthsExceeded &+ readablesAfterWritable &+ buffersOutOfBounds
      &+ indirectErrors &+ inconsistentStarts
  }
}
