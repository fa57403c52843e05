import Testing

@testable import VhostUser

/// The back-end channel (vhost-user.rst: SET_BACKEND_REQ_FD, back-end
/// requests): offered only by a device whose config space may change,
/// accepted only once negotiated, its descriptor owned by the session.
@Suite struct BackendChannelSessionTests {
  /// A device with a config space that announces its changes.
  struct ResizableDevice: VhostUserDevice {
    var inner = RecordingDevice()
    var offeredFeatures: UInt64 { inner.offeredFeatures }
    var queueCount: Int { inner.queueCount }
    var maximumQueueSize: UInt16 { inner.maximumQueueSize }
    var announcesConfigurationChanges: Bool { true }
    func readConfig(offset: Int, count: Int) -> [UInt8]? { inner.readConfig(offset: offset, count: count) }
    mutating func writeConfig(offset: Int, bytes: [UInt8]) -> Bool { false }
    mutating func negotiated(features: UInt64) {}
    mutating func start(_ ring: ActiveRing, memory: MemoryTable) -> Bool { inner.start(ring, memory: memory) }
    mutating func stop(queue: Int) -> UInt32 { inner.stop(queue: queue) }
    mutating func reset() { inner.reset() }
    mutating func service(queue: Int) -> RingActivity { .idle }
    mutating func setNotifications(queue: Int, enabled: Bool) -> Bool { false }
  }

  @Test func onlyADeviceThatAnnouncesConfigChangesOffersTheBackendChannel() {
    let plain = TestSession(device: RecordingDevice(), host: MemoryHost())
    #expect(!plain.offeredProtocolFeatures.contains(.backendRequest))
    let resizable = VhostUserSession(device: ResizableDevice(), host: MemoryHost())
    #expect(resizable.offeredProtocolFeatures.isSuperset(of: [.backendRequest, .config]))
    #expect(
      replyValue(resizable.send(.getProtocolFeatures)).map { $0 & (1 << 5 | 1 << 9) } == 1 << 5 | 1 << 9)
  }

  @Test func theChannelIsKeptReplacedAndClosedWithTheConnection() {
    let s = VhostUserSession(device: ResizableDevice(), host: MemoryHost())
    _ = s.send(.setProtocolFeatures([.replyAck, .config, .backendRequest]))
    #expect(
      s.send(.setBackendRequestFD, fds: [30], needsReply: true) == .reply(Reply.u64(.setBackendRequestFD, 0)))
    #expect(s.backendChannelFD == 30)
    // A second one replaces the first, which is closed.
    _ = s.send(.setBackendRequestFD, fds: [31])
    #expect(s.backendChannelFD == 31)
    #expect(s.host.closed == [30])
    s.close()
    #expect(s.backendChannelFD == nil)
    #expect(s.host.closed == [30, 31])
  }

  @Test func aChannelThatWasNotNegotiatedIsRefusedAndItsDescriptorClosed() {
    let s = VhostUserSession(device: ResizableDevice(), host: MemoryHost())
    _ = s.send(.setProtocolFeatures([.replyAck, .config]))
    #expect(
      s.send(.setBackendRequestFD, fds: [40], needsReply: true) == .reply(Reply.u64(.setBackendRequestFD, 1)))
    #expect(s.backendChannelFD == nil)
    #expect(s.host.closed == [40])
    // Without its descriptor the message is malformed.
    _ = s.send(.setProtocolFeatures([.replyAck, .config, .backendRequest]))
    #expect(s.send(.setBackendRequestFD, needsReply: true) == .reply(Reply.u64(.setBackendRequestFD, 1)))
    #expect(s.backendChannelFD == nil)
  }

  @Test func theConfigChangeMessageIsAHeaderWithoutPayloadOrNeedReply() throws {
    let bytes = BackendRequest.configChange.encoded
    let header = try MessageHeader(parsing: bytes)
    #expect(bytes.count == MessageHeader.size)
    #expect(header.request == 2 && header.size == 0 && !header.needsReply && !header.isReply)
  }
}
