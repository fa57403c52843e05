import Wire

/// Which way a packet crosses the card.
public enum FlowDirection: UInt8, Hashable, Sendable {
  /// From a guest's NIC (a host function port) towards the underlay or
  /// another local NIC.
  case egress = 1
  /// From the underlay (uplink port) towards a guest.
  case ingress = 2
}

/// The exact-match key of a flow-table entry: the (inner) 5-tuple, the
/// direction, the input port (egress) or VNI (ingress), the guest-side MAC
/// (source MAC on egress, inner destination MAC on ingress) and, for
/// ingress, the outer source VTEP and tunnel kind. Anything the slow path
/// based its decision on is in the key, so a hit can reuse the decision.
/// Eight 64-bit words; compared word by word.
public struct FlowKey: Hashable, Sendable {
  public var source: FlowAddress
  public var destination: FlowAddress
  public var underlaySource: FlowAddress
  /// sourcePort(16) | destinationPort(16) | protocol(8) | portOrVNI(24).
  public var portsAndProtocol: UInt64
  /// MAC(48) | direction(8) | tunnel(8).
  public var macAndDirection: UInt64

  @inlinable
  public init(
    source: FlowAddress, destination: FlowAddress, sourcePort: UInt16, destinationPort: UInt16,
    protocol proto: IPProtocol, direction: FlowDirection, portOrVNI: UInt32, mac: MACAddress,
    underlaySource: FlowAddress = .zero, tunnel: TunnelKind = .none
  ) {
    self.source = source
    self.destination = destination
    self.underlaySource = underlaySource
    portsAndProtocol =
      UInt64(sourcePort) << 48 | UInt64(destinationPort) << 32 | UInt64(proto.rawValue) << 24
      | UInt64(portOrVNI & 0xff_ffff)
    macAndDirection = mac.rawValue << 16 | UInt64(direction.rawValue) << 8 | UInt64(tunnel.rawValue)
  }

  @inlinable public var sourcePort: UInt16 { UInt16(truncatingIfNeeded: portsAndProtocol >> 48) }
  @inlinable public var destinationPort: UInt16 { UInt16(truncatingIfNeeded: portsAndProtocol >> 32) }
  @inlinable public var ipProtocol: IPProtocol {
    IPProtocol(rawValue: UInt8(truncatingIfNeeded: portsAndProtocol >> 24))
  }
  @inlinable public var portOrVNI: UInt32 { UInt32(truncatingIfNeeded: portsAndProtocol & 0xff_ffff) }
  @inlinable public var direction: FlowDirection {
    FlowDirection(rawValue: UInt8(truncatingIfNeeded: macAndDirection >> 8)) ?? .egress
  }

  /// False when the ports and protocol word or either address's low word
  /// differs from `other`'s: three words compared without a branch, a
  /// filter before the full comparison (true does not make the keys
  /// equal). Per packet.
  @inlinable @inline(__always)
  public func mayEqual(_ other: FlowKey) -> Bool {
    (portsAndProtocol ^ other.portsAndProtocol) | (source.low ^ other.source.low)
      | (destination.low ^ other.destination.low) == 0
  }

  /// A 64-bit hash: the eight words in pairs through folded 128-bit
  /// products (`WordHash.fold`), then the three results through one more.
  /// Four multiplies, three of them independent, instead of a chain of
  /// eight: the IPv4 key's zero and constant words cost as much as any.
  /// Per packet.
  @inlinable @inline(__always)
  public var hashValue64: UInt64 {
    let addresses = WordHash.fold(
      source.low ^ 0x9e37_79b9_7f4a_7c15, destination.low ^ 0xbf58_476d_1ce4_e5b9)
    let rest = WordHash.fold(
      source.high ^ (destination.high << 32 | destination.high >> 32) ^ 0x94d0_49bb_1331_11eb,
      portsAndProtocol ^ 0xff51_afd7_ed55_8ccd)
    let underlay = WordHash.fold(
      underlaySource.low ^ (underlaySource.high << 32 | underlaySource.high >> 32) ^ 0xc4ce_b9fe_1a85_ec53,
      macAndDirection ^ 0x2545_f491_4f6c_dd1d)
    return WordHash.fold(addresses ^ underlay ^ 0xd6e8_feb8_6659_fd93, rest ^ 0xa076_1d64_78bd_642f)
  }
}
