import DataPlane
import Platform
import Ports
import VirtioNet

/// Opens the ports a configuration names: the uplink as port 0, then one
/// per host function.
public enum CardPorts {
  public struct OpenError: Error, Sendable, CustomStringConvertible {
    public var port: UInt16
    public var binding: PortBinding
    /// The system's or DPDK's error, as it reads.
    public var problem: String
    public var description: String {
      "port " + String(port) + " (" + binding.description + "): " + problem
    }
  }

  public static func open(
    _ configuration: CardConfiguration, pool: PacketPool, log: @escaping (String) -> Void = { print($0) }
  ) throws(OpenError)
    -> [CardPort]
  {
    var ports: [CardPort] = [try open(configuration.uplink, number: DataPlane.uplinkPort, pool: pool)]
    if case .afPacket(let p) = ports[0] { reportFallback(p) }
    for function in configuration.hostFunctions {
      let port = try open(function.binding, number: function.port, pool: pool)
      if case .afPacket(let p) = port { reportFallback(p) }
      if case .vhostUserNet(let hostFunction) = port {
        try attachDevice(to: hostFunction, nic: function.nic, configuration: configuration, log: log)
      }
      ports.append(port)
    }
    return ports
  }

  /// A vhost-user port gets its virtio-net device: the NIC's MAC, the MTU
  /// the guest is told, two queue pairs.
  static func attachDevice(
    to port: VhostUserNetPort, nic id: UInt32, configuration: CardConfiguration,
    log: @escaping (String) -> Void
  ) throws(OpenError) {
    guard let nic = configuration.network.nics.first(where: { $0.id == id }) else {
      // The parser checks that every host function's NIC exists.
      preconditionFailure("host function for a NIC the configuration does not hold")
    }
    let device = VirtioNetConfiguration(
      mac: nic.mac, mtu: UInt16(clamping: configuration.network.card.guestMTU), queuePairs: 2)
    do {
      port.attach(try VirtioNetFunction(socketPath: port.socketPath, configuration: device, log: log))
    } catch {
      throw OpenError(
        port: port.number, binding: .vhostUser(socketPath: port.socketPath), problem: error.description)
    }
  }

  /// Says once, on standard error, that a port runs in copy mode because
  /// the kernel refused the rings (so a slower uplink is never a surprise).
  static func reportFallback(_ port: AFPacketPort) {
    guard let cause = port.fallbackCause else { return }
    StandardError.write(
      "af-packet " + port.interface + ": rings refused (" + cause.description
        + "); copy mode (recvmmsg/sendmmsg)")
  }

  static func open(_ binding: PortBinding, number: UInt16, pool: PacketPool) throws(OpenError) -> CardPort {
    switch binding {
    case .interface(let name, let mode):
      do {
        return .afPacket(try AFPacketPort(number: number, interface: name, mode: mode))
      } catch {
        throw OpenError(port: number, binding: binding, problem: error.description)
      }
    case .vhostUser(let path):
      return .vhostUserNet(VhostUserNetPort(number: number, socketPath: path))
    case .ring:
      return .ring(RingPort(number: number, pool: pool))
    #if BULKHEAD_DPDK
      case .dpdk(let device, let eal):
        // The uplink is the only DPDK port: its EAL is the process's one.
        do {
          let environment = try DpdkEnvironment(arguments: eal)
          return .dpdk(try DpdkPort(number: number, deviceName: device, environment: environment))
        } catch {
          throw OpenError(port: number, binding: binding, problem: error.description)
        }
    #endif
    }
  }
}
