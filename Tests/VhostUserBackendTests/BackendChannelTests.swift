import Foundation
import Platform
import Testing
import VhostUser

@testable import VhostUserBackend

/// The back-end channel over real sockets: the server keeps the descriptor
/// SET_BACKEND_REQ_FD brings, sends CONFIG_CHANGE_MSG on it without
/// blocking, and closes it when the front-end goes.
@Suite(.serialized) struct BackendChannelTests {
  /// A device whose config space may change (a volume's capacity).
  struct ResizableDevice: VhostUserDevice {
    var capacity: UInt64 = 2048
    var offeredFeatures: UInt64 { 1 << 32 }
    var queueCount: Int { 1 }
    var maximumQueueSize: UInt16 { 256 }
    var announcesConfigurationChanges: Bool { true }
    func readConfig(offset: Int, count: Int) -> [UInt8]? {
      let bytes = (0..<8).map { UInt8(truncatingIfNeeded: capacity >> (8 * $0)) }
      guard offset >= 0, count >= 0, offset + count <= bytes.count else { return nil }
      return Array(bytes[offset..<offset + count])
    }
    mutating func writeConfig(offset: Int, bytes: [UInt8]) -> Bool { false }
    mutating func negotiated(features: UInt64) {}
    mutating func start(_ ring: ActiveRing, memory: MemoryTable) -> Bool { true }
    mutating func stop(queue: Int) -> UInt32 { 0 }
    mutating func reset() {}
    mutating func service(queue: Int) -> RingActivity { .idle }
    mutating func setNotifications(queue: Int, enabled: Bool) -> Bool { false }
  }

  /// Reads what is on `socket` (waiting at most `milliseconds`); nil at
  /// end of file.
  func read(_ socket: FileDescriptor, milliseconds: Int32 = 2000) throws -> [UInt8]? {
    let epoll = try Epoll()
    defer { try? epoll.close() }
    try epoll.add(socket, events: .readable, token: 1)
    guard try epoll.wait(timeoutMilliseconds: milliseconds) { _ in } == 1 else { return [] }
    var bytes = [UInt8](repeating: 0, count: 64)
    let n = try bytes.withUnsafeMutableBytes { try socket.read(into: $0) }
    return n == 0 ? nil : Array(bytes[0..<n])
  }

  @Test func aConfigChangeReachesTheChannelWhichIsClosedWithTheConnection() throws {
    let path = NSTemporaryDirectory() + "bh-vu-\(getpid())-channel.sock"
    let server = try VhostUserServer<ResizableDevice>()
    server.log = { _ in }
    defer { server.shutdown() }
    let index = try server.addEndpoint(path: path, device: ResizableDevice())
    func serve() { for _ in 0..<3 { try? server.runOnce(timeoutMilliseconds: 0) } }
    let frontend = try VhostUserFrontend(path: path)
    serve()
    // Nothing to announce on before the channel exists.
    #expect(!server.announceConfigurationChange(endpoint: index))
    try frontend.send(.getProtocolFeatures)
    serve()
    let offered = ProtocolFeatures(rawValue: try frontend.receiveU64())
    #expect(offered.contains(.backendRequest) && offered.contains(.config))
    try frontend.send(.setProtocolFeatures([.backendRequest, .config, .replyAck]))
    let (ours, theirs) = try UnixSocket.pair()
    defer { try? ours.close() }
    try frontend.send(.setBackendRequestFD, fds: [theirs.rawValue], needsReply: true)
    try theirs.close()
    serve()
    #expect(try frontend.receiveU64() == 0)

    #expect(server.announceConfigurationChange(endpoint: index))
    let message = try #require(try read(ours))
    #expect(message == BackendRequest.configChange.encoded)
    #expect(server.endpoint(at: index)?.totals.configChangesAnnounced == 1)

    // The front-end goes: the server's copy of the channel is closed, so
    // the other end reads end of file.
    frontend.close()
    serve()
    #expect(try read(ours) == nil)
    #expect(!server.announceConfigurationChange(endpoint: index))
  }

  @Test func aChannelNobodyReadsIsDroppedWithoutBlocking() throws {
    let path = NSTemporaryDirectory() + "bh-vu-\(getpid())-full.sock"
    let server = try VhostUserServer<ResizableDevice>()
    server.log = { _ in }
    defer { server.shutdown() }
    let index = try server.addEndpoint(path: path, device: ResizableDevice())
    func serve() { for _ in 0..<3 { try? server.runOnce(timeoutMilliseconds: 0) } }
    let frontend = try VhostUserFrontend(path: path)
    defer { frontend.close() }
    serve()
    try frontend.send(.setProtocolFeatures([.backendRequest, .config]))
    let (ours, theirs) = try UnixSocket.pair()
    defer { try? ours.close() }
    try frontend.send(.setBackendRequestFD, fds: [theirs.rawValue])
    try theirs.close()
    serve()
    // Never read: the socket buffer fills, the send would block, so the
    // channel is dropped instead and the loop goes on.
    var sent = 0
    while server.announceConfigurationChange(endpoint: index) {
      sent += 1
      if sent > 1_000_000 { break }
    }
    #expect(sent > 0 && sent < 1_000_000)
    #expect(server.endpoint(at: index)?.totals.backendChannelFailures == 1)
    // The connection itself is still served.
    try frontend.send(.getQueueNum)
    serve()
    #expect(try frontend.receiveU64() == 1)
  }
}
