import DataPlane
import Platform

/// What a host function's port needs from the virtio-net device behind it
/// (the vhost-user back-end with a VirtioNet device model): the guest's
/// transmit queue as a source of frames, its receive queue as a sink, and
/// the kick descriptors to sleep on. Class-bound, so the port holds it
/// without a value existential; called once per burst.
public protocol GuestNetworkDevice: AnyObject {
  /// Copies frames the guest queued on its transmit virtqueue into buffers
  /// from `pool` and appends them to `batch` (at most its free room);
  /// returns how many. Descriptors it consumed are returned to the guest.
  func receiveFromGuest(into batch: inout PacketBatch, pool: PacketPool) -> Int
  /// Copies frames into the guest's receive virtqueues; returns how many
  /// fitted, and leaves those first in `batch` (it may reorder frames of
  /// different flows; the port drops and counts the rest). Does not give
  /// buffers back: the port does.
  func deliverToGuest(_ batch: inout PacketBatch) -> Int
  /// The guest's transmit-queue kick, readable when it queued frames.
  var kickDescriptor: FileDescriptor? { get }
  /// Turns guest notifications back on before the loop sleeps; true if
  /// frames are already waiting (virtio 1.2 §2.7.10: re-check after enabling).
  func enableNotifications() -> Bool
}
