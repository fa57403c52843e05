/// A virtio device model as a transport (the vhost-user backend, later a
/// PCIe function) drives it: feature negotiation, config space, queues.
/// Generic-friendly (`Backend<Device: VirtioDevice>`), no existentials.
///
/// Call order follows §3.1: `offeredFeatures`, `acceptFeatures`, then
/// `activateQueue` for each queue the driver set up, `processQueue` on each
/// kick, `deactivateQueue` (GET_VRING_BASE) or `reset`.
public protocol VirtioDevice: AnyObject {
  /// §5: 1 network, 2 block.
  var deviceID: UInt32 { get }
  /// Device and transport feature bits the device offers.
  var offeredFeatures: UInt64 { get }
  /// The driver's accepted features (a subset of the offered ones).
  func acceptFeatures(_ features: UInt64) throws(VirtioDeviceError)
  /// Features in force after negotiation.
  var acceptedFeatures: UInt64 { get }
  /// The most queues the device can use (e.g. 2 per queue pair + control).
  var queueCount: Int { get }
  var maximumQueueSize: UInt16 { get }
  /// Device status bits the device itself sets (NEEDS_RESET, §2.1.2).
  var status: VirtioDeviceStatus { get }

  /// The device-specific config structure (§4.1.4.6 / vhost-user GET_CONFIG).
  var configSize: Int { get }
  func readConfig(offset: Int, into destination: UnsafeMutableRawBufferPointer) throws(VirtioDeviceError)
  func writeConfig(offset: Int, from source: UnsafeRawBufferPointer) throws(VirtioDeviceError)

  /// Hands a ring to the device; it serves it until deactivated.
  func activateQueue(_ index: Int, ring: VirtqueueRing) throws(VirtioDeviceError)
  /// Stops serving a queue; returns where it stopped (GET_VRING_BASE), or
  /// nil if it was not active.
  func deactivateQueue(_ index: Int) -> VirtqueueStart?
  /// Work after a kick on queue `index` (or a poll); returns the queues
  /// whose driver must now get a used-buffer notification.
  func processQueue(_ index: Int) -> QueueSet
  /// A new guest memory table for every active queue.
  func remap(memory: GuestMemory) throws(VirtioDeviceError)
  /// Back to the initial state: no features, no queues (§2.4).
  func reset()
}
