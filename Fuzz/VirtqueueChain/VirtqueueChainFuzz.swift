// libFuzzer target: fuzzer bytes become guest memory and ring state, and
// both ring kinds walk whatever chains that memory describes. Nothing may
// trap or touch memory outside the guest; every segment handed out must
// lie inside a region (checked with `precondition`: a failure is our bug).
import Virtio

/// Guest memory: two adjacent regions of 2 KiB each (so descriptors can
/// span a boundary), at guest-physical 0x1000.
let regionSize = 2048
let guestBase: UInt64 = 0x1000

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard size >= 8 else { return 0 }
  // Control bytes: ring kind and features, queue size, start index, ring
  // area offsets, operations.
  let control = UnsafeBufferPointer(start: data, count: 8)
  let first = UnsafeMutableRawPointer.allocate(byteCount: regionSize, alignment: 16)
  let second = UnsafeMutableRawPointer.allocate(byteCount: regionSize, alignment: 16)
  defer {
    first.deallocate()
    second.deallocate()
  }
  first.initializeMemory(as: UInt8.self, repeating: 0, count: regionSize)
  second.initializeMemory(as: UInt8.self, repeating: 0, count: regionSize)
  let body = size - 8
  let inFirst = min(body, regionSize)
  if inFirst > 0 { first.copyMemory(from: data + 8, byteCount: inFirst) }
  if body > regionSize {
    second.copyMemory(from: data + 8 + regionSize, byteCount: min(body - regionSize, regionSize))
  }

  let memory: GuestMemory
  do {
    memory = try GuestMemory(regions: [
      GuestMemoryRegion(
        guestPhysicalAddress: guestBase, size: UInt64(regionSize), frontendAddress: 0, base: first),
      GuestMemoryRegion(
        guestPhysicalAddress: guestBase + UInt64(regionSize), size: UInt64(regionSize),
        frontendAddress: UInt64(regionSize), base: second),
    ])
  } catch {
    preconditionFailure("two adjacent regions are a valid table")
  }
  let packed = control[0] & 1 != 0
  var features: VirtqueueFeatures = [.version1]
  if control[0] & 2 != 0 { features.insert(.eventIndex) }
  if control[0] & 4 != 0 { features.insert(.indirectDescriptors) }
  let size = UInt16(1) << UInt16(control[1] % 6)  // 1 ... 32
  let packedSize = UInt16(control[1] % 33)  // 0 ... 32 (0 is refused)
  let start = VirtqueueStart(
    lastAvailIndex: UInt16(control[2]) | UInt16(control[3]) << 8, wrapCounter: control[0] & 8 != 0)
  let addresses = VirtqueueAddresses(
    size: packed ? packedSize : size, descriptorTable: guestBase + UInt64(control[4]) * 16,
    driverArea: guestBase + UInt64(control[5]) * 16, deviceArea: guestBase + UInt64(control[6]) * 16)
  let limits = VirtqueueLimits(maximumChainSegments: 64, maximumChainLength: 3000, segmentArenaCapacity: 256)
  let regions = (first, second)
  if packed {
    var s = start
    s.lastAvailIndex %= max(packedSize, 1)
    guard
      let q = try? PackedVirtqueue(
        addresses: addresses, features: features, memory: memory, start: s, limits: limits)
    else { return 0 }
    resumeFromRecord(control: control, ring: addresses, memory: memory)
    exercise(q, operations: control[7], regions: regions)
  } else {
    guard
      let q = try? SplitVirtqueue(
        addresses: addresses, features: features, memory: memory, start: start, limits: limits)
    else { return 0 }
    exercise(q, operations: control[7], regions: regions)
  }
  return 0
}

func exercise<Queue: Virtqueue>(
  _ queue: Queue, operations: UInt8, regions: (UnsafeMutableRawPointer, UnsafeMutableRawPointer)
) {
  if operations & 1 != 0 { queue.disableNotifications() }
  var sink: UInt64 = 0
  var popped = 0
  var putBack = false
  while popped < 64 {
    let chain: DescriptorChain
    do {
      guard let c = try queue.nextChain() else { break }
      chain = c
    } catch {
      precondition(error.breaksQueue == queue.isBroken || !error.breaksQueue)
      popped += 1
      continue
    }
    popped += 1
    var readable = 0
    for i in 0..<chain.readableCount {
      let s = chain.readable(i)
      check(UnsafeRawPointer(s.baseAddress!), s.count, regions)
      readable += s.count
      sink &+= UInt64(s.first!) &+ UInt64(s.last!)
    }
    precondition(readable == chain.readableLength && chain.readableLength + chain.writableLength <= 3000)
    var writable = 0
    for i in 0..<chain.writableCount {
      let s = chain.writable(i)
      check(UnsafeRawPointer(s.baseAddress!), s.count, regions)
      s[0] = 0xa5
      s[s.count - 1] = 0x5a
      writable += s.count
    }
    precondition(writable == chain.writableLength)
    if operations & 2 != 0 && !putBack {
      // Give the first chain back once and pop it again.
      queue.putBack(chain)
      putBack = true
      continue
    }
    queue.complete(chain, writtenLength: operations & 4 != 0 ? Int.max : writable / 2)
  }
  sink &+= queue.needsNotification() ? 1 : 0
  sink &+= queue.enableNotifications() ? 1 : 0
  sink &+= UInt64(queue.counters.guestErrors)
  blackHole(sink)
}

func check(
  _ p: UnsafeRawPointer, _ count: Int, _ regions: (UnsafeMutableRawPointer, UnsafeMutableRawPointer)
) {
  let inFirst = p >= UnsafeRawPointer(regions.0) && p + count <= UnsafeRawPointer(regions.0) + regionSize
  let inSecond = p >= UnsafeRawPointer(regions.1) && p + count <= UnsafeRawPointer(regions.1) + regionSize
  precondition(count > 0 && (inFirst || inSecond), "segment outside guest memory")
}

@inline(never)
func blackHole(_ value: UInt64) {
  if value == 0x5eed_5eed_5eed_5eed { print("") }
}

/// A back-end's resume record word (the control bytes, with and without
/// its marker) read against the ring in fuzzer memory: never a read
/// outside the ring, never a position outside it.
func resumeFromRecord(control: UnsafeBufferPointer<UInt8>, ring: VirtqueueAddresses, memory: GuestMemory) {
  var word: UInt64 = 0
  for i in 0..<8 { word |= UInt64(control[i]) << (8 * UInt64(i)) }
  if control[7] & 0x80 != 0 { word = word & 0xFFFF_FFFF_FFFF | 0xB0E5 << 48 }
  guard let position = PackedRingPosition(word: word, size: ring.size),
    let bytes = try? memory.bytes(guestPhysical: ring.descriptorTable, count: 16 * Int(ring.size))
  else { return }
  if let resumed = position.resolved(ring: UnsafeRawPointer(bytes.baseAddress!), size: ring.size) {
    precondition(resumed.usedIndex < ring.size && resumed.pendingSlots == 0)
  }
}
