import BlockStorage
import CardCrypto
import Synchronization
import Testing

@testable import CardCrypto
@testable import Volumes

/// What the key-release inspector saw for the watched key's storage.
private let watched = Mutex<(address: UInt, bytes: [UInt8]?)>((0, nil))

private let recordRelease: SymmetricKey.ReleasedStorageInspector = { storage, capacity in
  watched.withLock { state in
    guard UInt(bitPattern: storage) == state.address else { return }
    state.bytes = Array(UnsafeRawBufferPointer(start: storage, count: capacity))
  }
}

@Suite(.serialized) struct VolumeKeyTests {
  /// The data key exists unwrapped only between attach and detach, and its
  /// storage is zero when it is released.
  @Test func detachZeroesTheDataKey() throws {
    // The inspector is process-wide and CardCryptoTests sets it too; a run
    // that another suite's reset hid is repeated (not a timing wait).
    var seen: [UInt8]? = nil
    for _ in 0..<5 where seen == nil {
      let volume = try TestKeys.volume(MemoryBackend(byteCount: 8192), .bytes512)
      let attached = try #require(volume.attachedKeyForTesting)
      let address = attached.key.withUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
      #expect(attached.key.withUnsafeBytes { Array($0) } != [UInt8](repeating: 0, count: 64))
      watched.withLock { $0 = (address, nil) }
      SymmetricKey.inspectReleasedStorage(with: recordRelease)
      _ = consume attached
      try volume.detach()
      SymmetricKey.inspectReleasedStorage(with: nil)
      #expect(!volume.isAttached)
      seen = watched.withLock { $0.bytes }
    }
    let bytes = try #require(seen, "the key's release was never observed")
    #expect(bytes.count == 64 || bytes.count == 72)
    #expect(bytes.allSatisfy { $0 == 0 })
  }

  @Test func aDetachedVolumeRefusesEveryRequest() throws {
    let volume = try TestKeys.volume(MemoryBackend(byteCount: 8192), .bytes4096)
    try volume.detach()
    #expect(throws: BlockIOError.detached) { try volume.read(sector: 0, count: 512) }
    #expect(throws: BlockIOError.detached) { try volume.write(sector: 0, [UInt8](repeating: 1, count: 512)) }
    #expect(throws: BlockIOError.detached) { try volume.flush() }
  }

  @Test func aWrongKEKIsRejectedAtAttach() throws {
    let otherKEK = try SymmetricKey(hex: String(repeating: "ab", count: 32))
    #expect(throws: VolumeAttachError.keyRejected(.unwrapFailed)) {
      _ = try EncryptedVolume(
        spec: try TestKeys.spec(.bytes512), kek: otherKEK, backend: MemoryBackend(byteCount: 8192))
    }
  }

  @Test func anAlteredWrappedKeyIsRejected() throws {
    var spec = try TestKeys.spec(.bytes512)
    spec.wrappedKey[9] ^= 1
    #expect(throws: VolumeAttachError.keyRejected(.unwrapFailed)) {
      _ = try EncryptedVolume(spec: spec, kek: try TestKeys.kek(), backend: MemoryBackend(byteCount: 8192))
    }
  }

  @Test func aKeyOfTheWrongSizeIsUnusable() throws {
    let short = try SymmetricKey.random(byteCount: 32)
    let spec = VolumeSpec(
      wrappedKey: try KeyWrap.wrap(short, kek: try TestKeys.kek()), encryptionSectorSize: .bytes512)
    #expect(throws: VolumeAttachError.unusableKey(.invalidKeySize(32))) {
      _ = try EncryptedVolume(spec: spec, kek: try TestKeys.kek(), backend: MemoryBackend(byteCount: 8192))
    }
  }

  @Test func aFreshWrappedKeyAttaches() throws {
    let kek = try TestKeys.kek()
    let wrapped = try VolumeSpec.newWrappedDataKey(kek: kek)
    #expect(wrapped.count == 72)
    let volume = try EncryptedVolume(
      spec: VolumeSpec(wrappedKey: wrapped, encryptionSectorSize: .bytes4096), kek: kek,
      backend: MemoryBackend(byteCount: 8192))
    try volume.write(sector: 0, pattern(8192))
    #expect(try volume.read(sector: 0, count: 8192) == pattern(8192))
  }
}
