/// An SA's lifetime limits (RFC 4301 §4.4.2.1): bytes protected and seconds
/// since the SA was installed. Crossing a soft limit asks for a rekey; a
/// hard limit ends the SA. 0 means no limit. IKEv2 (RFC 7296 §2.8) leaves
/// lifetimes to local policy, so they are configured per SA.
public struct Lifetime: Hashable, Sendable {
  public var softBytes: UInt64
  public var hardBytes: UInt64
  public var softSeconds: UInt64
  public var hardSeconds: UInt64

  public init(softBytes: UInt64 = 0, hardBytes: UInt64 = 0, softSeconds: UInt64 = 0, hardSeconds: UInt64 = 0)
  {
    self.softBytes = softBytes
    self.hardBytes = hardBytes
    self.softSeconds = softSeconds
    self.hardSeconds = hardSeconds
  }

  public static let unlimited = Lifetime()

  /// Soft limits must come before hard ones, or the rekey would come too late.
  public var isConsistent: Bool {
    (hardBytes == 0 || softBytes <= hardBytes) && (hardSeconds == 0 || softSeconds <= hardSeconds)
  }
}

/// Where an SA stands against its lifetime.
public enum LifetimeState: UInt8, Hashable, Sendable, CustomStringConvertible {
  case fresh
  /// A soft limit passed: the control plane should install a successor.
  case rekeyWanted
  /// A hard limit passed (or the sequence space ran out): the SA neither
  /// seals nor opens any more.
  case expired

  public var description: String {
    switch self {
    case .fresh: return "fresh"
    case .rekeyWanted: return "rekey-wanted"
    case .expired: return "expired"
    }
  }
}
