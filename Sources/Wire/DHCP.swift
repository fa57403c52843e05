/// A DHCPv4 message (RFC 2131 §2, the BOOTP layout of RFC 951) with its
/// options (RFC 2132), checked once: the fixed 236 bytes and the magic
/// cookie are inside the region. Options are read with `option(_:)`.
public struct DHCPMessage {
  public enum Field {
    public static let op = 0
    public static let htype = 1
    public static let hlen = 2
    public static let hops = 3
    public static let xid = 4
    public static let secs = 8
    public static let flags = 10
    public static let ciaddr = 12
    public static let yiaddr = 16
    public static let siaddr = 20
    public static let giaddr = 24
    public static let chaddr = 28
    public static let sname = 44
    public static let file = 108
    public static let magicCookie = 236
    public static let options = 240
  }

  /// RFC 2131 §3: the first four option bytes.
  public static let magicCookie: UInt32 = 0x6382_5363
  public static let serverPort: UInt16 = 67
  public static let clientPort: UInt16 = 68
  /// RFC 2131 §2: the B flag, reply by broadcast.
  public static let broadcastFlag: UInt16 = 0x8000
  public static let bootRequest: UInt8 = 1
  public static let bootReply: UInt8 = 2
  /// RFC 1542 §3.2.1 (and common clients): replies are at least 300 bytes.
  public static let minimumLength = 300

  /// RFC 2132 §9.6 option 53 values.
  public enum MessageType: UInt8, Sendable {
    case discover = 1, offer, request, decline, ack, nak, release, inform
  }

  /// RFC 2132 option codes this module names.
  public enum Option {
    public static let pad: UInt8 = 0
    public static let subnetMask: UInt8 = 1
    public static let router: UInt8 = 3
    public static let domainNameServer: UInt8 = 6
    public static let interfaceMTU: UInt8 = 26
    public static let requestedIPAddress: UInt8 = 50
    public static let leaseTime: UInt8 = 51
    public static let messageType: UInt8 = 53
    public static let serverIdentifier: UInt8 = 54
    public static let end: UInt8 = 255
  }

  public let bytes: UnsafeMutableRawBufferPointer
  @usableFromInline let base: UnsafeMutableRawPointer

  public init(checking bytes: UnsafeMutableRawBufferPointer) throws(WireError) {
    guard bytes.count >= Field.options, let base = bytes.baseAddress else { throw .truncated }
    guard base.loadBigEndian32(at: Field.magicCookie) == Self.magicCookie else { throw .unsupported }
    self.bytes = bytes
    self.base = base
  }

  public var op: UInt8 { base.loadBigEndian8(at: Field.op) }
  public var transactionID: UInt32 { base.loadBigEndian32(at: Field.xid) }
  public var flags: UInt16 { base.loadBigEndian16(at: Field.flags) }
  public var clientAddress: IPv4Address { IPv4Address(loadingFrom: base + Field.ciaddr) }
  public var yourAddress: IPv4Address { IPv4Address(loadingFrom: base + Field.yiaddr) }
  public var serverAddress: IPv4Address { IPv4Address(loadingFrom: base + Field.siaddr) }
  public var relayAddress: IPv4Address { IPv4Address(loadingFrom: base + Field.giaddr) }
  /// The client hardware address, for Ethernet (htype 1, hlen 6).
  public var clientHardwareAddress: MACAddress? {
    guard base.loadBigEndian8(at: Field.htype) == 1, base.loadBigEndian8(at: Field.hlen) == 6 else {
      return nil
    }
    return MACAddress(loadingFrom: base + Field.chaddr)
  }

  /// The data of the first option with `code`, or nil; `badOption` if an
  /// option runs past the region (RFC 2132 §2: code, length, data).
  public func option(_ code: UInt8) throws(WireError) -> UnsafeRawBufferPointer? {
    var offset = Field.options
    while offset < bytes.count {
      let c = base.loadBigEndian8(at: offset)
      if c == Option.end { return nil }
      if c == Option.pad {
        offset += 1
        continue
      }
      guard offset + 2 <= bytes.count else { throw .badOption }
      let length = Int(base.loadBigEndian8(at: offset + 1))
      guard offset + 2 + length <= bytes.count else { throw .badOption }
      if c == code { return UnsafeRawBufferPointer(start: base + offset + 2, count: length) }
      offset += 2 + length
    }
    return nil
  }

  /// Option 53, or nil when absent or unknown.
  public func messageType() throws(WireError) -> MessageType? {
    guard let data = try option(Option.messageType), data.count == 1 else { return nil }
    return MessageType(rawValue: data[0])
  }

  /// An option holding one IPv4 address (50, 54), or nil.
  public func addressOption(_ code: UInt8) throws(WireError) -> IPv4Address? {
    guard let data = try option(code), data.count == 4, let p = data.baseAddress else { return nil }
    return IPv4Address(loadingFrom: p)
  }
}

/// A BOOTREPLY, for building one: the fixed fields, then options written
/// with `appendOption`. Call `finish()` for the end option and padding.
public struct DHCPReplyBuilder {
  public let bytes: UnsafeMutableRawBufferPointer
  @usableFromInline let base: UnsafeMutableRawPointer
  public private(set) var length = DHCPMessage.Field.options

  /// `bytes` must hold at least `DHCPMessage.minimumLength` bytes.
  public init(
    into bytes: UnsafeMutableRawBufferPointer, transactionID: UInt32, flags: UInt16,
    clientAddress: IPv4Address,
    yourAddress: IPv4Address, serverAddress: IPv4Address, clientHardwareAddress: MACAddress,
    type: DHCPMessage.MessageType
  ) {
    precondition(bytes.count >= DHCPMessage.minimumLength)
    self.bytes = bytes
    base = bytes.baseAddress!
    base.initializeMemory(as: UInt8.self, repeating: 0, count: DHCPMessage.Field.options)
    typealias F = DHCPMessage.Field
    base.storeBigEndian8(DHCPMessage.bootReply, at: F.op)
    base.storeBigEndian8(1, at: F.htype)
    base.storeBigEndian8(6, at: F.hlen)
    base.storeBigEndian32(transactionID, at: F.xid)
    base.storeBigEndian16(flags, at: F.flags)
    clientAddress.store(to: base + F.ciaddr)
    yourAddress.store(to: base + F.yiaddr)
    serverAddress.store(to: base + F.siaddr)
    clientHardwareAddress.store(to: base + F.chaddr)
    base.storeBigEndian32(DHCPMessage.magicCookie, at: F.magicCookie)
    appendOption(DHCPMessage.Option.messageType, bytes: [type.rawValue])
  }

  /// Appends one option; false if it does not fit (with room for `end`).
  @discardableResult
  public mutating func appendOption(_ code: UInt8, bytes data: [UInt8]) -> Bool {
    guard data.count <= 255, length + 2 + data.count + 1 <= bytes.count else { return false }
    base.storeBigEndian8(code, at: length)
    base.storeBigEndian8(UInt8(data.count), at: length + 1)
    for (i, b) in data.enumerated() { base.storeBigEndian8(b, at: length + 2 + i) }
    length += 2 + data.count
    return true
  }

  @discardableResult
  public mutating func appendOption(_ code: UInt8, addresses: [IPv4Address]) -> Bool {
    var data: [UInt8] = []
    for a in addresses {
      for shift in [24, 16, 8, 0] as [UInt32] { data.append(UInt8(truncatingIfNeeded: a.rawValue >> shift)) }
    }
    return appendOption(code, bytes: data)
  }

  @discardableResult
  public mutating func appendOption(_ code: UInt8, uint32 value: UInt32) -> Bool {
    appendOption(code, bytes: [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> UInt32($0)) })
  }

  @discardableResult
  public mutating func appendOption(_ code: UInt8, uint16 value: UInt16) -> Bool {
    appendOption(code, bytes: [UInt8(value >> 8), UInt8(truncatingIfNeeded: value)])
  }

  /// Writes the end option and pads to the minimum length; returns the
  /// message length.
  public mutating func finish() -> Int {
    base.storeBigEndian8(DHCPMessage.Option.end, at: length)
    length += 1
    if length < DHCPMessage.minimumLength {
      (base + length).initializeMemory(
        as: UInt8.self, repeating: 0, count: DHCPMessage.minimumLength - length)
      length = DHCPMessage.minimumLength
    }
    return length
  }
}
