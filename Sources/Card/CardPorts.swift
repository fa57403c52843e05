import DataPlane
import Platform
import Ports

/// Opens the ports a configuration names: the uplink as port 0, then one
/// per host function.
public enum CardPorts {
  public struct OpenError: Error, Sendable, CustomStringConvertible {
    public var port: UInt16
    public var binding: PortBinding
    public var cause: SystemError
    public var description: String {
      "port " + String(port) + " (" + binding.description + "): " + cause.description
    }
  }

  public static func open(_ configuration: CardConfiguration, pool: PacketPool) throws(OpenError)
    -> [CardPort]
  {
    var ports: [CardPort] = [try open(configuration.uplink, number: DataPlane.uplinkPort, pool: pool)]
    for function in configuration.hostFunctions {
      ports.append(try open(function.binding, number: function.port, pool: pool))
    }
    return ports
  }

  static func open(_ binding: PortBinding, number: UInt16, pool: PacketPool) throws(OpenError) -> CardPort {
    switch binding {
    case .interface(let name):
      do {
        return .afPacket(try AFPacketPort(number: number, interface: name))
      } catch {
        throw OpenError(port: number, binding: binding, cause: error)
      }
    case .vhostUser(let path):
      return .vhostUserNet(VhostUserNetPort(number: number, socketPath: path))
    case .ring:
      return .ring(RingPort(number: number, pool: pool))
    }
  }
}
