import BlockStorage
import Virtio

/// A virtio-blk device (virtio 1.2 §5.2) serving a `BlockStore` (an
/// encrypted volume) on the virtio core's queues.
///
/// Guest data is copied once into a card-memory bounce buffer and only then
/// encrypted (writes) or decrypted into it and copied out (reads): the guest
/// can change its memory at any moment and must never see or steer the
/// cipher's work. Requests larger than the buffer go through it in chunks.
///
/// Every malformed request is answered with VIRTIO_BLK_S_IOERR or S_UNSUPP
/// and counted; the device keeps serving. One thread serves all queues of a
/// device (the store is not shared between threads).
public final class VirtioBlkDevice<Store: BlockStore>: VirtioDevice {
  public let store: Store
  public internal(set) var counters = VirtioBlkCounters()
  public private(set) var acceptedFeatures: UInt64 = 0
  public private(set) var status: VirtioDeviceStatus = []
  public let queueCount: Int
  public let maximumQueueSize: UInt16
  /// The capacity the guest was last told, in 512-byte sectors.
  public private(set) var advertisedCapacity: UInt64
  private var queues: [VirtqueueRing?]
  let serial: [UInt8]
  let bounce: UnsafeMutableRawBufferPointer
  let limits: VirtioBlkLimits

  public init(
    store: Store, serial: String, queueCount: Int = 2, maximumQueueSize: UInt16 = 256,
    limits: VirtioBlkLimits = VirtioBlkLimits()
  ) {
    precondition(queueCount >= 1 && queueCount <= QueueSet.maximumQueues)
    self.store = store
    self.queueCount = queueCount
    self.maximumQueueSize = maximumQueueSize
    self.limits = limits
    advertisedCapacity = store.sectorCount
    queues = [VirtqueueRing?](repeating: nil, count: queueCount)
    // §5.2.6: GET_ID's 20 bytes, zero-padded (not NUL-terminated when full).
    var id = Array(serial.utf8.prefix(BlockRequest.idSize))
    while id.count < BlockRequest.idSize { id.append(0) }
    self.serial = id
    bounce = .allocate(byteCount: limits.bounceBytes, alignment: 4096)
    bounce.initializeMemory(as: UInt8.self, repeating: 0)
  }

  deinit {
    // May hold a tenant's plaintext.
    for i in 0..<bounce.count { bounce[i] = 0 }
    bounce.deallocate()
  }

  public var deviceID: UInt32 { 2 }

  public var offeredFeatures: UInt64 {
    var f: UInt64 =
      VirtqueueFeatures.supported.rawValue | VirtioBlkFeatures.sizeMax | VirtioBlkFeatures.segMax
      | VirtioBlkFeatures.blockSize | VirtioBlkFeatures.flush | VirtioBlkFeatures.topology
    if queueCount > 1 { f |= VirtioBlkFeatures.multiQueue }
    if store.isReadOnly {
      f |= VirtioBlkFeatures.readOnly
    } else {
      f |= VirtioBlkFeatures.writeZeroes
      if store.supportsDiscard { f |= VirtioBlkFeatures.discard }
    }
    return f
  }

  public func acceptFeatures(_ features: UInt64) throws(VirtioDeviceError) {
    guard features & ~offeredFeatures == 0 else { throw .unsupportedFeatures(features & ~offeredFeatures) }
    acceptedFeatures = features
  }

  public var configuration: VirtioBlkConfiguration {
    VirtioBlkConfiguration(
      capacity: advertisedCapacity, sizeMax: UInt32(limits.bounceBytes), segMax: limits.segmentMax,
      blockSize: store.blockSize, queueCount: UInt16(queueCount),
      maxDiscardSectors: limits.rangeSectorsMax, maxDiscardSegments: limits.rangeSegmentsMax,
      discardSectorAlignment: store.blockSize / 512, maxWriteZeroesSectors: limits.rangeSectorsMax,
      maxWriteZeroesSegments: limits.rangeSegmentsMax, writeZeroesMayUnmap: false)
  }

  public var configSize: Int { VirtioBlkConfiguration.size }

  public func readConfig(offset: Int, into destination: UnsafeMutableRawBufferPointer)
    throws(VirtioDeviceError)
  {
    guard offset >= 0, destination.count <= configSize, offset <= configSize - destination.count else {
      throw .configAccessOutOfRange(offset: offset, count: destination.count)
    }
    withUnsafeTemporaryAllocation(byteCount: configSize, alignment: 8) { all in
      configuration.encode(into: all)
      destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: all[offset..<offset + destination.count]))
    }
  }

  /// Only `writeback` is writable in the spec, and only with CONFIG_WCE,
  /// which is not offered.
  public func writeConfig(offset: Int, from source: UnsafeRawBufferPointer) throws(VirtioDeviceError) {
    throw .configAccessOutOfRange(offset: offset, count: source.count)
  }

  /// Call after the store's size changed: true if the capacity the guest
  /// knows is now stale, so the transport must send a configuration change
  /// notification (§5.2.2, §4.1.4.3.1 config_generation; vhost-user:
  /// VHOST_USER_BACKEND_CONFIG_CHANGE_MSG).
  public func refreshCapacity() -> Bool {
    let now = store.sectorCount
    guard now != advertisedCapacity else { return false }
    advertisedCapacity = now
    return true
  }

  public func activateQueue(_ index: Int, ring: VirtqueueRing) throws(VirtioDeviceError) {
    guard index >= 0 && index < queueCount else { throw .queueIndexOutOfRange(index) }
    queues[index] = ring
  }

  public func deactivateQueue(_ index: Int) -> VirtqueueStart? {
    guard index >= 0 && index < queueCount, let ring = queues[index] else { return nil }
    queues[index] = nil
    return ring.start
  }

  public func remap(memory: GuestMemory) throws(VirtioDeviceError) {
    for ring in queues {
      guard let ring else { continue }
      do { try ring.remap(memory: memory) } catch { throw .queue(error) }
    }
  }

  public func reset() {
    for i in queues.indices { queues[i] = nil }
    acceptedFeatures = 0
    status = []
  }

  /// Per batch: serves every available request on queue `index`.
  public func processQueue(_ index: Int) -> QueueSet {
    var notify = QueueSet()
    guard index >= 0 && index < queueCount, let ring = queues[index] else { return notify }
    let needs: Bool
    switch ring {
    case .split(let q): needs = serve(q)
    case .packed(let q): needs = serve(q)
    }
    if ring.isBroken { status.insert(.needsReset) }
    if needs { notify.insert(index) }
    return notify
  }

  /// Per batch, specialised per ring kind.
  private func serve<Queue: Virtqueue>(_ queue: Queue) -> Bool {
    var completed = false
    while true {
      let next: DescriptorChain?
      do {
        next = try queue.nextChain()
      } catch {
        // The queue completed the bad chain itself; go on unless broken.
        counters.droppedChains += 1
        completed = true
        if queue.isBroken { break }
        continue
      }
      guard let chain = next else { break }
      queue.complete(chain, writtenLength: handle(chain))
      completed = true
    }
    return completed && queue.needsNotification()
  }
}
