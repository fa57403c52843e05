import DataPlane
import Virtio
import VirtioDriver
import Wire

@testable import VirtioNet

/// Either ring kind's driver, for tests that run on both.
enum TestRingDriver {
  case split(SplitRingDriver)
  case packed(PackedRingDriver)

  init(guest: SimulatedGuest, packed: Bool, size: UInt16 = 64) {
    self =
      packed
      ? .packed(PackedRingDriver(guest: guest, size: size))
      : .split(SplitRingDriver(guest: guest, size: size))
  }

  var addresses: VirtqueueAddresses {
    switch self {
    case .split(let d): return d.addresses
    case .packed(let d): return d.addresses
    }
  }

  @discardableResult
  func add(_ buffers: [DriverBuffer], indirect: Bool = false) -> UInt16? {
    switch self {
    case .split(let d): return d.add(buffers, indirect: indirect)
    case .packed(let d): return d.add(buffers, indirect: indirect)
    }
  }

  func popUsed() -> UsedBuffer? {
    switch self {
    case .split(let d): return d.popUsed()
    case .packed(let d): return d.popUsed()
    }
  }
}

/// A guest with one queue pair and a control queue on a negotiated device.
final class NetFixture {
  static let mac = MACAddress(0x52, 0x54, 0, 0x12, 0x34, 0x56)
  let guest = SimulatedGuest(size: 4 << 20)
  let device: VirtioNetDevice
  let rx: TestRingDriver
  let tx: TestRingDriver
  let control: TestRingDriver
  let pool = PacketPool(bufferCount: 512)
  let packed: Bool
  let ringFeatures: VirtqueueFeatures
  /// Scratch area for frames and receive buffers.
  let data: UInt64
  var cursor: UInt64

  init(
    packed: Bool = false, features: VirtioNetFeatures = VirtioNetConfiguration.defaultFeatures,
    mtu: UInt16 = 1500
  )
    throws
  {
    device = VirtioNetDevice(configuration: VirtioNetConfiguration(mac: Self.mac, mtu: mtu, queuePairs: 2))
    var ring: VirtqueueFeatures = [.version1, .eventIndex, .indirectDescriptors]
    if packed { ring.insert(.ringPacked) }
    self.packed = packed
    ringFeatures = ring
    try device.acceptFeatures(features.rawValue | ring.rawValue)
    rx = TestRingDriver(guest: guest, packed: packed)
    tx = TestRingDriver(guest: guest, packed: packed)
    control = TestRingDriver(guest: guest, packed: packed)
    for (index, driver) in [(0, rx), (1, tx), (device.controlQueueIndex, control)] {
      try device.activateQueue(
        index, ring: VirtqueueRing.make(addresses: driver.addresses, features: ring, memory: guest.memory))
    }
    data = guest.allocate(2 << 20, alignment: 4096)
    cursor = data
  }

  /// Activates the second queue pair's rings (receiveq2, transmitq2); the
  /// pair runs once the driver sets two pairs (`command([4, 0, 2, 0])`).
  func activateSecondPair() throws -> (rx: TestRingDriver, tx: TestRingDriver) {
    let rx1 = TestRingDriver(guest: guest, packed: packed)
    let tx1 = TestRingDriver(guest: guest, packed: packed)
    for (index, driver) in [(2, rx1), (3, tx1)] {
      try device.activateQueue(
        index,
        ring: VirtqueueRing.make(addresses: driver.addresses, features: ringFeatures, memory: guest.memory))
    }
    return (rx1, tx1)
  }

  /// Sends one control-queue command (§5.1.6.5); returns its ack byte, or
  /// nil if the device did not complete it with one.
  func command(_ bytes: [UInt8]) -> UInt8? {
    let ack = reserve(1)
    control.add([.readable(place(bytes), UInt32(bytes.count)), .writable(ack, 1)])
    _ = device.processQueue(device.controlQueueIndex)
    guard let used = control.popUsed(), used.length == 1 else { return nil }
    return read(ack, 1)[0]
  }

  /// `frames` in buffers from the fixture's pool, as the card hands them
  /// to the device.
  func batch(_ frames: [[UInt8]]) -> PacketBatch {
    var batch = PacketBatch()
    for frame in frames {
      var b = pool.take()!
      _ = frame.withUnsafeBytes { b.load($0, headroom: pool.headroom) }
      batch.append(b)
    }
    return batch
  }

  /// Copies `bytes` into fresh guest memory; returns its address.
  func place(_ bytes: [UInt8]) -> UInt64 {
    let address = reserve(bytes.count)
    let p = guest.bytes(address, count: bytes.count)
    for (i, b) in bytes.enumerated() { p[i] = b }
    return address
  }

  func reserve(_ count: Int) -> UInt64 {
    let address = cursor
    cursor += UInt64((count + 63) & ~63)
    return address
  }

  func read(_ address: UInt64, _ count: Int) -> [UInt8] {
    [UInt8](UnsafeRawBufferPointer(guest.bytes(address, count: count)))
  }

  /// Sends `frame` with `header` as two descriptors (as Linux does with
  /// its header in the skb's headroom, it is often one; both are legal).
  func send(_ header: VirtioNetHeader, _ frame: [UInt8], split: Bool = true) {
    var h = [UInt8](repeating: 0, count: VirtioNetHeader.size)
    h.withUnsafeMutableBytes { header.write(to: $0.baseAddress!) }
    if split {
      tx.add([.readable(place(h), UInt32(h.count)), .readable(place(frame), UInt32(frame.count))])
    } else {
      let all = h + frame
      tx.add([.readable(place(all), UInt32(all.count))])
    }
  }

  func transmitAll() -> [[UInt8]] {
    var out: [[UInt8]] = []
    while true {
      var batch = PacketBatch()
      let n = device.transmit(queuePair: 0, into: &batch, pool: pool)
      for b in batch.buffers {
        out.append(b.bytes)
        pool.give(b)
      }
      if n == 0 { break }
    }
    return out
  }
}

/// Frames built by hand the way Linux hands them to a virtio-net device.
enum TestFrames {
  static let source4: [UInt8] = [10, 0, 0, 1]
  static let destination4: [UInt8] = [10, 0, 0, 2]
  static let source6: [UInt8] = [0xfd, 0] + [UInt8](repeating: 0, count: 13) + [1]
  static let destination6: [UInt8] = [0xfd, 0] + [UInt8](repeating: 0, count: 13) + [2]

  static func be16(_ v: Int) -> [UInt8] { [UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }
  static func be32(_ v: UInt32) -> [UInt8] {
    [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)]
  }

  static func sum(_ bytes: [UInt8]) -> UInt32 {
    bytes.withUnsafeBytes { InternetChecksum.sum($0) }
  }

  /// Ethernet + IPv4/IPv6 + TCP (with a 12-byte timestamp option) +
  /// payload. The TCP checksum field holds the pseudo-header sum (what
  /// Linux leaves for CHECKSUM_PARTIAL); the IPv4 header checksum is right.
  static func tcp(
    ipv6: Bool = false, payload: [UInt8], sequence: UInt32 = 1000, flags: UInt8 = 0x18,
    identification: Int = 0x1234
  ) -> [UInt8] {
    let tcpLength = 32 + payload.count
    var frame: [UInt8] = [0x52, 0x54, 0, 0, 0, 2, 0x52, 0x54, 0, 0x12, 0x34, 0x56]
    var pseudo: UInt32
    if ipv6 {
      frame += be16(0x86dd)
      frame += [0x60, 0, 0, 0] + be16(tcpLength) + [6, 64] + source6 + destination6
      pseudo = sum(source6 + destination6)
    } else {
      frame += be16(0x0800)
      var ip: [UInt8] = [0x45, 0] + be16(20 + tcpLength) + be16(identification) + [0x40, 0, 64, 6, 0, 0]
      ip += source4 + destination4
      let c = InternetChecksum.finish(sum(ip))
      ip[10] = UInt8(c >> 8)
      ip[11] = UInt8(c & 0xff)
      frame += ip
      pseudo = sum(source4 + destination4)
    }
    pseudo = InternetChecksum.combine(pseudo, 6 + UInt32(tcpLength))
    let folded = UInt16(InternetChecksum.combine(pseudo, 0))
    frame += be16(40000) + be16(80) + be32(sequence) + be32(7) + [0x80, flags] + be16(65535)
    frame += be16(Int(folded)) + [0, 0]
    frame += [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]  // NOP NOP timestamps
    return frame + payload
  }

  /// The same frame with its TCP checksum completed, as a peer sends it.
  static func complete(_ frame: [UInt8], ipv6: Bool = false) -> [UInt8] {
    var out = frame
    let l4 = ipv6 ? 54 : 34
    let c = InternetChecksum.finish(sum(Array(frame[l4...])))
    out[l4 + 16] = UInt8(c >> 8)
    out[l4 + 17] = UInt8(c & 0xff)
    return out
  }

  static func payload(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) } }
}
