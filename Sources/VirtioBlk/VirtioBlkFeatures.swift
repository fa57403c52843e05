/// virtio-blk feature bits (virtio 1.2 §5.2.3).
public enum VirtioBlkFeatures {
  public static let sizeMax: UInt64 = 1 << 1
  public static let segMax: UInt64 = 1 << 2
  public static let readOnly: UInt64 = 1 << 5
  public static let blockSize: UInt64 = 1 << 6
  public static let flush: UInt64 = 1 << 9
  public static let topology: UInt64 = 1 << 10
  public static let multiQueue: UInt64 = 1 << 12
  public static let discard: UInt64 = 1 << 13
  public static let writeZeroes: UInt64 = 1 << 14
}
