/// An IPv4 or an IPv6 address, for places that hold either (a parsed
/// packet's addresses, a flow key).
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
  case v4(IPv4Address)
  case v6(IPv6Address)

  /// Parses either text form.
  public init?(_ text: String) {
    if let v4 = IPv4Address(text) {
      self = .v4(v4)
    } else if let v6 = IPv6Address(text) {
      self = .v6(v6)
    } else {
      return nil
    }
  }

  public var description: String {
    switch self {
    case .v4(let a): return a.description
    case .v6(let a): return a.description
    }
  }
}
