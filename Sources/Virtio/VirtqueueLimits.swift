/// Caps a queue applies to every chain, whatever the guest claims.
public struct VirtqueueLimits: Equatable, Sendable {
  /// Segments in one chain (descriptors, plus one per region boundary a
  /// descriptor spans). QEMU caps chains at 1024 descriptors as well.
  public var maximumChainSegments: Int
  /// Bytes in one chain, readable plus writable.
  public var maximumChainLength: Int
  /// Slots in the segment arena; at least `2 * maximumChainSegments`.
  public var segmentArenaCapacity: Int
  /// Descriptors in one indirect table.
  public var maximumIndirectDescriptors: Int

  public init(
    maximumChainSegments: Int = 1024, maximumChainLength: Int = 4 << 20, segmentArenaCapacity: Int = 4096,
    maximumIndirectDescriptors: Int = 1024
  ) {
    self.maximumChainSegments = maximumChainSegments
    self.maximumChainLength = maximumChainLength
    self.segmentArenaCapacity = max(segmentArenaCapacity, 2 * maximumChainSegments)
    self.maximumIndirectDescriptors = maximumIndirectDescriptors
  }

  public static let standard = VirtqueueLimits()
}
