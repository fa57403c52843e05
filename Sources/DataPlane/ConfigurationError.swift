/// Why a configuration was refused; the running tables stay as they were.
public enum ConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
  case duplicateVNI(UInt32)
  case vniOutOfRange(UInt32)
  case unknownVPC(subnet: UInt32, vpc: UInt32)
  case unknownSubnet(nic: UInt32, subnet: UInt32)
  case portOutOfRange(nic: UInt32, port: UInt16)
  case duplicatePort(UInt16)
  case unknownSecurityGroup(nic: UInt32, group: UInt32)

  public var description: String {
    switch self {
    case .duplicateVNI(let v): return "VNI " + String(v) + " is used by two VPCs: give each VPC its own VNI"
    case .vniOutOfRange(let v): return "VNI " + String(v) + " does not fit in 24 bits"
    case .unknownVPC(let s, let v):
      return "subnet " + String(s) + " names VPC " + String(v) + ", which is not configured"
    case .unknownSubnet(let n, let s):
      return "NIC " + String(n) + " names subnet " + String(s) + ", which is not configured"
    case .portOutOfRange(let n, let p):
      return "NIC " + String(n) + " uses port " + String(p)
        + ": ports run from 1 to the card's port count - 1"
    case .duplicatePort(let p): return "port " + String(p) + " is given to two NICs on this card"
    case .unknownSecurityGroup(let n, let g):
      return "NIC " + String(n) + " names security group " + String(g) + ", which is not configured"
    }
  }
}
