/// Where an NBD server listens.
public enum NBDAddress: Equatable, Sendable, CustomStringConvertible {
  case unix(path: String)
  /// IPv4 address as a host-order integer (127.0.0.1 = 0x7f00_0001).
  case tcp4(address: UInt32, port: UInt16)

  public var description: String {
    switch self {
    case .unix(let path): return "unix:" + path
    case .tcp4(let a, let port):
      return String(a >> 24) + "." + String(a >> 16 & 255) + "." + String(a >> 8 & 255) + "."
        + String(a & 255)
        + ":" + String(port)
    }
  }
}
