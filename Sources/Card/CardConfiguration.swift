import DataPlane
import Ipsec
import Ports

/// Where a port's frames come from and go to.
public enum PortBinding: Equatable, Sendable, CustomStringConvertible {
  /// A Linux network interface, through AF_PACKET (rings, or copy mode).
  case interface(String, mode: PacketSocketMode = .automatic)
  /// A vhost-user socket a front-end (QEMU) connects to.
  case vhostUser(socketPath: String)
  /// An in-memory ring (tests and benchmarks).
  case ring
  #if BULKHEAD_DPDK
    /// A DPDK ethdev (the uplink on hardware; a `net_tap` vdev in tests),
    /// with the EAL's arguments. Host build only.
    case dpdk(device: String, eal: [String])
  #endif

  public var description: String {
    switch self {
    case .interface(let name, let mode):
      return mode == .automatic ? "interface " + name : "interface " + name + " mode " + mode.description
    case .vhostUser(let path): return "vhost-user " + path
    case .ring: return "ring"
    #if BULKHEAD_DPDK
      case .dpdk(let device, let eal): return "dpdk " + device + " eal " + eal.joined(separator: " ")
    #endif
    }
  }
}

/// A tenant NIC hosted on this card and the port that carries it.
public struct HostFunction: Equatable, Sendable {
  public var nic: UInt32
  public var port: UInt16
  public var binding: PortBinding
  public init(nic: UInt32, port: UInt16, binding: PortBinding) {
    self.nic = nic
    self.port = port
    self.binding = binding
  }
}

/// Everything the firmware needs to start: the data plane's configuration
/// and how each of its ports is bound.
public struct CardConfiguration: Equatable, Sendable {
  public var network: NetworkConfiguration
  public var uplink: PortBinding
  public var hostFunctions: [HostFunction]
  /// Packet buffers in the pool the ports share.
  public var bufferCount: Int
  /// Encrypted volumes served as virtio-blk host functions.
  public var volumes: [HostVolume] = []
  /// ESP SAs with peer cards (`esp` lines). With any, `network`'s underlay
  /// and guest MTUs are already lowered by ESP's overhead
  /// (`ProtectedUnderlay.protecting`); `uplinkMTU` is the uplink's own.
  public var esp: [EspAssociation] = []
  /// Tunnels of this card's VPCs to outside sites (`site` lines); their
  /// gateways' SAs in `esp` are in tunnel mode.
  public var sites: [EspSite] = []
  public var uplinkMTU: Int

  public init(
    network: NetworkConfiguration, uplink: PortBinding, hostFunctions: [HostFunction], bufferCount: Int = 4096
  ) {
    self.network = network
    self.uplink = uplink
    self.hostFunctions = hostFunctions
    self.bufferCount = bufferCount
    uplinkMTU = network.card.underlayMTU
  }
}
