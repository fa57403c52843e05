import CCardCrypto
import Synchronization

/// Secret key bytes held in memory that this value alone owns, zeroed with
/// `OPENSSL_cleanse` (which the optimiser cannot remove) when the value is
/// released.
///
/// The type is `~Copyable` so that the bytes exist in exactly one place:
/// no implicit copy, no Swift `Array` that could be reallocated and leave
/// stale copies behind. Cipher contexts (`AESGCM`, `AESXTS`) borrow a key
/// only while they build their key schedule, which OpenSSL cleanses when the
/// context is freed; release the key as soon as the contexts exist.
public struct SymmetricKey: ~Copyable {
  /// `capacity` bytes; the first `byteCount` are the key. The rest (only
  /// after `KeyWrap.unwrap`, which needs room for padding) is zero.
  private let storage: UnsafeMutableRawPointer
  private let capacity: Int
  /// Length of the key in bytes.
  public let byteCount: Int

  /// Takes ownership of `storage`.
  private init(adopting storage: UnsafeMutableRawPointer, capacity: Int, byteCount: Int) {
    self.storage = storage
    self.capacity = capacity
    self.byteCount = byteCount
  }

  /// Copies key bytes given by the caller, who should cleanse its own copy
  /// (`SymmetricKey.cleanse(_:)`) once this returns.
  public init(copying bytes: UnsafeRawBufferPointer) throws(CryptoError) {
    guard let source = bytes.baseAddress, bytes.count > 0 else { throw .invalidKeySize(0) }
    let storage = Self.allocateZeroed(capacity: bytes.count)
    storage.copyMemory(from: source, byteCount: bytes.count)
    self.init(adopting: storage, capacity: bytes.count, byteCount: bytes.count)
  }

  /// Parses a key written in hexadecimal (as in test vectors and
  /// configuration files), without an intermediate array.
  public init(hex: String) throws(CryptoError) {
    let digits = hex.utf8.count
    guard digits > 0, digits % 2 == 0 else { throw .invalidHex }
    let count = digits / 2
    let storage = Self.allocateZeroed(capacity: count)
    var index = 0
    var high: UInt8? = nil
    for character in hex.utf8 {
      guard let nibble = Self.nibble(character) else {
        Self.release(storage, capacity: count)
        throw .invalidHex
      }
      if let h = high {
        storage.storeBytes(of: h << 4 | nibble, toByteOffset: index, as: UInt8.self)
        index += 1
        high = nil
      } else {
        high = nibble
      }
    }
    self.init(adopting: storage, capacity: count, byteCount: count)
  }

  /// A fresh key of `byteCount` bytes from OpenSSL's CSPRNG.
  public static func random(byteCount: Int) throws(CryptoError) -> SymmetricKey {
    guard byteCount > 0 else { throw .invalidKeySize(byteCount) }
    let storage = allocateZeroed(capacity: byteCount)
    let status = ccc_random_bytes(storage.assumingMemoryBound(to: UInt8.self), byteCount)
    guard status == CCC_OK else {
      release(storage, capacity: byteCount)
      throw .randomUnavailable
    }
    return SymmetricKey(adopting: storage, capacity: byteCount, byteCount: byteCount)
  }

  /// Fills a new key's storage through `fill`, which returns the number of
  /// key bytes it wrote (at most `capacity`). On a thrown error the storage
  /// is cleansed and freed.
  static func filling(
    capacity: Int, _ fill: (UnsafeMutableRawPointer) throws(CryptoError) -> Int
  ) throws(CryptoError) -> SymmetricKey {
    let storage = allocateZeroed(capacity: capacity)
    let written: Int
    do {
      written = try fill(storage)
    } catch {
      release(storage, capacity: capacity)
      throw error
    }
    precondition(written > 0 && written <= capacity, "key fill wrote outside its storage")
    return SymmetricKey(adopting: storage, capacity: capacity, byteCount: written)
  }

  /// Lends the key bytes. The buffer must not escape `body`.
  public func withUnsafeBytes<Result: ~Copyable, Failure: Error>(
    _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
  ) throws(Failure) -> Result {
    try body(UnsafeRawBufferPointer(start: storage, count: byteCount))
  }

  /// Where the key bytes live, for the zeroing test to recognise them.
  var storageAddress: UnsafeRawPointer { UnsafeRawPointer(storage) }

  deinit {
    Self.release(storage, capacity: capacity)
  }

  /// Zeroes `bytes` so that the compiler cannot drop the stores: for the
  /// caller's own copies of key material.
  public static func cleanse(_ bytes: UnsafeMutableRawBufferPointer) {
    ccc_cleanse(bytes.baseAddress, bytes.count)
  }

  /// Test hook: called with a released key's storage after it was zeroed
  /// and before it is freed, so a test can observe the zeroing. A C
  /// function pointer kept in an atomic, so that setting it while other
  /// threads release keys is race-free (a Swift closure would be
  /// reference-counted). 0 when unset, which is always outside tests.
  typealias ReleasedStorageInspector = @convention(c) (UnsafeRawPointer, Int) -> Void
  static let releasedStorageInspector = Atomic<UInt>(0)

  static func inspectReleasedStorage(with inspector: ReleasedStorageInspector?) {
    let bits = inspector.map { UInt(bitPattern: unsafeBitCast($0, to: UnsafeRawPointer.self)) } ?? 0
    releasedStorageInspector.store(bits, ordering: .releasing)
  }

  private static func allocateZeroed(capacity: Int) -> UnsafeMutableRawPointer {
    let storage = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    storage.initializeMemory(as: UInt8.self, repeating: 0, count: capacity)
    return storage
  }

  private static func release(_ storage: UnsafeMutableRawPointer, capacity: Int) {
    ccc_cleanse(storage, capacity)
    let inspector = releasedStorageInspector.load(ordering: .acquiring)
    if let address = UnsafeRawPointer(bitPattern: inspector) {
      // Sound: the only non-zero value ever stored is a
      // ReleasedStorageInspector's bits (inspectReleasedStorage).
      unsafeBitCast(address, to: ReleasedStorageInspector.self)(storage, capacity)
    }
    storage.deallocate()
  }

  private static func nibble(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
    default: return nil
    }
  }
}
