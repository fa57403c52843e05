import BlockStorage
import Virtio
import VirtioBlk

// Guest-controlled virtio-blk requests: the fuzzer's bytes become a guest's
// whole memory (descriptor table, available ring, headers, range segments,
// data), so descriptor chains, request framing and range lists are all
// hostile. The device must answer or drop every chain without trapping and
// without touching memory outside the region, and its store must never be
// asked for anything outside its capacity.

private let memorySize = 64 * 1024
private let queueSize: UInt16 = 16
private let guestBase: UnsafeMutableRawPointer = {
  let p = UnsafeMutableRawPointer.allocate(byteCount: memorySize, alignment: 4096)
  p.initializeMemory(as: UInt8.self, repeating: 0, count: memorySize)
  return p
}()
private let backend = MemoryBackend(byteCount: 32 * 1024)
private let device = VirtioBlkDevice(
  store: PlainStore(backend: backend), serial: "fuzz",
  limits: VirtioBlkLimits(bounceBytes: 8192, segmentMax: 4, rangeSectorsMax: 64, rangeSegmentsMax: 4))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard size >= 4 else { return 0 }
  // The pure parser on its own: first 16 bytes as a header, two lengths.
  let readable = Int(data[0]) << 4
  let writable = Int(data[1]) << 4 | Int(data[2] & 15)
  _ = try? BlockRequest.parse(
    header: UnsafeRawBufferPointer(start: data + 3, count: min(16, size - 3)), readableLength: readable,
    writableLength: writable)

  // The whole device: guest memory is the input, repeated to fill it.
  var i = 0
  while i < memorySize {
    let n = min(size, memorySize - i)
    (guestBase + i).copyMemory(from: data, byteCount: n)
    i += n
  }
  // Descriptor table at 0 (16 * 16 bytes), available ring at 0x100, used
  // ring at 0x200: the input decides every descriptor and the avail idx
  // (bounded to a queue's worth, else the ring is broken, also fine).
  guestBase.storeBytes(of: UInt16(0), toByteOffset: 0x100, as: UInt16.self)
  do {
    let memory = try GuestMemory(regions: [
      GuestMemoryRegion(
        guestPhysicalAddress: 0, size: UInt64(memorySize), frontendAddress: 0, base: guestBase)
    ])
    let features: VirtqueueFeatures = data[3] & 1 == 0 ? [.version1] : [.version1, .indirectDescriptors]
    let ring = try VirtqueueRing.make(
      addresses: VirtqueueAddresses(
        size: queueSize, descriptorTable: 0, driverArea: 0x100, deviceArea: 0x200),
      features: features, memory: memory)
    try device.activateQueue(0, ring: ring)
    _ = device.processQueue(0)
    _ = device.deactivateQueue(0)
  } catch {
    return 0
  }
  return 0
}
