import Virtio

/// Serves a `Virtio` device model (virtio-net, virtio-blk, ...) over
/// vhost-user: builds `GuestMemory` from the session's memory table and a
/// `VirtqueueRing` per started ring, and hands both to the device. Generic
/// over the device, so each device type gets its own specialisation.
public struct VirtioDeviceAdapter<Device: VirtioDevice>: VhostUserDevice {
  public let device: Device
  /// The rings handed to the device (the same objects), for notification
  /// suppression while the server polls them.
  private var rings: [VirtqueueRing?]
  /// Chains completed per ring at the last service, to tell work from none.
  private var completed: [UInt64]

  public init(_ device: Device) {
    self.device = device
    rings = [VirtqueueRing?](repeating: nil, count: device.queueCount)
    completed = [UInt64](repeating: 0, count: device.queueCount)
  }

  /// The device's features, VIRTIO_F_RING_PACKED included: the session
  /// keeps packed rings' positions across a back-end restart.
  public var offeredFeatures: UInt64 { device.offeredFeatures }
  public var queueCount: Int { device.queueCount }
  /// A device with a config space may change it (virtio-blk's capacity).
  public var announcesConfigurationChanges: Bool { device.configSize > 0 }
  public var maximumQueueSize: UInt16 { device.maximumQueueSize }

  public func readConfig(offset: Int, count: Int) -> [UInt8]? {
    guard offset >= 0, count >= 0, offset <= device.configSize, count <= device.configSize - offset else {
      return nil
    }
    var bytes = [UInt8](repeating: 0, count: count)
    let ok = bytes.withUnsafeMutableBytes { b in
      do throws(VirtioDeviceError) {
        try device.readConfig(offset: offset, into: b)
        return true
      } catch { return false }
    }
    return ok ? bytes : nil
  }

  public mutating func writeConfig(offset: Int, bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { b in
      do throws(VirtioDeviceError) {
        try device.writeConfig(offset: offset, from: b)
        return true
      } catch { return false }
    }
  }

  public mutating func negotiated(features: UInt64) {
    // The vhost-user bit is the transport's, not the device's.
    try? device.acceptFeatures(features & ~VhostFeatureBits.protocolFeatures)
  }

  public mutating func start(_ ring: ActiveRing, memory: MemoryTable) -> Bool {
    var regions: [GuestMemoryRegion] = []
    for r in memory.regions {
      // Sound: hostAddress is inside a live mapping (non-zero).
      guard let base = UnsafeMutableRawPointer(bitPattern: r.hostAddress) else { return false }
      regions.append(
        GuestMemoryRegion(
          guestPhysicalAddress: r.guestAddress, size: r.size, frontendAddress: r.description.userAddress,
          base: base))
    }
    guard let guestMemory = try? GuestMemory(regions: regions) else { return false }
    let addresses = VirtqueueAddresses(
      size: ring.size, descriptorTable: ring.descriptorTableAddress, driverArea: ring.availableRingAddress,
      deviceArea: ring.usedRingAddress)
    let features = VirtqueueFeatures(rawValue: ring.features)
    let start = VirtqueueStart(
      lastAvailIndex: ring.nextAvailableIndex, wrapCounter: ring.availableWrapCounter)
    guard
      let made = try? VirtqueueRing.make(
        addresses: addresses, features: features, memory: guestMemory, start: start),
      (try? device.activateQueue(ring.queue, ring: made)) != nil
    else { return false }
    if case .packed(let q) = made { q.positionRecord = ring.positionRecord }
    rings[ring.queue] = made
    completed[ring.queue] = made.counters.chainsCompleted
    return true
  }

  /// vhost-user.rst: a packed ring's base is the next available slot and
  /// driver wrap counter (bits 0–15) and the next used slot and device wrap
  /// counter (bits 16–31); the device completes what it takes before it
  /// stops, so the two halves are equal.
  public mutating func stop(queue: Int) -> UInt32 {
    guard let ring = rings[queue] else { return UInt32(device.deactivateQueue(queue)?.lastAvailIndex ?? 0) }
    if case .packed(let q) = ring { q.positionRecord = nil }
    rings[queue] = nil
    guard let start = device.deactivateQueue(queue) else { return 0 }
    guard ring.isPacked else { return UInt32(start.lastAvailIndex) }
    let half = start.vhostRingBase(packed: true)
    return half | half << 16
  }

  public mutating func reset() {
    for q in rings.indices { rings[q] = nil }
    device.reset()
  }

  public mutating func service(queue: Int) -> RingActivity {
    let notify = device.processQueue(queue)
    var didWork = false
    if let ring = rings[queue] {
      let now = ring.counters.chainsCompleted
      didWork = now != completed[queue]
      completed[queue] = now
    }
    return RingActivity(didWork: didWork, interrupts: notify.rawValue)
  }

  public func brokenReason(queue: Int) -> String? {
    switch rings[queue] {
    case .split(let q)? where q.isBroken: return q.brokenReason?.description ?? "broken"
    case .packed(let q)? where q.isBroken: return q.brokenReason?.description ?? "broken"
    default: return nil
    }
  }

  public mutating func setNotifications(queue: Int, enabled: Bool) -> Bool {
    switch rings[queue] {
    case .split(let q)?:
      if enabled { return q.enableNotifications() }
      q.disableNotifications()
    case .packed(let q)?:
      if enabled { return q.enableNotifications() }
      q.disableNotifications()
    case nil: break
    }
    return false
  }
}
