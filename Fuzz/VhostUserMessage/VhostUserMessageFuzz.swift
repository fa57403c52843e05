// Fuzzes the vhost-user framer, codec and session state machine with no
// real descriptors: "descriptors" are numbers, guest memory is allocated.
//
// Input: chunks of [fd count: 1 byte][length: 1 byte][bytes]. Each chunk is
// fed to the framer with that many fresh descriptor numbers; every framed
// message goes to the session. Checked besides memory safety: every
// descriptor handed to the session is closed exactly once by the end, and
// every mapping is unmapped.
import VhostUser

struct FuzzHost: HostResources {
  var closeCounts: [Int32: Int] = [:]
  var mappings: [UInt: Int] = [:]

  mutating func mapMemoryFile(fd: Int32, length: UInt64) throws(VhostUserError) -> UnsafeMutableRawPointer {
    // Odd descriptors are small files, so oversized regions are refused.
    let size: UInt64 = fd % 2 == 0 ? 0x10000 : 0x1000
    guard length <= size else { throw .regionTooLarge(size: length) }
    let p = UnsafeMutableRawPointer.allocate(byteCount: Int(length), alignment: 4096)
    p.initializeMemory(as: UInt8.self, repeating: 0, count: Int(length))
    mappings[UInt(bitPattern: p)] = Int(length)
    return p
  }

  mutating func unmap(_ base: UnsafeMutableRawPointer, length: UInt64) {
    guard mappings.removeValue(forKey: UInt(bitPattern: base)) == Int(length) else {
      fatalError("unmap of a mapping that was not made, or with another length")
    }
    base.deallocate()
  }

  mutating func close(fd: Int32) { closeCounts[fd, default: 0] += 1 }
}

struct FuzzDevice: VhostUserDevice {
  var offeredFeatures: UInt64 = 1 << 32 | 1 << 5
  var queueCount = 3
  var maximumQueueSize: UInt16 = 1024
  var running: Set<Int> = []
  var config = [UInt8](repeating: 7, count: 12)

  func readConfig(offset: Int, count: Int) -> [UInt8]? {
    guard offset >= 0, count >= 0, offset <= config.count, count <= config.count - offset else { return nil }
    return Array(config[offset..<offset + count])
  }
  mutating func writeConfig(offset: Int, bytes: [UInt8]) -> Bool {
    guard offset >= 0, offset <= config.count, bytes.count <= config.count - offset else { return false }
    config.replaceSubrange(offset..<offset + bytes.count, with: bytes)
    return true
  }
  mutating func negotiated(features: UInt64) {}
  mutating func start(_ ring: ActiveRing, memory: MemoryTable) -> Bool {
    // The session promised every part is inside guest memory.
    let n = UInt64(ring.size)
    guard memory.hostAddress(forGuestAddress: ring.descriptorTableAddress, length: 16 * n) != nil,
      memory.hostAddress(forGuestAddress: ring.availableRingAddress, length: 6 + 2 * n) != nil,
      memory.hostAddress(forGuestAddress: ring.usedRingAddress, length: 6 + 8 * n) != nil
    else { fatalError("ring started outside guest memory") }
    running.insert(ring.queue)
    return true
  }
  mutating func stop(queue: Int) -> UInt32 {
    running.remove(queue)
    return 0
  }
  mutating func reset() { running.removeAll() }
  mutating func service(queue: Int) -> RingActivity { .idle }
  mutating func setNotifications(queue: Int, enabled: Bool) -> Bool { false }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let input = UnsafeBufferPointer(start: data, count: size)
  var options = SessionOptions()
  options.offersMemorySlots = size % 2 == 0
  let session = VhostUserSession(device: FuzzDevice(), host: FuzzHost(), options: options)
  var framer = MessageFramer()
  var nextFD: Int32 = 100
  var given: [Int32] = []
  var i = 0
  while i + 2 <= input.count {
    let fdCount = Int(input[i] % 10)
    let length = min(Int(input[i + 1]), input.count - i - 2)
    let bytes = Array(input[(i + 2)..<(i + 2 + length)])
    i += 2 + length
    var fds: [Int32] = []
    for _ in 0..<fdCount {
      fds.append(nextFD)
      given.append(nextFD)
      nextFD += 1
    }
    framer.append(bytes[...], fds: fds[...])
    while true {
      let frame: MessageFramer.Frame?
      do throws(VhostUserError) { frame = try framer.next() } catch {
        for fd in framer.takePendingFDs() { session.withHost { $0.close(fd: fd) } }
        session.close()
        framer = MessageFramer()
        break
      }
      guard let frame else { break }
      if case .disconnect = session.handle(frame) {
        session.close()
        framer = MessageFramer()
        break
      }
    }
  }
  for fd in framer.takePendingFDs() { session.withHost { $0.close(fd: fd) } }
  session.close()
  let host = session.host
  for fd in given where host.closeCounts[fd] != 1 {
    fatalError("descriptor closed \(host.closeCounts[fd] ?? 0) times")
  }
  if !host.mappings.isEmpty { fatalError("mapping left behind") }
  return 0
}
