/// An IP protocol number / IPv6 next-header value (IANA "Assigned Internet
/// Protocol Numbers").
public struct IPProtocol: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
  public let rawValue: UInt8

  @inlinable
  public init(rawValue: UInt8) { self.rawValue = rawValue }

  public static let hopByHop = IPProtocol(rawValue: 0)
  public static let icmp = IPProtocol(rawValue: 1)
  public static let ipv4 = IPProtocol(rawValue: 4)
  public static let tcp = IPProtocol(rawValue: 6)
  public static let udp = IPProtocol(rawValue: 17)
  public static let ipv6 = IPProtocol(rawValue: 41)
  public static let routing = IPProtocol(rawValue: 43)
  public static let fragment = IPProtocol(rawValue: 44)
  public static let esp = IPProtocol(rawValue: 50)
  public static let authentication = IPProtocol(rawValue: 51)
  public static let icmpv6 = IPProtocol(rawValue: 58)
  public static let noNextHeader = IPProtocol(rawValue: 59)
  public static let destinationOptions = IPProtocol(rawValue: 60)

  public var description: String {
    switch self {
    case .hopByHop: return "hop-by-hop"
    case .icmp: return "ICMP"
    case .ipv4: return "IPv4"
    case .tcp: return "TCP"
    case .udp: return "UDP"
    case .ipv6: return "IPv6"
    case .routing: return "routing"
    case .fragment: return "fragment"
    case .esp: return "ESP"
    case .authentication: return "AH"
    case .icmpv6: return "ICMPv6"
    case .noNextHeader: return "no-next-header"
    case .destinationOptions: return "destination-options"
    default: return String(rawValue)
    }
  }
}
