// bench-virtio: ring-to-ring packets per second on one core. A simulated
// Linux-style driver keeps device A's TX ring and device B's RX ring full;
// each round device A moves up to 32 frames out of its TX ring into packet
// buffers (`transmit`) and device B delivers them into its RX ring
// (`receive`), then the driver recycles what was used. Both devices run
// the virtio-net model with MRG_RXBUF and EVENT_IDX negotiated, as Linux
// does. The figure includes the driver's side (it runs on the same core),
// so it is a floor for the device, not only its cost.
//
//   swift run -c release bench-virtio [--quick]
//
// Peer in the same run: the same frames copied twice with memcpy per packet
// (guest TX buffer → packet buffer → guest RX buffer), the data movement a
// ring-to-ring device cannot avoid.
import DataPlane
import Foundation
import Virtio
import VirtioDriver
import VirtioNet
import Wire

let quick = CommandLine.arguments.contains("--quick")
let runs = quick ? 3 : 7
let ringSize: UInt16 = 256
let receiveBufferSize = VirtioNetHeader.size + 1518

/// Either kind of ring's driver side.
enum RingDriver {
  case split(SplitRingDriver)
  case packed(PackedRingDriver)

  init(guest: SimulatedGuest, packed: Bool) {
    self =
      packed
      ? .packed(PackedRingDriver(guest: guest, size: ringSize))
      : .split(SplitRingDriver(guest: guest, size: ringSize))
  }

  var addresses: VirtqueueAddresses {
    switch self {
    case .split(let d): return d.addresses
    case .packed(let d): return d.addresses
    }
  }

  @inline(__always)
  func add(_ buffer: UnsafeBufferPointer<DriverBuffer>) -> Bool {
    switch self {
    case .split(let d): return d.add(buffer) != nil
    case .packed(let d): return d.add(buffer) != nil
    }
  }

  @inline(__always)
  func popUsed() -> Bool {
    switch self {
    case .split(let d): return d.popUsed() != nil
    case .packed(let d): return d.popUsed() != nil
    }
  }
}

/// Two devices, A's TX ring and B's RX ring, each driven by a simulated guest.
final class RingToRing {
  let guest = SimulatedGuest(size: 16 << 20)
  let sender: VirtioNetDevice
  let receiver: VirtioNetDevice
  let transmitRing: RingDriver
  let receiveRing: RingDriver
  let pool = PacketPool(bufferCount: 1024)
  let frameAddresses: [UInt64]
  let receiveAddresses: [UInt64]
  let frameLength: Int
  var nextFrame = 0
  var nextReceive = 0

  init(packed: Bool, frameLength: Int) throws {
    self.frameLength = frameLength
    var ring: VirtqueueFeatures = [.version1, .eventIndex, .indirectDescriptors]
    if packed { ring.insert(.ringPacked) }
    let net: VirtioNetFeatures = [.mergeableReceiveBuffers, .mac, .mtu]
    let mac = MACAddress(2, 0, 0, 0, 0, 1)
    sender = VirtioNetDevice(configuration: VirtioNetConfiguration(mac: mac, queuePairs: 1))
    receiver = VirtioNetDevice(configuration: VirtioNetConfiguration(mac: mac, queuePairs: 1))
    try sender.acceptFeatures(net.rawValue | ring.rawValue)
    try receiver.acceptFeatures(net.rawValue | ring.rawValue)
    transmitRing = RingDriver(guest: guest, packed: packed)
    receiveRing = RingDriver(guest: guest, packed: packed)
    try sender.activateQueue(
      1, ring: VirtqueueRing.make(addresses: transmitRing.addresses, features: ring, memory: guest.memory))
    try receiver.activateQueue(
      0, ring: VirtqueueRing.make(addresses: receiveRing.addresses, features: ring, memory: guest.memory))
    // One header + frame per TX slot, one receive buffer per RX slot.
    var frames: [UInt64] = []
    var receives: [UInt64] = []
    for i in 0..<Int(ringSize) {
      let address = guest.allocate(VirtioNetHeader.size + frameLength, alignment: 64)
      let p = guest.bytes(address, count: VirtioNetHeader.size + frameLength)
      for j in 0..<p.count { p[j] = j < VirtioNetHeader.size ? 0 : UInt8(truncatingIfNeeded: i &+ j) }
      frames.append(address)
      receives.append(guest.allocate(receiveBufferSize, alignment: 64))
    }
    frameAddresses = frames
    receiveAddresses = receives
    for _ in 0..<Int(ringSize) {
      postFrame()
      postReceive()
    }
  }

  func postFrame() {
    var b = DriverBuffer.readable(frameAddresses[nextFrame], UInt32(VirtioNetHeader.size + frameLength))
    nextFrame = (nextFrame + 1) % frameAddresses.count
    _ = withUnsafePointer(to: &b) { transmitRing.add(UnsafeBufferPointer(start: $0, count: 1)) }
  }

  func postReceive() {
    var b = DriverBuffer.writable(receiveAddresses[nextReceive], UInt32(receiveBufferSize))
    nextReceive = (nextReceive + 1) % receiveAddresses.count
    _ = withUnsafePointer(to: &b) { receiveRing.add(UnsafeBufferPointer(start: $0, count: 1)) }
  }

  /// Moves `packets` frames ring to ring; returns those delivered.
  func run(packets: Int) -> Int {
    var delivered = 0
    var batch = PacketBatch()
    while delivered < packets {
      sender.transmit(queuePair: 0, into: &batch, pool: pool)
      let n = receiver.receive(batch, queuePair: 0)
      delivered += n
      for i in 0..<batch.count { pool.give(batch[i]) }
      batch.removeAll()
      _ = sender.takeNotifications()
      _ = receiver.takeNotifications()
      while transmitRing.popUsed() { postFrame() }
      while receiveRing.popUsed() { postReceive() }
      if n == 0 { fatalError("ring-to-ring made no progress") }
    }
    return delivered
  }
}

/// The copy floor: guest TX buffer → packet buffer → guest RX buffer.
func copyFloor(frameLength: Int, packets: Int) -> Double {
  let source = UnsafeMutableRawPointer.allocate(byteCount: 256 * 2048, alignment: 64)
  let middle = UnsafeMutableRawPointer.allocate(byteCount: 1024 * 2048, alignment: 64)
  let destination = UnsafeMutableRawPointer.allocate(byteCount: 256 * 2048, alignment: 64)
  defer {
    source.deallocate()
    middle.deallocate()
    destination.deallocate()
  }
  source.initializeMemory(as: UInt8.self, repeating: 7, count: 256 * 2048)
  let start = DispatchTime.now().uptimeNanoseconds
  for i in 0..<packets {
    let s = source + (i & 255) * 2048
    let m = middle + (i & 1023) * 2048
    let d = destination + ((i &* 7) & 255) * 2048
    memcpy(m, s, frameLength)
    memcpy(d, m, frameLength)
  }
  let end = DispatchTime.now().uptimeNanoseconds
  return Double(end - start) / Double(packets)
}

func median(_ values: [Double]) -> (Double, Double, Double) {
  let sorted = values.sorted()
  return (sorted[sorted.count / 2], sorted.first!, sorted.last!)
}

func format(_ value: Double) -> String { String(format: "%.1f", value) }

print("bench-virtio: ring-to-ring, one core, batches of \(PacketBatch.capacity), ring size \(ringSize)")
print("ring    frame  Mpps (median)  ns/packet median (min-max)   copy floor ns/packet  ratio")
for frameLength in [64, 1500] {
  let packets = quick ? 200_000 : (frameLength == 64 ? 2_000_000 : 1_000_000)
  for packed in [false, true] {
    let bench = try RingToRing(packed: packed, frameLength: frameLength)
    _ = bench.run(packets: packets / 10)
    var samples: [Double] = []
    var floors: [Double] = []
    for _ in 0..<runs {
      let start = DispatchTime.now().uptimeNanoseconds
      let moved = bench.run(packets: packets)
      let end = DispatchTime.now().uptimeNanoseconds
      samples.append(Double(end - start) / Double(moved))
      floors.append(copyFloor(frameLength: frameLength, packets: packets))
    }
    let (ns, low, high) = median(samples)
    let (floor, _, _) = median(floors)
    let kind = packed ? "packed" : "split "
    print(
      kind + "  " + String(frameLength).padding(toLength: 5, withPad: " ", startingAt: 0) + "  "
        + format(1000 / ns).padding(toLength: 13, withPad: " ", startingAt: 0) + "  " + format(ns) + " ("
        + format(low) + "-" + format(high) + ")".padding(toLength: 16, withPad: " ", startingAt: 0)
        + format(floor).padding(toLength: 22, withPad: " ", startingAt: 0) + format(ns / floor))
    let counters = bench.receiver.counters
    precondition(counters.receiveTooLong == 0 && bench.sender.counters.transmitErrors == 0)
  }
}
