/// A TCP segment (RFC 9293 §3.1), checked once: data offset ≥ 5 and the
/// header with its options inside the region. Options are walked with
/// `TCPOptions`.
public struct TCPSegment {
  public enum Field {
    public static let sourcePort = 0
    public static let destinationPort = 2
    public static let sequenceNumber = 4
    public static let acknowledgmentNumber = 8
    public static let dataOffset = 12
    public static let flags = 13
    public static let window = 14
    public static let checksum = 16
    public static let urgentPointer = 18
    public static let minimumHeaderLength = 20
    public static let maximumHeaderLength = 60
  }

  public let bytes: UnsafeMutableRawBufferPointer
  @usableFromInline let base: UnsafeMutableRawPointer

  @inlinable @inline(__always)
  public init(checking bytes: UnsafeMutableRawBufferPointer) throws(WireError) {
    guard bytes.count >= Field.minimumHeaderLength, let base = bytes.baseAddress else { throw .truncated }
    let headerLength = Int(base.loadBigEndian8(at: Field.dataOffset) >> 4) * 4
    guard headerLength >= Field.minimumHeaderLength else { throw .badHeaderLength }
    guard headerLength <= bytes.count else { throw .truncated }
    self.bytes = bytes
    self.base = base
  }

  /// Per packet, for a segment the caller has already checked.
  @inlinable @inline(__always)
  public init(unchecked bytes: UnsafeMutableRawBufferPointer) {
    self.bytes = bytes
    self.base = bytes.baseAddress.unsafelyUnwrapped
  }

  @inlinable public var sourcePort: UInt16 {
    get { base.loadBigEndian16(at: Field.sourcePort) }
    nonmutating set { base.storeBigEndian16(newValue, at: Field.sourcePort) }
  }

  @inlinable public var destinationPort: UInt16 {
    get { base.loadBigEndian16(at: Field.destinationPort) }
    nonmutating set { base.storeBigEndian16(newValue, at: Field.destinationPort) }
  }

  @inlinable public var sequenceNumber: UInt32 {
    get { base.loadBigEndian32(at: Field.sequenceNumber) }
    nonmutating set { base.storeBigEndian32(newValue, at: Field.sequenceNumber) }
  }

  @inlinable public var acknowledgmentNumber: UInt32 {
    get { base.loadBigEndian32(at: Field.acknowledgmentNumber) }
    nonmutating set { base.storeBigEndian32(newValue, at: Field.acknowledgmentNumber) }
  }

  /// Data offset × 4, in bytes (20...60).
  @inlinable public var headerLength: Int { Int(base.loadBigEndian8(at: Field.dataOffset) >> 4) * 4 }

  @inlinable public var flags: TCPFlags {
    get { TCPFlags(rawValue: base.loadBigEndian8(at: Field.flags)) }
    nonmutating set { base.storeBigEndian8(newValue.rawValue, at: Field.flags) }
  }

  @inlinable public var window: UInt16 {
    get { base.loadBigEndian16(at: Field.window) }
    nonmutating set { base.storeBigEndian16(newValue, at: Field.window) }
  }

  @inlinable public var checksum: UInt16 {
    get { base.loadBigEndian16(at: Field.checksum) }
    nonmutating set { base.storeBigEndian16(newValue, at: Field.checksum) }
  }

  @inlinable public var urgentPointer: UInt16 { base.loadBigEndian16(at: Field.urgentPointer) }

  @inlinable public var options: TCPOptions {
    TCPOptions(
      UnsafeRawBufferPointer(
        bytes.region(from: Field.minimumHeaderLength, count: headerLength - Field.minimumHeaderLength)))
  }

  /// The segment's data, to the end of the region (the IP payload).
  @inlinable public var payload: UnsafeMutableRawBufferPointer {
    bytes.region(from: headerLength, count: bytes.count - headerLength)
  }

  /// The region is the whole segment (the IP payload): the checksum covers
  /// all of it plus the pseudo-header.
  @inlinable
  public func isChecksumValid(pseudoHeaderSum: UInt32) -> Bool {
    InternetChecksum.isValid(
      partialSum: InternetChecksum.sum(UnsafeRawBufferPointer(bytes), initial: pseudoHeaderSum))
  }

  @inlinable @inline(__always)
  public func fillChecksum(pseudoHeaderSum: UInt32) {
    checksum = 0
    checksum = InternetChecksum.finish(
      InternetChecksum.sum(UnsafeRawBufferPointer(bytes), initial: pseudoHeaderSum))
  }
}

/// The TCP control bits in byte 13 (RFC 9293 §3.1, RFC 3168 §6.1 for
/// CWR/ECE).
public struct TCPFlags: OptionSet, Hashable, Sendable, CustomStringConvertible {
  public let rawValue: UInt8
  @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }

  public static let fin = TCPFlags(rawValue: 0x01)
  public static let syn = TCPFlags(rawValue: 0x02)
  public static let rst = TCPFlags(rawValue: 0x04)
  public static let psh = TCPFlags(rawValue: 0x08)
  public static let ack = TCPFlags(rawValue: 0x10)
  public static let urg = TCPFlags(rawValue: 0x20)
  public static let ece = TCPFlags(rawValue: 0x40)
  public static let cwr = TCPFlags(rawValue: 0x80)

  public var description: String {
    let names = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"]
    var text = ""
    for bit in 0..<8 where rawValue & (1 << UInt8(bit)) != 0 {
      if !text.isEmpty { text += "|" }
      text += names[bit]
    }
    return text.isEmpty ? "none" : text
  }
}

/// The fields of a TCP header and the options a SYN usually carries, for
/// building one. Options are laid out as Linux does: MSS, SACK-permitted,
/// timestamps, window scale, each aligned with NOPs.
public struct TCPHeader: Hashable, Sendable {
  public var sourcePort: UInt16
  public var destinationPort: UInt16
  public var sequenceNumber: UInt32
  public var acknowledgmentNumber: UInt32
  public var flags: TCPFlags
  public var window: UInt16
  public var urgentPointer: UInt16
  public var maximumSegmentSize: UInt16?
  public var windowScale: UInt8?
  public var sackPermitted: Bool
  public var timestamps: TCPTimestamps?

  public init(
    sourcePort: UInt16, destinationPort: UInt16, sequenceNumber: UInt32, acknowledgmentNumber: UInt32 = 0,
    flags: TCPFlags, window: UInt16, urgentPointer: UInt16 = 0, maximumSegmentSize: UInt16? = nil,
    windowScale: UInt8? = nil, sackPermitted: Bool = false, timestamps: TCPTimestamps? = nil
  ) {
    self.sourcePort = sourcePort
    self.destinationPort = destinationPort
    self.sequenceNumber = sequenceNumber
    self.acknowledgmentNumber = acknowledgmentNumber
    self.flags = flags
    self.window = window
    self.urgentPointer = urgentPointer
    self.maximumSegmentSize = maximumSegmentSize
    self.windowScale = windowScale
    self.sackPermitted = sackPermitted
    self.timestamps = timestamps
  }

  /// The fields of `segment`; options it carries that this builder cannot
  /// express (SACK blocks, unknown kinds) are dropped.
  public init(_ segment: TCPSegment) throws(WireError) {
    self.init(
      sourcePort: segment.sourcePort, destinationPort: segment.destinationPort,
      sequenceNumber: segment.sequenceNumber, acknowledgmentNumber: segment.acknowledgmentNumber,
      flags: segment.flags, window: segment.window, urgentPointer: segment.urgentPointer)
    var options = segment.options
    while let option = try options.next() {
      switch option {
      case .maximumSegmentSize(let mss): maximumSegmentSize = mss
      case .windowScale(let shift): windowScale = shift
      case .sackPermitted: sackPermitted = true
      case .timestamps(let value): timestamps = value
      default: break
      }
    }
  }

  public var headerLength: Int {
    var length = TCPSegment.Field.minimumHeaderLength
    if maximumSegmentSize != nil { length += 4 }
    if sackPermitted || timestamps != nil { length += timestamps != nil ? 12 : 4 }
    if windowScale != nil { length += 4 }
    return length
  }

  /// Writes header and options with a zero checksum; call
  /// `TCPSegment.fillChecksum(pseudoHeaderSum:)` once the data is in place.
  public func emit(into buffer: UnsafeMutableRawBufferPointer) {
    typealias F = TCPSegment.Field
    let length = headerLength
    precondition(buffer.count >= length)
    let base = buffer.baseAddress.unsafelyUnwrapped
    base.storeBigEndian16(sourcePort, at: F.sourcePort)
    base.storeBigEndian16(destinationPort, at: F.destinationPort)
    base.storeBigEndian32(sequenceNumber, at: F.sequenceNumber)
    base.storeBigEndian32(acknowledgmentNumber, at: F.acknowledgmentNumber)
    base.storeBigEndian8(UInt8(length / 4) << 4, at: F.dataOffset)
    base.storeBigEndian8(flags.rawValue, at: F.flags)
    base.storeBigEndian16(window, at: F.window)
    base.storeBigEndian16(0, at: F.checksum)
    base.storeBigEndian16(urgentPointer, at: F.urgentPointer)
    typealias K = TCPOptions.Kind
    var at = F.minimumHeaderLength
    func put(_ byte: UInt8) {
      base.storeBigEndian8(byte, at: at)
      at += 1
    }
    if let mss = maximumSegmentSize {
      put(K.maximumSegmentSize)
      put(4)
      base.storeBigEndian16(mss, at: at)
      at += 2
    }
    if sackPermitted && timestamps == nil {
      put(K.noOperation)
      put(K.noOperation)
    }
    if sackPermitted {
      put(K.sackPermitted)
      put(2)
    } else if timestamps != nil {
      put(K.noOperation)
      put(K.noOperation)
    }
    if let ts = timestamps {
      put(K.timestamps)
      put(10)
      base.storeBigEndian32(ts.value, at: at)
      base.storeBigEndian32(ts.echoReply, at: at + 4)
      at += 8
    }
    if let shift = windowScale {
      put(K.noOperation)
      put(K.windowScale)
      put(3)
      put(shift)
    }
  }
}
