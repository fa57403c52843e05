/// The fixed part of a router advertisement (RFC 4861 §4.2), for a
/// virtual router answering solicitations. Options (source link-layer
/// address, MTU, prefix information) follow, written by the caller.
public struct RouterAdvertisementHeader: Hashable, Sendable {
  /// RFC 4861 §4.2 flag bits: managed address configuration, other
  /// configuration.
  public static let managedFlag: UInt8 = 0x80
  public static let otherConfigurationFlag: UInt8 = 0x40

  public var currentHopLimit: UInt8
  public var flags: UInt8
  /// Seconds; 0 means "not a default router".
  public var routerLifetime: UInt16
  /// Milliseconds; 0 means unspecified.
  public var reachableTime: UInt32
  public var retransmitTimer: UInt32

  public init(
    currentHopLimit: UInt8 = 64, flags: UInt8 = 0, routerLifetime: UInt16, reachableTime: UInt32 = 0,
    retransmitTimer: UInt32 = 0
  ) {
    self.currentHopLimit = currentHopLimit
    self.flags = flags
    self.routerLifetime = routerLifetime
    self.reachableTime = reachableTime
    self.retransmitTimer = retransmitTimer
  }

  /// The fields of `message`, which must be a router advertisement.
  public init(_ message: ICMPv6Message) {
    precondition(message.type == ICMPv6Message.MessageType.routerAdvertisement)
    self.init(
      currentHopLimit: message.currentHopLimit, flags: message.routerFlags,
      routerLifetime: message.routerLifetime,
      reachableTime: message.reachableTime, retransmitTimer: message.retransmitTimer)
  }

  public static let headerLength = ICMPv6Message.Field.routerAdvertisementOptions
  public var headerLength: Int { Self.headerLength }

  /// Writes the 16-byte fixed part with a zero checksum; call
  /// `ICMPv6Message.fillChecksum(pseudoHeaderSum:)` once the options are in place.
  public func emit(into buffer: UnsafeMutableRawBufferPointer) {
    typealias F = ICMPv6Message.Field
    precondition(buffer.count >= Self.headerLength)
    let base = buffer.baseAddress.unsafelyUnwrapped
    base.storeBigEndian8(ICMPv6Message.MessageType.routerAdvertisement, at: F.type)
    base.storeBigEndian8(0, at: F.code)
    base.storeBigEndian16(0, at: F.checksum)
    base.storeBigEndian8(currentHopLimit, at: F.currentHopLimit)
    base.storeBigEndian8(flags, at: F.routerFlags)
    base.storeBigEndian16(routerLifetime, at: F.routerLifetime)
    base.storeBigEndian32(reachableTime, at: F.reachableTime)
    base.storeBigEndian32(retransmitTimer, at: F.retransmitTimer)
  }
}
