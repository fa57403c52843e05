import DataPlane
import Virtio
import VirtioDriver
import VirtioNet
import Wire

/// Virtqueues and virtio-net on the card: a split and a packed ring driven
/// the way a Linux guest drives them, a looping chain refused and counted,
/// and a TSO packet segmented with valid checksums and delivered into
/// mergeable receive buffers.
func runVirtioChecks() -> Int {
  var failures = 0
  func check(_ name: String, _ ok: Bool) {
    print((ok ? "ok   " : "FAIL ") + "virtio " + name)
    if !ok { failures += 1 }
  }
  check("split ring round trip", splitRoundTrip())
  check("packed ring round trip across laps", packedRoundTrip())
  check("looping chain dropped, queue keeps working", loopDropped())
  check("virtio-net TSO segmented and received", netSegmentAndReceive())
  return failures
}

private func splitRoundTrip() -> Bool {
  let guest = SimulatedGuest(size: 1 << 16)
  let driver = SplitRingDriver(guest: guest, size: 8, startIndex: 65534)
  let buffer = guest.allocate(256)
  guard
    let queue = try? SplitVirtqueue(
      addresses: driver.addresses, features: [.version1, .eventIndex], memory: guest.memory,
      start: driver.start)
  else { return false }
  for _ in 0..<5 {
    guard let head = driver.add([.readable(buffer, 10), .writable(buffer + 64, 100)]),
      let chain = try? queue.nextChain(), chain.head == head, chain.writableLength == 100
    else { return false }
    queue.complete(chain, writtenLength: 42)
    guard driver.popUsed() == UsedBuffer(id: head, length: 42) else { return false }
  }
  return queue.lastAvailIndex == 3
}

private func packedRoundTrip() -> Bool {
  let guest = SimulatedGuest(size: 1 << 16)
  let driver = PackedRingDriver(guest: guest, size: 3)
  let buffer = guest.allocate(256)
  guard
    let queue = try? PackedVirtqueue(
      addresses: driver.addresses, features: [.version1, .ringPacked, .indirectDescriptors],
      memory: guest.memory)
  else { return false }
  for round in 0..<10 {
    guard let id = driver.add([.readable(buffer, 8), .writable(buffer + 8, 8)], indirect: round % 2 == 1),
      let chain = try? queue.nextChain(), chain.head == id, chain.readableLength == 8
    else { return false }
    queue.complete(chain, writtenLength: 8)
    guard driver.popUsed() == UsedBuffer(id: id, length: 8) else { return false }
  }
  return queue.counters.guestErrors == 0
}

private func loopDropped() -> Bool {
  let guest = SimulatedGuest(size: 1 << 16)
  let driver = SplitRingDriver(guest: guest, size: 4)
  let buffer = guest.allocate(64)
  guard
    let queue = try? SplitVirtqueue(addresses: driver.addresses, features: [.version1], memory: guest.memory)
  else { return false }
  driver.writeDescriptor(0, address: buffer, length: 4, flags: 1, next: 1)
  driver.writeDescriptor(1, address: buffer, length: 4, flags: 1, next: 0)
  driver.pushAvailable(head: 0)
  do {
    _ = try queue.nextChain()
    return false
  } catch {
    guard error == .chainTooLong, !queue.isBroken, queue.counters.chainsTooLong == 1 else { return false }
  }
  driver.writeDescriptor(2, address: buffer, length: 4, flags: 0, next: 0)
  driver.pushAvailable(head: 2)
  return (try? queue.nextChain())??.head == 2
}

private func netSegmentAndReceive() -> Bool {
  let guest = SimulatedGuest(size: 1 << 20)
  let device = VirtioNetDevice(configuration: VirtioNetConfiguration(mac: MACAddress(2, 0, 0, 0, 0, 1)))
  let ring: VirtqueueFeatures = [.version1, .eventIndex]
  let net: VirtioNetFeatures = [.checksum, .guestChecksum, .hostTSO4, .mergeableReceiveBuffers]
  let tx = SplitRingDriver(guest: guest, size: 16)
  let rx = SplitRingDriver(guest: guest, size: 16)
  guard let rxRing = try? VirtqueueRing.make(addresses: rx.addresses, features: ring, memory: guest.memory),
    let txRing = try? VirtqueueRing.make(addresses: tx.addresses, features: ring, memory: guest.memory)
  else { return false }
  do throws(VirtioDeviceError) {
    try device.acceptFeatures(net.rawValue | ring.rawValue)
    try device.activateQueue(0, ring: rxRing)
    try device.activateQueue(1, ring: txRing)
  } catch {
    return false
  }
  // Ethernet + IPv4 + TCP + 3000 payload bytes, MSS 1000.
  let frameLength = 14 + 20 + 20 + 3000
  let packet = guest.allocate(12 + frameLength)
  let p = guest.pointer(packet, count: 12 + frameLength)
  var header = VirtioNetHeader()
  header.flags = VirtioNetHeader.needsChecksum
  header.gsoType = VirtioNetHeader.gsoTCPv4
  header.gsoSize = 1000
  header.checksumStart = 34
  header.checksumOffset = 16
  header.write(to: p)
  let f = p + 12
  for i in 0..<6 { f.storeBytes(of: UInt8(2), toByteOffset: i, as: UInt8.self) }
  f.storeBytes(of: UInt16(0x0800).bigEndian, toByteOffset: 12, as: UInt16.self)
  f.storeBytes(of: UInt8(0x45), toByteOffset: 14, as: UInt8.self)
  f.storeBytes(of: UInt8(64), toByteOffset: 22, as: UInt8.self)
  f.storeBytes(of: UInt8(6), toByteOffset: 23, as: UInt8.self)
  f.storeBytes(of: IPv4Address(10, 0, 0, 1).rawValue.bigEndian, toByteOffset: 26, as: UInt32.self)
  f.storeBytes(of: IPv4Address(10, 0, 0, 2).rawValue.bigEndian, toByteOffset: 30, as: UInt32.self)
  f.storeBytes(of: UInt8(0x50), toByteOffset: 46, as: UInt8.self)
  f.storeBytes(of: UInt8(0x19), toByteOffset: 47, as: UInt8.self)
  for i in 0..<3000 { f.storeBytes(of: UInt8(truncatingIfNeeded: i), toByteOffset: 54 + i, as: UInt8.self) }
  guard tx.add([.readable(packet, UInt32(12 + frameLength))]) != nil else { return false }
  let pool = PacketPool(bufferCount: 64)
  var batch = PacketBatch()
  guard device.transmit(queuePair: 0, into: &batch, pool: pool) == 3, tx.popUsed() != nil else {
    return false
  }
  for k in 0..<batch.count {
    let data = UnsafeRawBufferPointer(batch[k].data)
    guard let parsed = try? PacketParser.parse(data), parsed.outer.payloadLength == 1000,
      parsed.outer.tcpFlags.rawValue == (k == 2 ? 0x19 : 0x10)
    else { return false }
    let l4 = parsed.outer.transportOffset
    let pseudo = InternetChecksum.pseudoHeaderSum(
      source: IPv4Address(10, 0, 0, 1), destination: IPv4Address(10, 0, 0, 2), protocol: .tcp,
      length: data.count - l4)
    guard
      InternetChecksum.isValid(
        partialSum: InternetChecksum.sum(data.baseAddress! + l4, count: data.count - l4, initial: pseudo))
    else { return false }
  }
  // Into 512-byte mergeable buffers: 12 + 1054 bytes take three each.
  let receive = guest.allocate(16 * 512)
  for i in 0..<9 { _ = rx.add([.writable(receive + UInt64(i * 512), 512)]) }
  guard device.receive(batch, queuePair: 0) == 3 else { return false }
  for b in batch.buffers { pool.give(b) }
  let first = VirtioNetHeader(UnsafeRawPointer(guest.pointer(receive, count: 12)))
  var used = 0
  while rx.popUsed() != nil { used += 1 }
  return used == 9 && first.bufferCount == 3 && first.flags == VirtioNetHeader.dataValid
}
