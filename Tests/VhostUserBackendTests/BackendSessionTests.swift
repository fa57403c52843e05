import Foundation
import Platform
import Synchronization
import Testing
import VhostUser

@testable import VhostUserBackend

/// A device whose every service asks for an interrupt, so a kick becomes a
/// call the front-end can see.
struct EchoingDevice: VhostUserDevice {
  var offeredFeatures: UInt64 { 1 << 32 }
  var queueCount: Int { 2 }
  var maximumQueueSize: UInt16 { 256 }
  var next: [Int: UInt16] = [:]
  func readConfig(offset: Int, count: Int) -> [UInt8]? { nil }
  mutating func writeConfig(offset: Int, bytes: [UInt8]) -> Bool { false }
  mutating func negotiated(features: UInt64) {}
  mutating func start(_ ring: ActiveRing, memory: MemoryTable) -> Bool {
    next[ring.queue] = ring.nextAvailableIndex &+ 3
    return true
  }
  mutating func stop(queue: Int) -> UInt32 { UInt32(next[queue] ?? 0) }
  mutating func reset() { next.removeAll() }
  mutating func service(queue: Int) -> RingActivity {
    RingActivity(didWork: false, interrupts: 1 << UInt64(queue))
  }
  mutating func setNotifications(queue: Int, enabled: Bool) -> Bool { false }
}

/// Runs a server on its own thread until `stop()`.
final class RunningServer: @unchecked Sendable {
  let server: VhostUserServer<EchoingDevice>
  let stopping = Atomic<Bool>(false)
  let finished = DispatchSemaphore(value: 0)
  let paths: [String]

  init(paths: [String]) throws {
    server = try VhostUserServer()
    server.log = { _ in }
    self.paths = paths
    for path in paths { try server.addEndpoint(path: path, device: EchoingDevice()) }
    Thread {
      try? self.server.run(wakeMilliseconds: 20) { self.stopping.load(ordering: .relaxed) }
      self.server.shutdown()
      self.finished.signal()
    }.start()
  }

  func stop() {
    stopping.store(true, ordering: .relaxed)
    finished.wait()
  }
}

@Suite(.serialized) struct BackendSessionTests {
  static func socketPath(_ name: String) -> String {
    NSTemporaryDirectory() + "bh-vu-\(getpid())-\(name).sock"
  }

  @Test func frontendSetsUpARingOverRealMemoryAndKicksGetCalls() throws {
    let path = Self.socketPath("ring")
    let running = try RunningServer(paths: [path])
    defer { running.stop() }
    let f = try VhostUserFrontend(path: path)
    defer { f.close() }
    try f.send(.getFeatures)
    let offered = try f.receiveU64()
    #expect(offered & (1 << 30) != 0 && offered & (1 << 32) != 0)
    try f.send(.setFeatures(offered))
    try f.send(.getProtocolFeatures)
    let protocolFeatures = try f.receiveU64()
    try f.send(
      .setProtocolFeatures(ProtocolFeatures(rawValue: protocolFeatures & ProtocolFeatures.replyAck.rawValue)))
    try f.send(.setOwner)

    let memory = try MemoryFile.create(name: "guest", size: 1 << 20)
    defer { try? memory.close() }
    let mapping = try SharedMapping(fd: memory, length: 1 << 20)
    defer { try? mapping.unmap() }
    // The guest had used 5 buffers before: the ring resumes there.
    (mapping.pointer + 0x2002).storeBytes(of: UInt16(5).littleEndian, as: UInt16.self)
    let base: UInt64 = 0x7F00_0000_0000
    try f.send(
      .setMemoryTable([MemoryRegionDescription(guestAddress: 0, size: 1 << 20, userAddress: base)]),
      fds: [memory.rawValue], needsReply: true)
    #expect(try f.receiveU64() == 0)

    let kick = try EventNotifier()
    let call = try EventNotifier()
    defer {
      try? kick.close()
      try? call.close()
    }
    try f.send(.setVringNum(VringState(index: 0, number: 256)))
    try f.send(.setVringBase(VringState(index: 0, number: 0)))
    try f.send(
      .setVringAddress(
        VringAddress(index: 0, descriptorTable: base, usedRing: base + 0x2000, availableRing: base + 0x1000)))
    try f.send(.setVringKick(VringFileRequest(index: 0, hasFD: true)), fds: [kick.fd.rawValue])
    try f.send(.setVringCall(VringFileRequest(index: 0, hasFD: true)), fds: [call.fd.rawValue])
    try f.send(.setVringEnable(VringState(index: 0, number: 1)), needsReply: true)
    #expect(try f.receiveU64() == 0)

    // A kick reaches the device; its interrupt comes back on the call fd.
    _ = try call.drain()
    try kick.signal()
    let epoll = try Epoll()
    defer { try? epoll.close() }
    try epoll.add(call.fd, events: .readable, token: 1)
    #expect(try epoll.wait(timeoutMilliseconds: 5000) { _ in } == 1)
    #expect(try call.drain() > 0)

    // GET_VRING_BASE stops the ring: the device resumed at 5 and says 8.
    try f.send(.getVringBase(index: 0))
    let reply = try f.receiveReply()
    #expect(reply.header.request == VhostUserRequest.getVringBase.rawValue && reply.header.isReply)
    #expect(reply.payload == [0, 0, 0, 0, 8, 0, 0, 0])
  }

  @Test func aBrokenFrontendOnOneSocketLeavesTheOtherServed() throws {
    let good = Self.socketPath("good")
    let bad = Self.socketPath("bad")
    let running = try RunningServer(paths: [good, bad])
    defer { running.stop() }
    let healthy = try VhostUserFrontend(path: good)
    defer { healthy.close() }
    try healthy.send(.getQueueNum)
    #expect(try healthy.receiveU64() == 2)

    let hostile = try VhostUserFrontend(path: bad)
    // Bad version bits: no way to find the next message, so it is dropped.
    try hostile.sendRaw([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    #expect(hostile.isClosedByPeer(timeoutMilliseconds: 5000))
    hostile.close()

    try healthy.send(.getQueueNum)
    #expect(try healthy.receiveU64() == 2)
    // The bad socket serves the next front-end.
    let next = try VhostUserFrontend(path: bad)
    defer { next.close() }
    try next.send(.getQueueNum)
    #expect(try next.receiveU64() == 2)
  }
}
