/// The NBD protocol's numbers (the "nbd" project's doc/proto.md): fixed
/// newstyle handshake, NBD_OPT_GO, simple replies. All integers on the wire
/// are big-endian.
enum NBDProtocol {
  // Handshake (proto.md "Fixed newstyle negotiation").
  static let initialMagic: UInt64 = 0x4e42_444d_4147_4943  // "NBDMAGIC"
  static let optionMagic: UInt64 = 0x4948_4156_454f_5054  // "IHAVEOPT"
  static let optionReplyMagic: UInt64 = 0x3_e889_0455_65a9
  static let flagFixedNewstyle: UInt16 = 1 << 0
  static let flagNoZeroes: UInt16 = 1 << 1
  static let clientFlagFixedNewstyle: UInt32 = 1 << 0
  static let clientFlagNoZeroes: UInt32 = 1 << 1
  static let optionGo: UInt32 = 7
  static let replyAck: UInt32 = 1
  static let replyInfo: UInt32 = 3
  /// Option replies with this bit set are errors (NBD_REP_ERR_*).
  static let replyErrorBit: UInt32 = 1 << 31
  static let infoExport: UInt16 = 0
  /// Option reply payloads we accept (an NBD_INFO_* or error text).
  static let maximumOptionReply = 4096

  // Transmission flags (proto.md "Transmission flags").
  static let transmissionHasFlags: UInt16 = 1 << 0
  static let transmissionReadOnly: UInt16 = 1 << 1
  static let transmissionSendFlush: UInt16 = 1 << 2
  static let transmissionSendTrim: UInt16 = 1 << 5
  static let transmissionSendWriteZeroes: UInt16 = 1 << 6

  // Transmission phase.
  static let requestMagic: UInt32 = 0x2560_9513
  static let simpleReplyMagic: UInt32 = 0x6744_6698
  static let requestHeaderSize = 28
  static let simpleReplySize = 16

  enum Command: UInt16 {
    case read = 0
    case write = 1
    case disconnect = 2
    case flush = 3
    case trim = 4
    case writeZeroes = 6
  }

  /// The largest payload one request carries. Servers must accept 32 MiB
  /// (proto.md "Block size constraints"); 1 MiB keeps card buffers small.
  static let maximumRequestLength = 1 << 20
}

/// Big-endian integers in a byte buffer (the NBD wire format).
extension UnsafeMutableRawBufferPointer {
  func storeBigEndian<T: FixedWidthInteger>(_ value: T, at offset: Int) {
    storeBytes(of: value.bigEndian, toByteOffset: offset, as: T.self)
  }
}

extension UnsafeRawBufferPointer {
  func loadBigEndian<T: FixedWidthInteger>(at offset: Int, as: T.Type) -> T {
    T(bigEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
  }
}
