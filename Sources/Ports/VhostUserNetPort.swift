import DataPlane
import Platform

/// A tenant NIC's host function: a virtio-net device served over a
/// vhost-user socket. Until a guest attaches (or while the device model is
/// absent), the port receives nothing and drops what is sent to it as
/// `deviceNotReady`; once `attach(_:)` gives it a device, bursts go through
/// the device's virtqueues.
public final class VhostUserNetPort: PacketPort {
  public let number: UInt16
  /// Where the vhost-user front-end (QEMU) connects.
  public let socketPath: String
  public private(set) var statistics = PortStatistics()
  public private(set) var device: (any GuestNetworkDevice)?

  public init(number: UInt16, socketPath: String) {
    self.number = number
    self.socketPath = socketPath
  }

  public func attach(_ device: any GuestNetworkDevice) { self.device = device }
  public func detach() { device = nil }

  public var wakeDescriptor: FileDescriptor? { device?.kickDescriptor }

  public func prepareToSleep() -> Bool { device?.enableNotifications() ?? false }

  /// Per burst.
  public func receive(into batch: inout PacketBatch, pool: PacketPool) -> Int {
    guard let device else { return 0 }
    let first = batch.count
    let n = device.receiveFromGuest(into: &batch, pool: pool)
    for i in first..<batch.count {
      batch[i].inputPort = number
      statistics.countReceived(bytes: batch[i].length)
    }
    return n
  }

  /// Per burst.
  @discardableResult
  public func transmit(_ batch: inout PacketBatch, pool: PacketPool) -> Int {
    let delivered = device.map { $0.deliverToGuest(&batch) } ?? 0
    for i in 0..<batch.count {
      let buffer = batch[i]
      if i < delivered {
        statistics.countTransmitted(bytes: buffer.length)
      } else {
        statistics.countDrop(device == nil ? .deviceNotReady : .transmitQueueFull)
      }
      pool.give(buffer)
    }
    batch.removeAll()
    return delivered
  }
}
