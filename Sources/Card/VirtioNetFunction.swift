import DataPlane
import Platform
import Ports
import VhostUser
import VhostUserBackend
import Virtio
import VirtioNet

/// A tenant NIC's host function: a `VirtioNetDevice` served over a
/// vhost-user socket, driven by the card's run loop. The loop reads the
/// guest's transmit queues through `receiveFromGuest` and fills its
/// receive queue through `deliverToGuest`; the vhost-user server (messages,
/// kicks, reconnects) runs one non-blocking turn on every read, and the
/// loop sleeps on the server's epoll descriptor.
///
/// On hardware the same device model sits behind the card's emulated PCI
/// function; only this transport differs.
public final class VirtioNetFunction: GuestNetworkDevice {
  public let device: VirtioNetDevice
  public let server: VhostUserServer<VirtioDeviceAdapter<VirtioNetDevice>>
  public let socketPath: String
  /// Set when a transmit filled the batch: frames may still wait, so the
  /// loop must not sleep.
  private var transmitMayHaveMore = false

  public init(socketPath: String, configuration: VirtioNetConfiguration, log: @escaping (String) -> Void)
    throws(SystemError)
  {
    self.socketPath = socketPath
    device = VirtioNetDevice(configuration: configuration)
    server = try VhostUserServer()
    server.log = log
    try server.addEndpoint(path: socketPath, device: VirtioDeviceAdapter(device))
  }

  /// Per burst: one server turn, then the guest's transmit queues.
  public func receiveFromGuest(into batch: inout PacketBatch, pool: PacketPool) -> Int {
    // A failed wait is the epoll instance's own trouble; the next turn
    // tries again, and the rings are served below either way.
    try? server.runOnce(timeoutMilliseconds: 0)
    var count = 0
    for pair in 0..<device.configuration.queuePairs {
      count += device.transmit(queuePair: pair, into: &batch, pool: pool)
    }
    transmitMayHaveMore = batch.count >= PacketBatch.capacity
    notifyGuest()
    return count
  }

  /// Per burst: frames to the guest, each on its flow's queue pair
  /// (`ReceiveSteering`) among those the guest enabled.
  public func deliverToGuest(_ batch: inout PacketBatch) -> Int {
    let delivered = device.receiveSteered(&batch)
    notifyGuest()
    return delivered
  }

  public var kickDescriptor: FileDescriptor? { server.waitDescriptor }

  public func enableNotifications() -> Bool {
    transmitMayHaveMore || server.isPolling
  }

  private func notifyGuest() {
    let queues = device.takeNotifications()
    if !queues.isEmpty { server.notify(endpoint: 0, queues: queues.rawValue) }
  }
}
