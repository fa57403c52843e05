import VhostUser

/// A virtio-net device that negotiates, reports its link up and accepts
/// rings, but moves no packets: it proves the vhost-user back-end against a
/// real front-end (QEMU and the guest's driver) until the Virtio target's
/// net device model is wired in.
struct LinkOnlyNetDevice: VhostUserDevice {
  /// virtio 1.2 §5.1.3: VIRTIO_NET_F_MAC (5), VIRTIO_NET_F_STATUS (16),
  /// VIRTIO_F_VERSION_1 (32).
  var offeredFeatures: UInt64 { 1 << 5 | 1 << 16 | 1 << 32 }
  /// One receive and one transmit queue.
  var queueCount: Int { 2 }
  var maximumQueueSize: UInt16 { 1024 }
  let mac: [UInt8]
  private(set) var runningQueues: Set<Int> = []
  private var nextIndex: [Int: UInt16] = [:]

  init(mac: [UInt8]) { self.mac = mac }

  /// virtio 1.2 §5.1.4: mac[6], status (VIRTIO_NET_S_LINK_UP), max pairs.
  func readConfig(offset: Int, count: Int) -> [UInt8]? {
    let config = mac + [1, 0, 1, 0]
    guard offset >= 0, count >= 0, offset <= config.count, count <= config.count - offset else { return nil }
    return Array(config[offset..<offset + count])
  }

  mutating func writeConfig(offset: Int, bytes: [UInt8]) -> Bool { false }
  mutating func negotiated(features: UInt64) {}

  mutating func start(_ ring: ActiveRing, memory: MemoryTable) -> Bool {
    runningQueues.insert(ring.queue)
    nextIndex[ring.queue] = ring.nextAvailableIndex
    return true
  }

  mutating func stop(queue: Int) -> UInt32 {
    runningQueues.remove(queue)
    return UInt32(nextIndex[queue] ?? 0)
  }

  mutating func reset() { runningQueues.removeAll() }
  mutating func service(queue: Int) -> RingActivity { .idle }
  mutating func setNotifications(queue: Int, enabled: Bool) -> Bool { false }
}
