/// A set of queue indices (up to 64), e.g. the queues whose driver wants a
/// used-buffer notification after a round of processing.
public struct QueueSet: Equatable, Hashable, Sendable {
  public var rawValue: UInt64
  public init(rawValue: UInt64 = 0) { self.rawValue = rawValue }

  public static let maximumQueues = 64

  public var isEmpty: Bool { rawValue == 0 }

  public func contains(_ index: Int) -> Bool {
    index >= 0 && index < Self.maximumQueues && rawValue & (1 << UInt64(index)) != 0
  }

  public mutating func insert(_ index: Int) {
    precondition(index >= 0 && index < Self.maximumQueues)
    rawValue |= 1 << UInt64(index)
  }

  public mutating func formUnion(_ other: QueueSet) { rawValue |= other.rawValue }

  /// The lowest index in the set, removed.
  public mutating func popFirst() -> Int? {
    guard rawValue != 0 else { return nil }
    let index = rawValue.trailingZeroBitCount
    rawValue &= rawValue - 1
    return index
  }
}
