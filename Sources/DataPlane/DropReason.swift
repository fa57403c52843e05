/// Why the pipeline dropped a packet. Each reason has a counter per port
/// (`DataPlaneCounters.drops(port:reason:)`), so an operator can tell a
/// spoofing guest from a misconfigured peer.
public enum DropReason: UInt8, CaseIterable, Hashable, Sendable, CustomStringConvertible {
  case malformed
  case unknownPort
  case unknownEtherType
  case spoofedSourceMAC
  case spoofedSourceIP
  case fragment
  case ttlExpired
  case localServiceIgnored
  case securityGroupDenied
  case noRoute
  case blackholeRoute
  case noMapping
  case mtuExceeded
  case notForThisCard
  case unknownVNI
  case wrongEncapsulation
  case wrongVTEP
  case tunnelOAM
  case criticalOption
  case noSuchNIC
  case rateLimited
  case noBufferSpace

  public static let count = DropReason.allCases.count

  public var description: String {
    switch self {
    case .malformed: return "malformed"
    case .unknownPort: return "unknown-port"
    case .unknownEtherType: return "unknown-ethertype"
    case .spoofedSourceMAC: return "spoofed-source-mac"
    case .spoofedSourceIP: return "spoofed-source-ip"
    case .fragment: return "fragment"
    case .ttlExpired: return "ttl-expired"
    case .localServiceIgnored: return "local-service-ignored"
    case .securityGroupDenied: return "security-group-denied"
    case .noRoute: return "no-route"
    case .blackholeRoute: return "blackhole-route"
    case .noMapping: return "no-mapping"
    case .mtuExceeded: return "mtu-exceeded"
    case .notForThisCard: return "not-for-this-card"
    case .unknownVNI: return "unknown-vni"
    case .wrongEncapsulation: return "wrong-encapsulation"
    case .wrongVTEP: return "wrong-vtep"
    case .tunnelOAM: return "tunnel-oam"
    case .criticalOption: return "critical-option"
    case .noSuchNIC: return "no-such-nic"
    case .rateLimited: return "rate-limited"
    case .noBufferSpace: return "no-buffer-space"
    }
  }
}

/// What the pipeline decided for one buffer.
public enum Verdict: Hashable, Sendable, CustomStringConvertible {
  /// Not processed yet.
  case pending
  /// Send out of `PacketBuffer.outputPort`.
  case forward
  case drop(DropReason)

  public var description: String {
    switch self {
    case .pending: return "pending"
    case .forward: return "forward"
    case .drop(let reason): return "drop(" + reason.description + ")"
    }
  }
}
