import Wire

/// Connection-tracking state, after Linux nf_conntrack's TCP states
/// (net/netfilter/nf_conntrack_proto_tcp.c) reduced to what a stateful
/// firewall needs, plus UDP and ICMP pseudo-connections.
public enum ConnectionState: UInt8, Hashable, Sendable, CustomStringConvertible {
  case tcpSynSent
  case tcpSynReceived
  case tcpEstablished
  /// One side has sent FIN.
  case tcpFinWait
  /// Both sides have sent FIN; waiting for the last ACK.
  case tcpLastAck
  case tcpTimeWait
  /// RST seen.
  case tcpClose
  /// UDP or ICMP with packets in one direction only.
  case unreplied
  /// UDP or ICMP with replies seen.
  case replied

  /// Idle timeout in nanoseconds, as Linux's defaults
  /// (nf_conntrack_tcp_timeout_*, nf_conntrack_udp_timeout[_stream],
  /// nf_conntrack_icmp_timeout).
  @inlinable
  public func timeout(protocol proto: IPProtocol) -> UInt64 {
    let second: UInt64 = 1_000_000_000
    switch self {
    case .tcpSynSent: return 120 * second
    case .tcpSynReceived: return 60 * second
    case .tcpEstablished: return 432_000 * second
    case .tcpFinWait: return 120 * second
    case .tcpLastAck: return 30 * second
    case .tcpTimeWait: return 120 * second
    case .tcpClose: return 10 * second
    case .unreplied: return 30 * second
    case .replied: return proto.isUDP ? 120 * second : 30 * second
    }
  }

  /// The state of a new connection whose first packet has `flags`
  /// (loose pick-up of mid-stream TCP, as nf_conntrack_tcp_loose=1).
  public static func initial(protocol proto: IPProtocol, flags: TCPFlags) -> ConnectionState {
    guard proto == .tcp else { return .unreplied }
    if flags.contains(.rst) { return .tcpClose }
    if flags.contains(.syn) && !flags.contains(.ack) { return .tcpSynSent }
    return .tcpEstablished
  }

  public var description: String {
    switch self {
    case .tcpSynSent: return "SYN_SENT"
    case .tcpSynReceived: return "SYN_RECV"
    case .tcpEstablished: return "ESTABLISHED"
    case .tcpFinWait: return "FIN_WAIT"
    case .tcpLastAck: return "LAST_ACK"
    case .tcpTimeWait: return "TIME_WAIT"
    case .tcpClose: return "CLOSE"
    case .unreplied: return "UNREPLIED"
    case .replied: return "REPLIED"
    }
  }
}

/// The tracked state of one connection in one zone (a NIC), in 64 bytes:
/// one cache line per entry (the table's slots are page-aligned), where
/// 56 bytes put most entries across two lines and a fast-path hit paid
/// for both.
public struct ConnectionEntry: OpenAddressingEntry, Sendable {
  public var key: ConnectionKey
  /// Changed only through `observe` (which keeps `idleTimeout` with it).
  public private(set) var state: ConnectionState
  /// Which directions have sent FIN (bit 0 original, bit 1 reply).
  public var finSeen: UInt8
  public var isOccupied: Bool
  public var serial: UInt32
  public var lastSeen: UInt64
  /// `state.timeout(protocol: key.ipProtocol)`, kept with the state when
  /// it changes (rarely), so that the fast path's liveness check is a
  /// subtraction and a comparison instead of a switch per packet.
  public private(set) var idleTimeout: UInt64

  public init(
    key: ConnectionKey, state: ConnectionState, finSeen: UInt8, isOccupied: Bool, serial: UInt32,
    lastSeen: UInt64
  ) {
    self.key = key
    self.state = state
    self.finSeen = finSeen
    self.isOccupied = isOccupied
    self.serial = serial
    self.lastSeen = lastSeen
    idleTimeout = state.timeout(protocol: key.ipProtocol)
  }

  public static let empty = ConnectionEntry(
    key: ConnectionKey(
      source: .zero, destination: .zero, sourcePort: 0, destinationPort: 0,
      protocol: .init(rawValue: 0), zone: 0),
    state: .unreplied, finSeen: 0, isOccupied: false, serial: 0, lastSeen: 0)

  @inlinable public static func hash(_ key: ConnectionKey) -> UInt64 { key.hashValue64 }

  @inlinable @inline(__always)
  public func isExpired(now: UInt64) -> Bool {
    now &- lastSeen > idleTimeout
  }

  /// Whether a flow compiled for connection `serial` may still use this
  /// entry. Per packet.
  @inlinable @inline(__always)
  public func isLive(serial expected: UInt32, now: UInt64) -> Bool {
    isOccupied && serial == expected && !isExpired(now: now)
  }

  /// Advances the state for a packet with `flags` in the given direction.
  /// Per packet (fast path too). Sequence numbers are not checked: the
  /// guest's own stack does that; the firewall only needs the lifecycle.
  @inline(__always)
  public mutating func observe(flags: TCPFlags, isReply: Bool, now: UInt64) {
    lastSeen = now
    guard key.ipProtocol.isTCP else {
      if isReply && state != .replied { enter(.replied) }
      return
    }
    // Flag tests on the raw bits: `TCPFlags.syn` and its siblings are
    // another module's globals (a call each).
    let raw = flags.rawValue
    let syn = raw & TCPFlagBit.syn != 0
    let ack = raw & TCPFlagBit.ack != 0
    let fin = raw & TCPFlagBit.fin != 0
    if raw & TCPFlagBit.rst != 0 {
      if state != .tcpClose { enter(.tcpClose) }
      return
    }
    var next = state
    switch state {
    case .tcpSynSent:
      if isReply && syn && ack { next = .tcpSynReceived }
    case .tcpSynReceived:
      if !isReply && ack && !syn { next = .tcpEstablished }
    case .tcpTimeWait, .tcpClose:
      // A new SYN from the original side reopens the connection.
      if !isReply && syn && !ack {
        enter(.tcpSynSent)
        finSeen = 0
      }
      return
    case .tcpLastAck:
      if ack && !fin { next = .tcpTimeWait }
    default:
      break
    }
    if fin {
      finSeen |= isReply ? 2 : 1
      next = finSeen == 3 ? .tcpLastAck : .tcpFinWait
    }
    if next != state { enter(next) }
  }

  /// A new state and its timeout. Per state change, not per packet.
  @inline(never)
  mutating func enter(_ next: ConnectionState) {
    state = next
    idleTimeout = next.timeout(protocol: key.ipProtocol)
  }
}

/// A connection as first seen (the original direction) in a zone.
public struct ConnectionKey: Hashable, Sendable {
  public var source: FlowAddress
  public var destination: FlowAddress
  /// sourcePort(16) | destinationPort(16) | protocol(8) | zone(16).
  public var portsAndZone: UInt64

  @inlinable
  public init(
    source: FlowAddress, destination: FlowAddress, sourcePort: UInt16, destinationPort: UInt16,
    protocol proto: IPProtocol, zone: UInt16
  ) {
    self.source = source
    self.destination = destination
    portsAndZone =
      UInt64(sourcePort) << 48 | UInt64(destinationPort) << 32 | UInt64(proto.rawValue) << 16 | UInt64(zone)
  }

  @inlinable public var sourcePort: UInt16 { UInt16(truncatingIfNeeded: portsAndZone >> 48) }
  @inlinable public var destinationPort: UInt16 { UInt16(truncatingIfNeeded: portsAndZone >> 32) }
  @inlinable public var ipProtocol: IPProtocol {
    IPProtocol(rawValue: UInt8(truncatingIfNeeded: portsAndZone >> 16))
  }
  @inlinable public var zone: UInt16 { UInt16(truncatingIfNeeded: portsAndZone) }

  /// The same connection seen from the other end.
  @inlinable public var reversed: ConnectionKey {
    ConnectionKey(
      source: destination, destination: source, sourcePort: destinationPort, destinationPort: sourcePort,
      protocol: ipProtocol, zone: zone)
  }

  @inlinable
  public var hashValue64: UInt64 {
    var h = WordHash(seed: 0x2545_f491_4f6c_dd1d)
    h.mix(source.high)
    h.mix(source.low)
    h.mix(destination.high)
    h.mix(destination.low)
    h.mix(portsAndZone)
    return h.value
  }
}

public typealias ConnectionTable = OpenAddressingTable<ConnectionEntry>
