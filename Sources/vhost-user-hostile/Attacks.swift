import Platform
import VhostUser
import VhostUserBackend

/// Guest memory the ring attacks use: 1 MiB at guest address 0, which the
/// front-end "mapped" at 0x7000_0000_0000.
let memorySize: UInt64 = 1 << 20
let userBase: UInt64 = 0x7000_0000_0000
let region = MemoryRegionDescription(guestAddress: 0, size: memorySize, userAddress: userBase)

/// Sets up guest memory (mapped here too, to write hostile rings into it).
func withGuestMemory(
  _ f: VhostUserFrontend, _ body: (UnsafeMutableRawPointer) throws(VhostUserFrontend.FrontendError) -> Answer
) throws(VhostUserFrontend.FrontendError) -> Answer {
  let fd = memoryFile(memorySize)
  defer { try? FileDescriptor(rawValue: fd).close() }
  guard let mapping = try? SharedMapping(fd: FileDescriptor(rawValue: fd), length: memorySize) else {
    return .failed("cannot map our own memfd")
  }
  defer { try? mapping.unmap() }
  try f.send(.setMemoryTable([region]), fds: [fd], needsReply: true)
  guard try answer(f) == .accepted else { return .failed("a valid memory table was refused") }
  return try body(mapping.pointer)
}

/// Writes one descriptor (virtio 1.2 §2.7.5).
func writeDescriptor(
  _ memory: UnsafeMutableRawPointer, table: Int, index: Int, address: UInt64, length: UInt32, flags: UInt16,
  next: UInt16
) {
  let d = memory + table + 16 * index
  d.storeBytes(of: address.littleEndian, as: UInt64.self)
  d.storeBytes(of: length.littleEndian, toByteOffset: 8, as: UInt32.self)
  d.storeBytes(of: flags.littleEndian, toByteOffset: 12, as: UInt16.self)
  d.storeBytes(of: next.littleEndian, toByteOffset: 14, as: UInt16.self)
}

/// A ring (descriptors at 0, available at 0x1000, used at 0x2000) whose
/// available ring offers descriptor 0, after `prepare` wrote the chain; the
/// ring is kicked and the back-end must still answer GET_VRING_BASE.
func hostileRing(_ name: String, prepare: @escaping @Sendable (UnsafeMutableRawPointer) -> Void) -> Attack {
  Attack(name: name, acceptable: [.carriedOn, .refused]) { (path) throws(VhostUserFrontend.FrontendError) in
    let f = try negotiatedFrontend(path)
    defer { f.close() }
    return try withGuestMemory(f) { (memory) throws(VhostUserFrontend.FrontendError) in
      prepare(memory)
      (memory + 0x1000).storeBytes(of: UInt16(0), as: UInt16.self)  // flags
      (memory + 0x1004).storeBytes(of: UInt16(0), as: UInt16.self)  // ring[0] = descriptor 0
      (memory + 0x1002).storeBytes(of: UInt16(1).littleEndian, as: UInt16.self)  // idx
      return try startKickAndStop(f, base: 0)
    }
  }
}

/// Starts ring 1 (the transmit queue of a net device) on the ring in guest
/// memory (descriptors at 0, driver area at 0x1000, device area at 0x2000)
/// from `base`, kicks it and asks for it back with GET_VRING_BASE, which
/// the back-end must still answer.
func startKickAndStop(_ f: VhostUserFrontend, base: UInt32) throws(VhostUserFrontend.FrontendError) -> Answer
{
  let kick = (try? EventNotifier()) ?? EventNotifier(adopting: FileDescriptor(rawValue: -1))
  defer { try? kick.close() }
  let q: UInt32 = 1
  try f.send(.setVringNum(VringState(index: q, number: 256)))
  try f.send(.setVringBase(VringState(index: q, number: base)))
  try f.send(
    .setVringAddress(
      VringAddress(
        index: q, descriptorTable: userBase, usedRing: userBase + 0x2000, availableRing: userBase + 0x1000)))
  try f.send(.setVringKick(VringFileRequest(index: q, hasFD: true)), fds: [kick.fd.rawValue])
  try f.send(.setVringEnable(VringState(index: q, number: 1)), needsReply: true)
  let enabled = try answer(f)
  try? kick.signal()
  try f.send(.getVringBase(index: q))
  do throws(VhostUserFrontend.FrontendError) { _ = try f.receiveReply(timeoutMilliseconds: 3000) } catch {
    return error == .closed ? .disconnected : .noAnswer
  }
  return enabled == .refused ? .refused : .carriedOn
}

/// Writes one packed descriptor (virtio 1.2 §2.8.13): le64 addr, le32
/// len, le16 id, le16 flags. `flags` gets AVAIL (bit 7) for the first lap.
func writePackedDescriptor(
  _ memory: UnsafeMutableRawPointer, slot: Int, address: UInt64, length: UInt32, id: UInt16, flags: UInt16
) {
  let d = memory + 16 * slot
  d.storeBytes(of: address.littleEndian, as: UInt64.self)
  d.storeBytes(of: length.littleEndian, toByteOffset: 8, as: UInt32.self)
  d.storeBytes(of: id.littleEndian, toByteOffset: 12, as: UInt16.self)
  d.storeBytes(of: (flags | 1 << 7).littleEndian, toByteOffset: 14, as: UInt16.self)
}

/// A packed ring (descriptors at 0, driver event suppression at 0x1000,
/// device event suppression at 0x2000) after `prepare` wrote its slots,
/// started from `base` (SET_VRING_BASE: slot in bits 0–14, wrap counter in
/// bit 15) and kicked; the back-end must still answer GET_VRING_BASE.
func hostilePackedRing(
  _ name: String, base: UInt32 = 0x8000_8000, prepare: @escaping @Sendable (UnsafeMutableRawPointer) -> Void
) -> Attack {
  Attack(name: name, acceptable: [.carriedOn, .refused, .notOffered]) {
    (path) throws(VhostUserFrontend.FrontendError) in
    let (f, features) = try negotiated(path, extra: packedRingFeatures)
    defer { f.close() }
    guard features & 1 << 34 != 0 else { return .notOffered }
    return try withGuestMemory(f) { (memory) throws(VhostUserFrontend.FrontendError) in
      prepare(memory)
      return try startKickAndStop(f, base: base)
    }
  }
}

let attacks: [Attack] = [
  Attack(name: "header with version 0", acceptable: [.disconnected]) {
    path throws(VhostUserFrontend.FrontendError) in
    let f = try negotiatedFrontend(path)
    defer { f.close() }
    return ackOf(f, raw(request: 1, flags: 0))
  },
  Attack(name: "payload size of 1 MiB", acceptable: [.disconnected]) {
    path throws(VhostUserFrontend.FrontendError) in
    let f = try negotiatedFrontend(path)
    defer { f.close() }
    return ackOf(f, raw(request: 2, size: 1 << 20))
  },
  Attack(name: "unknown request 99", acceptable: [.refused]) { path throws(VhostUserFrontend.FrontendError) in
    let f = try negotiatedFrontend(path)
    defer { f.close() }
    return ackOf(f, raw(request: 99))
  },
  Attack(name: "SET_FEATURES with a 4-byte payload", acceptable: [.refused]) {
    path throws(VhostUserFrontend.FrontendError) in
    let f = try negotiatedFrontend(path)
    defer { f.close() }
    return ackOf(f, raw(request: 2, payload: [0, 0, 0, 0]))
  },
  Attack(name: "GET_FEATURES with a payload", acceptable: [.disconnected]) {
    path throws(VhostUserFrontend.FrontendError) in
    let f = try negotiatedFrontend(path)
    defer { f.close() }
    do throws(VhostUserFrontend.FrontendError) {
      try f.sendRaw(raw(request: 1, flags: 1, payload: [1, 2, 3, 4, 5, 6, 7, 8]))
      _ = try f.receiveReply(timeoutMilliseconds: 3000)
      return .accepted
    } catch { return error == .closed ? .disconnected : .noAnswer }
  },
  Attack(name: "SET_OWNER with 20 descriptors", acceptable: [.refused]) {
    path throws(VhostUserFrontend.FrontendError) in
    let f = try negotiatedFrontend(path)
    defer { f.close() }
    let fds = (0..<20).map { _ in memoryFile(4096) }
    defer { for fd in fds { try? FileDescriptor(rawValue: fd).close() } }
    return ackOf(f, raw(request: 3), fds: fds)
  },
  Attack(name: "memory table of 9 regions", acceptable: [.refused]) {
    path throws(VhostUserFrontend.FrontendError) in
    let f = try negotiatedFrontend(path)
    defer { f.close() }
    let regions = (0..<9).map { i in
      MemoryRegionDescription(guestAddress: UInt64(i) << 20, size: 4096, userAddress: UInt64(i) << 30)
    }
    var payload = VhostUserMessage.setMemoryTable(regions).encodedPayload()
    payload[0] = 9
    let fds = (0..<8).map { _ in memoryFile(4096) }
    defer { for fd in fds { try? FileDescriptor(rawValue: fd).close() } }
    return ackOf(f, raw(request: 5, payload: payload), fds: fds)
  },
  Attack(name: "memory table with a descriptor missing", acceptable: [.refused]) {
    path throws(VhostUserFrontend.FrontendError) in
    let f = try negotiatedFrontend(path)
    defer { f.close() }
    let fd = memoryFile(8192)
    defer { try? FileDescriptor(rawValue: fd).close() }
    let regions = [
      MemoryRegionDescription(guestAddress: 0, size: 4096, userAddress: 0x1000_0000),
      MemoryRegionDescription(guestAddress: 0x10_0000, size: 4096, userAddress: 0x2000_0000),
    ]
    return ackOf(f, VhostUserMessage.setMemoryTable(regions).encoded(needsReply: true), fds: [fd])
  },
  Attack(name: "memory table with overlapping regions", acceptable: [.refused]) {
    path throws(VhostUserFrontend.FrontendError) in
    let f = try negotiatedFrontend(path)
    defer { f.close() }
    let fds = [memoryFile(1 << 16), memoryFile(1 << 16)]
    defer { for fd in fds { try? FileDescriptor(rawValue: fd).close() } }
    let regions = [
      MemoryRegionDescription(guestAddress: 0, size: 1 << 16, userAddress: 0x1000_0000),
      MemoryRegionDescription(guestAddress: 0x8000, size: 1 << 16, userAddress: 0x2000_0000),
    ]
    return ackOf(f, VhostUserMessage.setMemoryTable(regions).encoded(needsReply: true), fds: fds)
  },
  Attack(name: "region of 1 GiB on a 4 KiB memfd", acceptable: [.refused]) {
    path throws(VhostUserFrontend.FrontendError) in
    let f = try negotiatedFrontend(path)
    defer { f.close() }
    let fd = memoryFile(4096)
    defer { try? FileDescriptor(rawValue: fd).close() }
    let regions = [MemoryRegionDescription(guestAddress: 0, size: 1 << 30, userAddress: 0x1000_0000)]
    return ackOf(f, VhostUserMessage.setMemoryTable(regions).encoded(needsReply: true), fds: [fd])
  },
  Attack(name: "region whose end wraps 64 bits", acceptable: [.refused]) {
    path throws(VhostUserFrontend.FrontendError) in
    let f = try negotiatedFrontend(path)
    defer { f.close() }
    let fd = memoryFile(4096)
    defer { try? FileDescriptor(rawValue: fd).close() }
    let regions = [MemoryRegionDescription(guestAddress: UInt64.max - 100, size: 4096, userAddress: 0)]
    return ackOf(f, VhostUserMessage.setMemoryTable(regions).encoded(needsReply: true), fds: [fd])
  },
  Attack(name: "ring size 100 (not a power of two)", acceptable: [.refused]) {
    path throws(VhostUserFrontend.FrontendError) in
    let f = try negotiatedFrontend(path)
    defer { f.close() }
    return ackOf(f, VhostUserMessage.setVringNum(VringState(index: 0, number: 100)).encoded(needsReply: true))
  },
  Attack(name: "ring index 200", acceptable: [.refused]) { path throws(VhostUserFrontend.FrontendError) in
    let f = try negotiatedFrontend(path)
    defer { f.close() }
    return ackOf(
      f, VhostUserMessage.setVringNum(VringState(index: 200, number: 256)).encoded(needsReply: true))
  },
  Attack(name: "used ring outside guest memory", acceptable: [.refused]) {
    path throws(VhostUserFrontend.FrontendError) in
    let f = try negotiatedFrontend(path)
    defer { f.close() }
    return try withGuestMemory(f) { (_) throws(VhostUserFrontend.FrontendError) in
      try f.send(.setVringNum(VringState(index: 0, number: 256)))
      try f.send(
        .setVringAddress(
          VringAddress(
            index: 0, descriptorTable: userBase, usedRing: userBase + memorySize - 16,
            availableRing: userBase + 0x1000)))
      try f.send(.setVringKick(VringFileRequest(index: 0, hasFD: false)))
      return ackOf(
        f, VhostUserMessage.setVringEnable(VringState(index: 0, number: 1)).encoded(needsReply: true))
    }
  },
  hostileRing("descriptor chain that loops") { memory in
    writeDescriptor(memory, table: 0, index: 0, address: 0x4000, length: 64, flags: 1, next: 1)
    writeDescriptor(memory, table: 0, index: 1, address: 0x4000, length: 64, flags: 1, next: 0)
  },
  hostileRing("descriptor of 4 GiB") { memory in
    writeDescriptor(memory, table: 0, index: 0, address: 0x4000, length: 0xFFFF_FFFF, flags: 0, next: 0)
  },
  hostileRing("descriptor outside guest memory") { memory in
    writeDescriptor(memory, table: 0, index: 0, address: 1 << 40, length: 1500, flags: 0, next: 0)
  },
  hostileRing("chain with next beyond the ring") { memory in
    writeDescriptor(memory, table: 0, index: 0, address: 0x4000, length: 64, flags: 1, next: 999)
  },
  // Packed rings (virtio 1.2 §2.8): where the back-end offers them.
  hostilePackedRing("packed chain with no end") { memory in
    for slot in 0..<256 {
      writePackedDescriptor(memory, slot: slot, address: 0x4000, length: 64, id: 0, flags: 1)
    }
  },
  hostilePackedRing("packed indirect descriptor inside a chain") { memory in
    writePackedDescriptor(memory, slot: 0, address: 0x4000, length: 64, id: 0, flags: 1)
    writePackedDescriptor(memory, slot: 1, address: 0x5000, length: 32, id: 0, flags: 4)
  },
  hostilePackedRing("packed descriptor outside guest memory") { memory in
    writePackedDescriptor(memory, slot: 0, address: 1 << 40, length: 1500, id: 0, flags: 0)
  },
  hostilePackedRing("packed indirect table outside guest memory") { memory in
    writePackedDescriptor(memory, slot: 0, address: memorySize - 16, length: 64, id: 0, flags: 4)
  },
  // Wrap counter 0 on a ring never used: slot 0 reads as used in lap 0, so
  // the start contradicts the ring and the queue stays broken.
  hostilePackedRing("packed ring with a bogus wrap counter", base: 0) { _ in },
  hostilePackedRing("packed ring base beyond the ring", base: 0x8000 | 300) { _ in },
  Attack(name: "half a header, then hang up", acceptable: [.carriedOn]) {
    path throws(VhostUserFrontend.FrontendError) in
    let f = try negotiatedFrontend(path)
    try f.sendRaw([1, 0, 0, 0, 1])
    f.close()
    let again = try VhostUserFrontend(path: path)
    defer { again.close() }
    return stillAnswers(again)
  },
  Attack(name: "second front-end on a busy socket", acceptable: [.disconnected]) {
    path throws(VhostUserFrontend.FrontendError) in
    let first = try negotiatedFrontend(path)
    defer { first.close() }
    let second = try VhostUserFrontend(path: path)
    defer { second.close() }
    return second.isClosedByPeer(timeoutMilliseconds: 3000) ? .disconnected : .carriedOn
  },
]
