import BlockStorage
import Virtio
import VirtioBlk

/// A guest's side of one split virtqueue in test memory (virtio 1.2 §2.7):
/// it writes descriptors and the available ring as a driver would, and
/// reads the used ring back.
final class TestGuest {
  static let memorySize = 1 << 20
  static let queueSize: UInt16 = 16
  static let descriptorTable: UInt64 = 0
  static let availableRing: UInt64 = 0x100
  static let usedRing: UInt64 = 0x200
  /// Where request buffers go.
  static let dataStart: UInt64 = 0x1000

  let base: UnsafeMutableRawPointer
  let memory: GuestMemory
  var nextDescriptor: UInt16 = 0
  var availableIndex: UInt16 = 0
  var usedSeen: UInt16 = 0
  var nextData = TestGuest.dataStart

  init() throws {
    base = .allocate(byteCount: Self.memorySize, alignment: 4096)
    base.initializeMemory(as: UInt8.self, repeating: 0, count: Self.memorySize)
    memory = try GuestMemory(regions: [
      GuestMemoryRegion(
        guestPhysicalAddress: 0, size: UInt64(Self.memorySize), frontendAddress: 0x7000_0000, base: base)
    ])
  }

  deinit { base.deallocate() }

  func ring() throws -> VirtqueueRing {
    try VirtqueueRing.make(
      addresses: VirtqueueAddresses(
        size: Self.queueSize, descriptorTable: Self.descriptorTable, driverArea: Self.availableRing,
        deviceArea: Self.usedRing),
      features: [.version1], memory: memory)
  }

  /// A buffer in guest memory holding `bytes`.
  func buffer(_ bytes: [UInt8]) -> UInt64 {
    let address = nextData
    (base + Int(address)).copyMemory(from: bytes, byteCount: bytes.count)
    nextData += UInt64((bytes.count + 15) / 16 * 16)
    return address
  }

  func bytes(at address: UInt64, count: Int) -> [UInt8] {
    Array(UnsafeRawBufferPointer(start: base + Int(address), count: count))
  }

  /// Puts one chain of (address, length, writable) descriptors on the ring.
  func submit(_ parts: [(address: UInt64, length: UInt32, writable: Bool)]) {
    let head = nextDescriptor
    for (i, part) in parts.enumerated() {
      let index = Int(nextDescriptor % Self.queueSize)
      let d = base + Int(Self.descriptorTable) + index * 16
      d.storeBytes(of: part.address.littleEndian, toByteOffset: 0, as: UInt64.self)
      d.storeBytes(of: part.length.littleEndian, toByteOffset: 8, as: UInt32.self)
      let last = i == parts.count - 1
      let flags: UInt16 = (last ? 0 : 1) | (part.writable ? 2 : 0)
      d.storeBytes(of: flags.littleEndian, toByteOffset: 12, as: UInt16.self)
      d.storeBytes(
        of: UInt16((index + 1) % Int(Self.queueSize)).littleEndian, toByteOffset: 14, as: UInt16.self)
      nextDescriptor &+= 1
    }
    let avail = base + Int(Self.availableRing)
    avail.storeBytes(
      of: (head % Self.queueSize).littleEndian, toByteOffset: 4 + 2 * Int(availableIndex % Self.queueSize),
      as: UInt16.self)
    availableIndex &+= 1
    avail.storeBytes(of: availableIndex.littleEndian, toByteOffset: 2, as: UInt16.self)
  }

  /// The used-ring entries (head, written length) added since the last call.
  func completions() -> [(head: UInt16, length: UInt32)] {
    let used = base + Int(Self.usedRing)
    let index = UInt16(littleEndian: used.load(fromByteOffset: 2, as: UInt16.self))
    var out: [(UInt16, UInt32)] = []
    while usedSeen != index {
      let slot = 4 + 8 * Int(usedSeen % Self.queueSize)
      let id = UInt32(littleEndian: used.load(fromByteOffset: slot, as: UInt32.self))
      let length = UInt32(littleEndian: used.load(fromByteOffset: slot + 4, as: UInt32.self))
      out.append((UInt16(id), length))
      usedSeen &+= 1
    }
    return out
  }

  /// A request header (§5.2.6).
  static func header(_ type: UInt32, sector: UInt64) -> [UInt8] {
    var h = [UInt8](repeating: 0, count: 16)
    h.withUnsafeMutableBytes {
      $0.storeBytes(of: type.littleEndian, toByteOffset: 0, as: UInt32.self)
      $0.storeBytes(of: sector.littleEndian, toByteOffset: 8, as: UInt64.self)
    }
    return h
  }

  static func range(sector: UInt64, sectors: UInt32, flags: UInt32) -> [UInt8] {
    var r = [UInt8](repeating: 0, count: 16)
    r.withUnsafeMutableBytes {
      $0.storeBytes(of: sector.littleEndian, toByteOffset: 0, as: UInt64.self)
      $0.storeBytes(of: sectors.littleEndian, toByteOffset: 8, as: UInt32.self)
      $0.storeBytes(of: flags.littleEndian, toByteOffset: 12, as: UInt32.self)
    }
    return r
  }
}
