import DataPlane
import Virtio
import Wire

/// A virtio-net device (virtio 1.2 §5.1). Queues: receiveq1, transmitq1,
/// …, receiveqN, transmitqN, controlq (§5.1.2). The transport drives it
/// through `VirtioDevice`; the port's run loop moves packets with
/// `transmit(queuePair:into:pool:)` and `receive(_:from:queuePair:)` and
/// signals the queues `takeNotifications()` returns.
public final class VirtioNetDevice: VirtioDevice {
  /// Config space (§5.1.4): mac[6], le16 status, le16 max_virtqueue_pairs, le16 mtu.
  public static let configLength = 12
  static let linkUp: UInt16 = 1

  public let configuration: VirtioNetConfiguration
  public let offeredFeatures: UInt64
  public private(set) var acceptedFeatures: UInt64 = 0
  public private(set) var state: VirtioNetState
  public private(set) var counters = VirtioNetCounters()
  var rings: [VirtqueueRing?]
  var transmitters: [PacketTransmitter] = []
  var receivers: [PacketReceiver] = []
  /// Queues completed into since the last `takeNotifications`.
  var touched = QueueSet()
  /// Kicked data queues the run loop has not served yet.
  public private(set) var pendingQueues = QueueSet()
  /// Receive steering's per-pair batches and counts, allocated once.
  var steeringBatches: [PacketBatch]
  var steeringDelivered: [Int]

  public init(configuration: VirtioNetConfiguration) {
    precondition(configuration.queuePairs >= 1 && 2 * configuration.queuePairs + 1 <= QueueSet.maximumQueues)
    self.configuration = configuration
    var net = configuration.features
    if configuration.queuePairs < 2 { net.remove(.multiqueue) }
    offeredFeatures = net.rawValue | VirtqueueFeatures.supported.rawValue
    state = VirtioNetState(mac: configuration.mac, maximumQueuePairs: configuration.queuePairs)
    rings = [VirtqueueRing?](repeating: nil, count: 2 * configuration.queuePairs + 1)
    steeringBatches = (0..<configuration.queuePairs).map { _ in PacketBatch() }
    steeringDelivered = [Int](repeating: 0, count: configuration.queuePairs)
  }

  public var deviceID: UInt32 { 1 }
  public var queueCount: Int { rings.count }
  public var maximumQueueSize: UInt16 { configuration.maximumQueueSize }
  public var controlQueueIndex: Int { rings.count - 1 }
  public var negotiated: VirtioNetFeatures { VirtioNetFeatures(rawValue: acceptedFeatures) }

  public var status: VirtioDeviceStatus {
    for ring in rings { if let r = ring, r.isBroken { return .needsReset } }
    return []
  }

  public func acceptFeatures(_ features: UInt64) throws(VirtioDeviceError) {
    let net = VirtioNetFeatures(rawValue: features)
    let ring = VirtqueueFeatures(rawValue: features)
    // §5.1.3.1 feature dependencies; VERSION_1 because the 12-byte header
    // and little-endian rings are all this device speaks.
    guard features & ~offeredFeatures == 0, ring.contains(.version1),
      !net.contains(.hostTSO4) || net.contains(.checksum),
      !net.contains(.hostTSO6) || net.contains(.checksum),
      !net.contains(.hostECN) || net.contains(.hostTSO4) || net.contains(.hostTSO6),
      !net.contains(.multiqueue) || net.contains(.controlQueue),
      !net.contains(.controlReceiveMode) || net.contains(.controlQueue),
      !net.contains(.controlMACAddress) || net.contains(.controlQueue)
    else { throw .unsupportedFeatures(features) }
    acceptedFeatures = features
    // Frames over the MTU are not refused here: they go on to the
    // pipeline, which drops them with a count and answers with ICMP
    // "fragmentation needed" / "packet too big" (RFC 1191, RFC 8201), so
    // that path MTU discovery works. §5.1.4.1 binds the driver to `mtu`
    // only if it negotiated VIRTIO_NET_F_MTU, and a front-end may not
    // offer it (QEMU without host_mtu), leaving the guest free to pick a
    // larger MTU. A packet buffer is the only limit.
    let maximumFrame = Int.max
    transmitters = (0..<configuration.queuePairs).map { _ in
      PacketTransmitter(
        features: net, maximumFrame: maximumFrame, maximumSegments: configuration.maximumSegments)
    }
    receivers = (0..<configuration.queuePairs).map { _ in PacketReceiver(features: net) }
  }

  public var configSize: Int { Self.configLength }

  public func readConfig(offset: Int, into destination: UnsafeMutableRawBufferPointer)
    throws(VirtioDeviceError)
  {
    guard offset >= 0, destination.count <= Self.configLength, offset <= Self.configLength - destination.count
    else {
      throw .configAccessOutOfRange(offset: offset, count: destination.count)
    }
    var image: (UInt64, UInt32) = (0, 0)
    withUnsafeMutableBytes(of: &image) { b in
      state.mac.store(to: b.baseAddress!)
      b.storeBytes(
        of: (configuration.isLinkUp ? Self.linkUp : 0).littleEndian, toByteOffset: 6, as: UInt16.self)
      b.storeBytes(of: UInt16(configuration.queuePairs).littleEndian, toByteOffset: 8, as: UInt16.self)
      b.storeBytes(of: configuration.mtu.littleEndian, toByteOffset: 10, as: UInt16.self)
      if let out = destination.baseAddress {
        out.copyMemory(from: b.baseAddress! + offset, byteCount: destination.count)
      }
    }
  }

  /// §5.1.4: the 1.x config space is read-only for the driver.
  public func writeConfig(offset: Int, from source: UnsafeRawBufferPointer) throws(VirtioDeviceError) {
    throw .configAccessOutOfRange(offset: offset, count: source.count)
  }

  public func activateQueue(_ index: Int, ring: VirtqueueRing) throws(VirtioDeviceError) {
    guard index >= 0, index < rings.count else { throw .queueIndexOutOfRange(index) }
    rings[index] = ring
    if index < controlQueueIndex, index % 2 == 1, index / 2 < transmitters.count {
      transmitters[index / 2].reset()
    }
  }

  public func deactivateQueue(_ index: Int) -> VirtqueueStart? {
    guard index >= 0, index < rings.count, let ring = rings[index] else { return nil }
    rings[index] = nil
    if index < controlQueueIndex, index % 2 == 1, index / 2 < transmitters.count {
      transmitters[index / 2].reset()
    }
    return ring.start
  }

  public func processQueue(_ index: Int) -> QueueSet {
    guard index >= 0, index < rings.count, let ring = rings[index] else { return QueueSet() }
    guard index == controlQueueIndex else {
      pendingQueues.insert(index)
      return QueueSet()
    }
    switch ring {
    case .split(let q): serveControl(q)
    case .packed(let q): serveControl(q)
    }
    var notify = QueueSet()
    if ring.needsNotification() { notify.insert(index) }
    return notify
  }

  func serveControl<Queue: Virtqueue>(_ queue: Queue) {
    while true {
      let chain: DescriptorChain
      do {
        guard let next = try queue.nextChain() else { return }
        chain = next
      } catch {
        continue
      }
      counters.controlCommands &+= 1
      var ack = ControlCommandHandler.handle(chain, features: negotiated, state: &state)
      if ack != ControlCommandHandler.ok { counters.controlErrors &+= 1 }
      let written = withUnsafeBytes(of: &ack) { chain.copyIntoWritable(at: 0, from: $0) }
      queue.complete(chain, writtenLength: written)
    }
  }

  public func remap(memory: GuestMemory) throws(VirtioDeviceError) {
    for ring in rings {
      guard let r = ring else { continue }
      do { try r.remap(memory: memory) } catch { throw .queue(error) }
    }
  }

  public func reset() {
    for i in rings.indices { rings[i] = nil }
    acceptedFeatures = 0
    transmitters = []
    receivers = []
    touched = QueueSet()
    pendingQueues = QueueSet()
    state = VirtioNetState(mac: configuration.mac, maximumQueuePairs: configuration.queuePairs)
  }

  /// Moves packets the guest sent on `queuePair` into `batch` (up to its
  /// capacity). Per batch.
  @discardableResult
  public func transmit(queuePair: Int, into batch: inout PacketBatch, pool: PacketPool) -> Int {
    let index = 2 * queuePair + 1
    guard queuePair >= 0, queuePair < transmitters.count, queuePair < state.activeQueuePairs,
      let ring = rings[index]
    else { return 0 }
    pendingQueues.rawValue &= ~(1 << UInt64(index))
    touched.insert(index)
    switch ring {
    case .split(let q):
      return transmitters[queuePair].transmit(from: q, into: &batch, pool: pool, counters: &counters)
    case .packed(let q):
      return transmitters[queuePair].transmit(from: q, into: &batch, pool: pool, counters: &counters)
    }
  }

  /// Delivers `batch[first...]` to the guest on `queuePair`; returns the
  /// packets consumed (the rest found no guest buffers). Per batch.
  @discardableResult
  public func receive(_ batch: PacketBatch, from first: Int = 0, queuePair: Int) -> Int {
    let index = 2 * queuePair
    guard queuePair >= 0, queuePair < receivers.count, let ring = rings[index] else { return 0 }
    pendingQueues.rawValue &= ~(1 << UInt64(index))
    touched.insert(index)
    switch ring {
    case .split(let q): return receivers[queuePair].receive(batch, from: first, into: q, counters: &counters)
    case .packed(let q): return receivers[queuePair].receive(batch, from: first, into: q, counters: &counters)
    }
  }

  /// The queues whose driver must be notified for what was completed since
  /// the last call (§2.7.10, §2.8.10). Per batch.
  public func takeNotifications() -> QueueSet {
    var result = QueueSet()
    var queues = touched
    touched = QueueSet()
    while let index = queues.popFirst() {
      if let ring = rings[index], ring.needsNotification() { result.insert(index) }
    }
    return result
  }

  /// Counters of the ring behind queue `index`, if active.
  public func queueCounters(_ index: Int) -> VirtqueueCounters? {
    guard index >= 0, index < rings.count else { return nil }
    return rings[index]?.counters
  }
}
