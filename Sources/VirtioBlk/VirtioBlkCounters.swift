/// What a virtio-blk device has served and refused.
public struct VirtioBlkCounters: Equatable, Sendable {
  public var reads = 0
  public var writes = 0
  public var flushes = 0
  public var discards = 0
  public var writeZeroes = 0
  public var identifies = 0
  /// Requests answered VIRTIO_BLK_S_IOERR or S_UNSUPP for their framing or
  /// limits (guest-made).
  public var malformed = 0
  /// Requests the store failed (backend or cipher errors).
  public var storeErrors = 0
  /// Chains the queue itself dropped (bad descriptors).
  public var droppedChains = 0
  /// Chains without a status byte, returned with nothing written.
  public var withoutStatus = 0

  public init() {}
}
