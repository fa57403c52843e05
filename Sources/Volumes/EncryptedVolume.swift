import BlockStorage
import CardCrypto

/// A tenant's disk: plaintext sectors for the virtio-blk device above,
/// AES-XTS-256 ciphertext in the backend below, laid out exactly as
/// dm-crypt's `aes-xts-plain64` (see `AESXTS`), so a volume file opens with
/// `cryptsetup open --type plain --cipher aes-xts-plain64 --key-size 512
/// --sector-size N` and the other way round.
///
/// Requests come in 512-byte sectors at any 512-aligned offset. With
/// 4096-byte encryption sectors a request that starts or ends inside a data
/// unit costs a read-modify-write of that unit (read, decrypt, patch,
/// encrypt, write); whole units go straight through.
///
/// Serves one thread at a time (one AES-XTS context pair).
public final class EncryptedVolume<Backend: BlockBackend>: BlockStore {
  public let backend: Backend
  public let encryptionSectorSize: AESXTS.DataUnitSize
  public let isReadOnly: Bool
  /// What the guest may address: the backend's whole size, or the size the
  /// volume was given (`byteCount:`), which may grow (`grow(toByteCount:)`).
  public private(set) var sectorCount: UInt64
  public private(set) var counters = VolumeCounters()
  /// nil once detached.
  private var attached: AttachedKey?
  /// One encryption sector, aligned for O_DIRECT: the unit being patched in
  /// a read-modify-write, and the zeros of write-zeroes.
  private let scratch: UnsafeMutableRawBufferPointer

  /// Attaches: unwraps the data key into card memory and keys the cipher.
  /// The volume serves `byteCount` bytes of the backend (a slice's
  /// `sizeBytes`; a larger backend serves only that much), or, when nil
  /// (a configuration file's `volume` line), the whole backend.
  public init(spec: VolumeSpec, kek: borrowing SymmetricKey, backend: Backend, byteCount: UInt64? = nil)
    throws(VolumeAttachError)
  {
    let unit = UInt64(spec.encryptionSectorSize.rawValue)
    let served = byteCount ?? backend.byteCount
    guard served % unit == 0 else { throw .backendSize(served) }
    guard served <= backend.byteCount else {
      throw .backendTooSmall(backend: backend.byteCount, needed: served)
    }
    guard spec.isReadOnly || !backend.isReadOnly else { throw .backendReadOnly }
    attached = try AttachedKey(unwrapping: spec.wrappedKey, kek: kek, dataUnitSize: spec.encryptionSectorSize)
    self.backend = backend
    encryptionSectorSize = spec.encryptionSectorSize
    isReadOnly = spec.isReadOnly
    sectorCount = served / 512
    scratch = .allocate(byteCount: spec.encryptionSectorSize.rawValue, alignment: 4096)
    scratch.initializeMemory(as: UInt8.self, repeating: 0)
  }

  deinit {
    attached = nil
    // The scratch unit may hold plaintext of a patched unit.
    SymmetricKey.cleanse(scratch)
    scratch.deallocate()
  }

  /// Serves `byteCount` bytes from now on (a resize: the guest keeps its
  /// connection and learns the capacity from the device). Only growing:
  /// sectors a guest may have written are never taken away under it.
  public func grow(toByteCount byteCount: UInt64) throws(VolumeAttachError) {
    let unit = UInt64(encryptionSectorSize.rawValue)
    guard byteCount % unit == 0 else { throw .backendSize(byteCount) }
    guard byteCount >= sectorCount * 512 else { throw .shrinking(from: sectorCount * 512, to: byteCount) }
    guard byteCount <= backend.byteCount else {
      throw .backendTooSmall(backend: backend.byteCount, needed: byteCount)
    }
    sectorCount = byteCount / 512
  }

  /// True while the data key is in card memory.
  public var isAttached: Bool { attached != nil }

  /// For the zeroing test: the key holder, to find the key's storage.
  var attachedKeyForTesting: AttachedKey? { attached }

  /// Flushes the backend, then zeroes the data key and frees the cipher
  /// contexts, whether or not the flush succeeded. Later requests fail with
  /// `.detached`.
  public func detach() throws(BlockIOError) {
    defer {
      attached = nil
      SymmetricKey.cleanse(scratch)
    }
    if attached != nil && !isReadOnly { try backend.flush() }
  }

  public var blockSize: UInt32 { UInt32(encryptionSectorSize.rawValue) }
  public var supportsDiscard: Bool { !isReadOnly && backend.supportsDiscard }

  private var unitSectors: UInt64 { encryptionSectorSize.sectors }
  private var unitBytes: Int { encryptionSectorSize.rawValue }

  private func checked(_ sector: UInt64, _ byteCount: Int, writing: Bool) throws(BlockIOError) -> AttachedKey
  {
    guard let key = attached else { throw .detached }
    guard !writing || !isReadOnly else { throw .readOnly }
    guard byteCount % 512 == 0 else { throw .misaligned(byteCount: byteCount) }
    try checkRange(sector: sector, sectors: UInt64(byteCount / 512))
    return key
  }

  /// Per request: `count` bytes of whole units at `buffer`, from `sector`
  /// (a multiple of the unit), decrypted or encrypted in place.
  private func transform(
    _ key: AttachedKey, encrypting: Bool, sector: UInt64, _ buffer: UnsafeMutableRawBufferPointer
  ) throws(BlockIOError) {
    var offset = 0
    var unitSector = sector
    while offset < buffer.count {
      let unit = UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<offset + unitBytes])
      do {
        if encrypting {
          try key.cipher.encrypt(sector: unitSector, dataUnit: unit)
        } else {
          try key.cipher.decrypt(sector: unitSector, dataUnit: unit)
        }
      } catch {
        throw .cipherFailure
      }
      offset += unitBytes
      unitSector += unitSectors
    }
  }

  /// Per request.
  public func read(sector: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(BlockIOError) {
    let key = try checked(sector, buffer.count, writing: false)
    counters.reads += 1
    var done = 0
    var current = sector
    while done < buffer.count {
      let within = Int(current % unitSectors) * 512
      let remaining = buffer.count - done
      if within == 0 && remaining >= unitBytes {
        // Whole units: straight into the caller's buffer.
        let run = UnsafeMutableRawBufferPointer(
          rebasing: buffer[done..<done + remaining / unitBytes * unitBytes])
        try backend.read(at: current * 512, into: run)
        try transform(key, encrypting: false, sector: current, run)
        done += run.count
        current += UInt64(run.count / 512)
      } else {
        // Part of one unit: decrypt the whole unit, copy out the part.
        let take = min(unitBytes - within, remaining)
        let unitStart = current - current % unitSectors
        try backend.read(at: unitStart * 512, into: scratch)
        try transform(key, encrypting: false, sector: unitStart, scratch)
        UnsafeMutableRawBufferPointer(rebasing: buffer[done..<done + take])
          .copyMemory(from: UnsafeRawBufferPointer(rebasing: scratch[within..<within + take]))
        counters.partialUnits += 1
        done += take
        current += UInt64(take / 512)
      }
    }
  }

  /// Per request. Encrypts `buffer` in place (it holds ciphertext afterwards).
  public func write(sector: UInt64, consuming buffer: UnsafeMutableRawBufferPointer) throws(BlockIOError) {
    let key = try checked(sector, buffer.count, writing: true)
    counters.writes += 1
    var done = 0
    var current = sector
    while done < buffer.count {
      let within = Int(current % unitSectors) * 512
      let remaining = buffer.count - done
      if within == 0 && remaining >= unitBytes {
        let run = UnsafeMutableRawBufferPointer(
          rebasing: buffer[done..<done + remaining / unitBytes * unitBytes])
        try transform(key, encrypting: true, sector: current, run)
        try backend.write(at: current * 512, from: UnsafeRawBufferPointer(run))
        done += run.count
        current += UInt64(run.count / 512)
      } else {
        // Read-modify-write of one unit.
        let take = min(unitBytes - within, remaining)
        let unitStart = current - current % unitSectors
        try backend.read(at: unitStart * 512, into: scratch)
        try transform(key, encrypting: false, sector: unitStart, scratch)
        UnsafeMutableRawBufferPointer(rebasing: scratch[within..<within + take])
          .copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[done..<done + take]))
        try transform(key, encrypting: true, sector: unitStart, scratch)
        try backend.write(at: unitStart * 512, from: UnsafeRawBufferPointer(scratch))
        counters.partialUnits += 1
        done += take
        current += UInt64(take / 512)
      }
    }
  }

  public func flush() throws(BlockIOError) {
    guard attached != nil else { throw .detached }
    counters.flushes += 1
    try backend.flush()
  }

  /// Frees whole encryption units inside the range (a partial unit at either
  /// end keeps its data: discard is advisory, virtio 1.2 §5.2.6.2). Freed
  /// units read back as the decryption of zeros, as with dm-crypt's
  /// allow_discards; and, as there, the backend learns which units are free.
  public func discard(sector: UInt64, sectors: UInt64) throws(BlockIOError) {
    guard attached != nil else { throw .detached }
    guard !isReadOnly else { throw .readOnly }
    try checkRange(sector: sector, sectors: sectors)
    let first = (sector + unitSectors - 1) / unitSectors * unitSectors
    let end = (sector + sectors) / unitSectors * unitSectors
    guard end > first else { return }
    counters.discards += 1
    try backend.discard(at: first * 512, length: (end - first) * 512)
  }

  /// Writes encrypted zeros (the backend's own zeroing would decrypt to
  /// noise), one unit at a time through the write path.
  public func writeZeroes(sector: UInt64, sectors: UInt64) throws(BlockIOError) {
    guard attached != nil else { throw .detached }
    guard !isReadOnly else { throw .readOnly }
    try checkRange(sector: sector, sectors: sectors)
    let zeros = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 4096)
    defer { zeros.deallocate() }
    var current = sector
    let end = sector + sectors
    while current < end {
      let count = Int(min(end - current, UInt64(zeros.count / 512)))
      let chunk = UnsafeMutableRawBufferPointer(rebasing: zeros[0..<count * 512])
      chunk.initializeMemory(as: UInt8.self, repeating: 0)
      try write(sector: current, consuming: chunk)
      current += UInt64(count)
    }
  }
}

/// What a volume has done since it was attached.
public struct VolumeCounters: Equatable, Sendable {
  public var reads = 0
  public var writes = 0
  public var flushes = 0
  public var discards = 0
  /// Encryption units read-modify-written (or read whole for part of them)
  /// because a request did not cover them entirely.
  public var partialUnits = 0
}
