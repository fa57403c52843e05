/// Why a device refused a request from the transport (vhost-user frontend).
public enum VirtioDeviceError: Error, Equatable, CustomStringConvertible {
  /// The driver accepted features the device did not offer, or a
  /// combination the spec forbids (§2.2.1).
  case unsupportedFeatures(UInt64)
  case queueIndexOutOfRange(Int)
  /// A config space access outside the device's config structure.
  case configAccessOutOfRange(offset: Int, count: Int)
  case queue(VirtqueueError)

  public var description: String {
    switch self {
    case .unsupportedFeatures(let f): return "unsupported features 0x" + String(f, radix: 16)
    case .queueIndexOutOfRange(let i): return "no queue " + String(i)
    case .configAccessOutOfRange(let o, let n):
      return "config access at " + String(o) + "+" + String(n) + " out of range"
    case .queue(let e): return e.description
    }
  }
}
