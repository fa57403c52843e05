import BlockStorage

/// Why a request was refused. Guest-controlled, counted, and answered with a
/// status (`status`); the device goes on with the next request.
public enum BlockRequestError: Error, Equatable, Sendable, CustomStringConvertible {
  /// No writable byte for the status: the chain is returned with nothing
  /// written (§5.2.6.1 cannot be followed).
  case noStatusByte
  /// Fewer than 16 readable bytes for the header.
  case headerTooShort
  /// A type the device does not implement (§5.2.6.2: VIRTIO_BLK_S_UNSUPP).
  case unsupportedType(UInt32)
  /// Data in the direction the type does not use (a read with readable
  /// data, a write with writable data beyond the status byte).
  case dataInWrongDirection
  /// A data length that is not whole sectors (or whole range segments).
  case oddLength(Int)
  /// More bytes than the device advertised it accepts (size_max * seg_max).
  case tooLarge(Int)
  /// A write, discard or write-zeroes to a read-only device (§5.2.6.2).
  case readOnly
  /// The store failed the request (backend I/O, range, a detached volume),
  /// or a discard/write-zeroes range broke the advertised limits or used a
  /// flag it may not (§5.2.6.2: `.unsupported` answers UNSUPP).
  case store(BlockIOError)

  /// The status byte the guest sees (§5.2.6: VIRTIO_BLK_S_*).
  public var status: BlockStatus {
    switch self {
    case .unsupportedType, .store(.unsupported): return .unsupported
    default: return .ioError
    }
  }

  public var description: String {
    switch self {
    case .noStatusByte: return "virtio-blk: request without a status byte"
    case .headerTooShort: return "virtio-blk: request header shorter than 16 bytes"
    case .unsupportedType(let t): return "virtio-blk: unsupported request type " + String(t)
    case .dataInWrongDirection: return "virtio-blk: request data in the wrong direction"
    case .oddLength(let n):
      return "virtio-blk: data length " + String(n) + " is not whole sectors or segments"
    case .tooLarge(let n): return "virtio-blk: request of " + String(n) + " bytes is over the limit"
    case .readOnly: return "virtio-blk: write to a read-only device"
    case .store(let e): return "virtio-blk: " + e.description
    }
  }
}

/// virtio 1.2 §5.2.6: the status byte.
public enum BlockStatus: UInt8, Sendable {
  case ok = 0
  case ioError = 1
  case unsupported = 2
}
