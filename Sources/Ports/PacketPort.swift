import DataPlane
import Platform

/// A port: where the run loop receives frames and where it sends them. Two
/// queues of `PacketBuffer`s from the run loop's one `PacketPool`.
///
/// The run loop is generic over the port type (or uses `CardPort`, an enum
/// of the kinds the firmware has), so a burst costs one direct call and no
/// existential. Both calls are per burst; the per-packet work is inside.
public protocol PacketPort {
  /// The data-plane port number stamped on received buffers (`inputPort`);
  /// 0 is the uplink, 1... are host functions.
  var number: UInt16 { get }
  var statistics: PortStatistics { get }

  /// Appends up to `PacketBatch.capacity - batch.count` received frames, in
  /// buffers taken from `pool`, with `inputPort` set. Returns how many.
  func receive(into batch: inout PacketBatch, pool: PacketPool) -> Int

  /// Sends every buffer in `batch` and empties it. Each buffer is either
  /// handed on (ring ports) or given back to `pool`; a frame that cannot be
  /// sent is dropped and counted, never kept. Returns how many were sent.
  @discardableResult
  func transmit(_ batch: inout PacketBatch, pool: PacketPool) -> Int

  /// A descriptor that becomes readable when frames arrive, for the run
  /// loop's epoll; nil when the port cannot wake a sleeper (the loop then
  /// sleeps with a short timeout).
  var wakeDescriptor: FileDescriptor? { get }

  /// Called before the run loop sleeps: arm notifications (e.g. a guest's
  /// kick) and return true if frames are already waiting, so that the loop
  /// polls again instead of sleeping past them.
  func prepareToSleep() -> Bool
}

extension PacketPort {
  public var wakeDescriptor: FileDescriptor? { nil }
  public func prepareToSleep() -> Bool { false }
}
