import Synchronization
import Testing

@testable import CardCrypto

/// What the release hook saw: the storage address to watch for, and the
/// bytes found there at release (first match only).
private let watchedAddress = Mutex<UInt>(0)
private let bytesSeenAtRelease = Mutex<[UInt8]?>(nil)

/// Runs inside `SymmetricKey`'s release, after the zeroing, before the free.
private let recordRelease: SymmetricKey.ReleasedStorageInspector = { storage, count in
  guard watchedAddress.withLock({ $0 == UInt(bitPattern: storage) }) else { return }
  let bytes = Array(UnsafeRawBufferPointer(start: storage, count: count))
  bytesSeenAtRelease.withLock { if $0 == nil { $0 = bytes } }
}

/// Observes key storage at release through the release hook. Serialized:
/// the hook and what it records are process-wide. Keys released by tests
/// running in parallel pass through the hook too and are ignored by
/// address (our key's storage is live until its own release, so no other
/// key can have that address before then).
@Suite(.serialized) struct SymmetricKeyTests {
  /// Builds a key, checks it holds non-zero bytes, releases it, and returns
  /// what its storage held when it was released.
  func bytesAtRelease(_ make: () throws -> SymmetricKey) throws -> [UInt8]? {
    bytesSeenAtRelease.withLock { $0 = nil }
    SymmetricKey.inspectReleasedStorage(with: recordRelease)
    defer {
      SymmetricKey.inspectReleasedStorage(with: nil)
      watchedAddress.withLock { $0 = 0 }
    }
    do {
      let key = try make()
      #expect(key.withUnsafeBytes { $0.contains { $0 != 0 } }, "the key under test must not already be zero")
      let address = UInt(bitPattern: key.storageAddress)
      watchedAddress.withLock { $0 = address }
      _ = consume key
    }
    return bytesSeenAtRelease.withLock { $0 }
  }

  @Test func aParsedKeyIsZeroedOnRelease() throws {
    let seen = try bytesAtRelease { try SymmetricKey(hex: "00112233445566778899aabbccddeeff") }
    #expect(seen?.count == 16)
    #expect(seen?.allSatisfy { $0 == 0 } == true)
  }

  @Test func aRandomKeyIsZeroedOnRelease() throws {
    let seen = try bytesAtRelease { try SymmetricKey.random(byteCount: 64) }
    #expect(seen?.count == 64)
    #expect(seen?.allSatisfy { $0 == 0 } == true)
  }

  @Test func anUnwrappedKeyIsZeroedOnRelease() throws {
    let kek = try SymmetricKey(hex: "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8")
    let seen = try bytesAtRelease {
      try KeyWrap.unwrap(hex("138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a"), kek: kek)
    }
    #expect(seen?.count == 32)  // storage sized for the wrapped form
    #expect(seen?.allSatisfy { $0 == 0 } == true)
  }

  @Test func aCopiedKeyIsZeroedOnRelease() throws {
    let source = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 1)
    defer { source.deallocate() }
    source.copyBytes(from: [0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] as [UInt8])
    let seen = try bytesAtRelease { try SymmetricKey(copying: UnsafeRawBufferPointer(source)) }
    #expect(seen?.count == 16)
    #expect(seen?.allSatisfy { $0 == 0 } == true)
    SymmetricKey.cleanse(source)
    #expect(source.allSatisfy { $0 == 0 })
  }

  @Test func parsesHexAndRefusesBadText() throws {
    let key = try SymmetricKey(hex: "00Ff7a")
    #expect(key.withUnsafeBytes { Array($0) } == [0x00, 0xff, 0x7a])
    #expect(throws: CryptoError.invalidHex) { _ = try SymmetricKey(hex: "abc") }
    #expect(throws: CryptoError.invalidHex) { _ = try SymmetricKey(hex: "zz") }
    #expect(throws: CryptoError.invalidHex) { _ = try SymmetricKey(hex: "") }
    #expect(throws: CryptoError.invalidKeySize(0)) {
      _ = try SymmetricKey(copying: UnsafeRawBufferPointer(start: nil, count: 0))
    }
  }

  @Test func randomKeysDiffer() throws {
    let a = try SymmetricKey.random(byteCount: 32)
    let b = try SymmetricKey.random(byteCount: 32)
    #expect(a.withUnsafeBytes { Array($0) } != b.withUnsafeBytes { Array($0) })
  }
}
