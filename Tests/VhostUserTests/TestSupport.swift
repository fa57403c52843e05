@testable import VhostUser

/// Guest memory without descriptors: each "fd" names a zeroed buffer of
/// the size in `fileSizes`; closes and unmaps are recorded.
struct MemoryHost: HostResources {
  var fileSizes: [Int32: UInt64] = [:]
  var closed: [Int32] = []
  var mapped: [UInt: UInt64] = [:]

  mutating func mapMemoryFile(fd: Int32, length: UInt64) throws(VhostUserError) -> UnsafeMutableRawPointer {
    guard let size = fileSizes[fd] else { throw .mapFailed(errno: 9) }
    guard length <= size else { throw .regionTooLarge(size: length) }
    let p = UnsafeMutableRawPointer.allocate(byteCount: Int(length), alignment: 4096)
    p.initializeMemory(as: UInt8.self, repeating: 0, count: Int(length))
    mapped[UInt(bitPattern: p)] = length
    return p
  }

  mutating func unmap(_ base: UnsafeMutableRawPointer, length: UInt64) {
    mapped[UInt(bitPattern: base)] = nil
    base.deallocate()
  }

  mutating func close(fd: Int32) { closed.append(fd) }
}

/// A device that records what the session asked of it.
struct RecordingDevice: VhostUserDevice {
  var offeredFeatures: UInt64 = 1 << 32
  var queueCount = 2
  var maximumQueueSize: UInt16 = 256
  var config: [UInt8] = [0x52, 0x54, 0, 0x12, 0x34, 0x56, 1, 0]
  var started: [ActiveRing] = []
  var stopped: [Int] = []
  var resets = 0
  var nextIndex: [Int: UInt16] = [:]

  func readConfig(offset: Int, count: Int) -> [UInt8]? {
    guard offset >= 0, count >= 0, offset <= config.count, count <= config.count - offset else { return nil }
    return Array(config[offset..<offset + count])
  }
  mutating func writeConfig(offset: Int, bytes: [UInt8]) -> Bool { false }
  mutating func negotiated(features: UInt64) {}
  mutating func start(_ ring: ActiveRing, memory: MemoryTable) -> Bool {
    started.append(ring)
    nextIndex[ring.queue] = ring.nextAvailableIndex
    return true
  }
  mutating func stop(queue: Int) -> UInt32 {
    stopped.append(queue)
    return UInt32(nextIndex[queue] ?? 0)
  }
  mutating func reset() { resets += 1 }
  mutating func service(queue: Int) -> RingActivity { .idle }
  mutating func setNotifications(queue: Int, enabled: Bool) -> Bool { false }
}

typealias TestSession = VhostUserSession<RecordingDevice, MemoryHost>

extension VhostUserSession {
  /// Sends an encoded message through the framer, as the server does.
  func send(_ message: VhostUserMessage, fds: [Int32] = [], needsReply: Bool = false) -> SessionOutcome {
    var framer = MessageFramer()
    framer.append(message.encoded(needsReply: needsReply)[...], fds: fds[...])
    guard let frame = try? framer.next() else { return .disconnect(.truncatedHeader) }
    return handle(frame)
  }
}

/// The u64 in a reply, if the outcome is one.
func replyValue(_ outcome: SessionOutcome) -> UInt64? {
  guard case .reply(let bytes) = outcome, bytes.count == 20 else { return nil }
  return bytes.littleEndian(at: 12, as: UInt64.self)
}
