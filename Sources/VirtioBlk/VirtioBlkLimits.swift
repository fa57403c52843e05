/// What the device accepts per request, advertised in config space.
public struct VirtioBlkLimits: Equatable, Sendable {
  /// The card-memory bounce buffer; also size_max (bytes per segment).
  public var bounceBytes: Int
  /// seg_max: data segments per request.
  public var segmentMax: UInt32
  /// Sectors in one discard or write-zeroes range.
  public var rangeSectorsMax: UInt32
  /// Ranges in one discard or write-zeroes request.
  public var rangeSegmentsMax: UInt32

  public init(
    bounceBytes: Int = 128 * 1024, segmentMax: UInt32 = 126, rangeSectorsMax: UInt32 = 1 << 16,
    rangeSegmentsMax: UInt32 = 16
  ) {
    precondition(bounceBytes >= 4096 && bounceBytes % 4096 == 0)
    self.bounceBytes = bounceBytes
    self.segmentMax = segmentMax
    self.rangeSectorsMax = rangeSectorsMax
    self.rangeSegmentsMax = rangeSegmentsMax
  }

  /// The most data bytes one request may carry: size_max * seg_max.
  public var requestBytesMax: Int { bounceBytes * Int(segmentMax) }
}
