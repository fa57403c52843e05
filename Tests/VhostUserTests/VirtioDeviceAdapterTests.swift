import Testing
import Virtio

@testable import VhostUser

/// A Virtio device that takes every chain on its queues and completes it
/// without writing: enough to see the adapter build real queues.
final class SinkDevice: VirtioDevice {
  var deviceID: UInt32 { 1 }
  var offeredFeatures: UInt64 { VirtqueueFeatures.version1.rawValue | VirtqueueFeatures.ringPacked.rawValue }
  private(set) var acceptedFeatures: UInt64 = 0
  var queueCount: Int { 2 }
  var maximumQueueSize: UInt16 { 256 }
  var status: VirtioDeviceStatus { [] }
  var configSize: Int { 4 }
  var queues: [VirtqueueRing?] = [nil, nil]
  var chains = 0

  func acceptFeatures(_ features: UInt64) throws(VirtioDeviceError) { acceptedFeatures = features }
  func readConfig(offset: Int, into destination: UnsafeMutableRawBufferPointer) throws(VirtioDeviceError) {
    for i in destination.indices { destination[i] = UInt8(offset + i) }
  }
  func writeConfig(offset: Int, from source: UnsafeRawBufferPointer) throws(VirtioDeviceError) {}
  func activateQueue(_ index: Int, ring: VirtqueueRing) throws(VirtioDeviceError) { queues[index] = ring }
  func deactivateQueue(_ index: Int) -> VirtqueueStart? {
    defer { queues[index] = nil }
    return queues[index]?.start
  }
  func processQueue(_ index: Int) -> QueueSet {
    var notify = QueueSet()
    switch queues[index] {
    case .split(let q)?: if drain(q) { notify.insert(index) }
    case .packed(let q)?: if drain(q) { notify.insert(index) }
    case nil: break
    }
    return notify
  }
  private func drain<Q: Virtqueue>(_ q: Q) -> Bool {
    while let chain = try? q.nextChain() {
      q.complete(chain, writtenLength: 0)
      chains += 1
    }
    return q.needsNotification()
  }
  func remap(memory: GuestMemory) throws(VirtioDeviceError) {}
  func reset() { queues = [nil, nil] }
}

@Suite struct VirtioDeviceAdapterTests {
  @Test func aKickedChainIsCompletedInGuestMemory() throws {
    var host = MemoryHost()
    host.fileSizes[10] = 0x10000
    let sink = SinkDevice()
    let s = VhostUserSession(device: VirtioDeviceAdapter(sink), host: host)
    #expect(s.offeredFeatures & VirtqueueFeatures.ringPacked.rawValue != 0)
    _ = s.send(.setFeatures(VirtqueueFeatures.version1.rawValue))
    #expect(sink.acceptedFeatures == VirtqueueFeatures.version1.rawValue)
    let region = MemoryRegionDescription(guestAddress: 0, size: 0x10000, userAddress: 0x1000_0000)
    _ = s.send(.setMemoryTable([region]), fds: [10])
    let memory = try #require(s.memory.hostAddress(forGuestAddress: 0, length: 0x10000))
    // One readable descriptor at guest address 0x8000, offered in the
    // available ring (virtio 1.2 §2.7.5, §2.7.6).
    memory.storeBytes(of: UInt64(0x8000).littleEndian, as: UInt64.self)
    memory.storeBytes(of: UInt32(64).littleEndian, toByteOffset: 8, as: UInt32.self)
    (memory + 0x1004).storeBytes(of: UInt16(0), as: UInt16.self)
    (memory + 0x1002).storeBytes(of: UInt16(1).littleEndian, as: UInt16.self)
    _ = s.send(.setVringNum(VringState(index: 1, number: 256)))
    _ = s.send(
      .setVringAddress(
        VringAddress(
          index: 1, descriptorTable: 0x1000_0000, usedRing: 0x1000_2000, availableRing: 0x1000_1000)))
    _ = s.send(.setVringKick(VringFileRequest(index: 1, hasFD: false)))
    #expect(s.rings[1].isRunning)

    let activity = s.withDevice { $0.service(queue: 1) }
    #expect(activity.didWork)
    #expect(activity.interrupts == 1 << 1)
    #expect(sink.chains == 1)
    #expect(UInt16(littleEndian: (memory + 0x2002).load(as: UInt16.self)) == 1)
    #expect(s.withDevice { $0.service(queue: 1) } == .idle)
    #expect(s.withDevice { $0.readConfig(offset: 1, count: 2) } == [1, 2])
    #expect(s.withDevice { $0.readConfig(offset: 3, count: 2) } == nil)
  }
}
