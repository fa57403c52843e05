import BlockStorage
import CardCrypto
import VirtioBlk
import Volumes

/// Encrypted volumes on the card: a wrapped key attaches, data round-trips
/// at both encryption sector sizes (a request inside a 4096-byte unit goes
/// through a read-modify-write), no plaintext reaches the backend, a wrong
/// KEK and a request past the end are refused, and a detached volume serves
/// nothing. Plus the virtio-blk request parser on a hostile header.
func runVolumeChecks() -> Int {
  var failures = 0
  func report(_ name: String, _ ok: Bool) {
    print("volumes: " + name + (ok ? " ok" : " FAILED"))
    if !ok { failures += 1 }
  }
  do throws(CryptoError) {
    let kek = try SymmetricKey(hex: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
    let wrapped = try VolumeSpec.newWrappedDataKey(kek: kek)
    for size in [AESXTS.DataUnitSize.bytes512, .bytes4096] {
      report(
        "round trip, " + String(size.rawValue) + "-byte sectors", roundTrip(wrapped, kek: kek, size: size))
    }
    let otherKEK = try SymmetricKey(hex: "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100")
    var refused = false
    do throws(VolumeAttachError) {
      _ = try EncryptedVolume(
        spec: VolumeSpec(wrappedKey: wrapped, encryptionSectorSize: .bytes512), kek: otherKEK,
        backend: MemoryBackend(byteCount: 4096))
    } catch {
      refused = error == .keyRejected(.unwrapFailed)
    }
    report("wrong KEK refused", refused)
  } catch {
    report("keys", false)
  }
  var header = [UInt8](repeating: 0, count: 16)
  header[0] = 99
  var unsupported = false
  header.withUnsafeBytes { h in
    do throws(BlockRequestError) {
      _ = try BlockRequest.parse(header: h, readableLength: 16, writableLength: 1)
    } catch {
      unsupported = error.status == .unsupported
    }
  }
  report("virtio-blk unknown request type is UNSUPP", unsupported)
  return failures
}

private func roundTrip(_ wrapped: [UInt8], kek: borrowing SymmetricKey, size: AESXTS.DataUnitSize) -> Bool {
  let backend = MemoryBackend(byteCount: 64 * 1024)
  guard
    let volume = try? EncryptedVolume(
      spec: VolumeSpec(wrappedKey: wrapped, encryptionSectorSize: size), kek: kek, backend: backend)
  else { return false }
  var text = [UInt8](repeating: 0, count: 3 * 512)
  for i in text.indices { text[i] = UInt8(truncatingIfNeeded: i % 251) | 1 }
  var ok = true
  var copy = text
  copy.withUnsafeMutableBytes { b in
    do throws(BlockIOError) { try volume.write(sector: 5, consuming: b) } catch { ok = false }
  }
  var back = [UInt8](repeating: 0, count: text.count)
  back.withUnsafeMutableBytes { b in
    do throws(BlockIOError) { try volume.read(sector: 5, into: b) } catch { ok = false }
  }
  ok = ok && back == text && backend.bytes[5 * 512..<8 * 512].elementsEqual(text) == false
  var pastEnd = false
  back.withUnsafeMutableBytes { b in
    do throws(BlockIOError) { try volume.read(sector: 127, into: b) } catch { pastEnd = true }
  }
  var detached = false
  do throws(BlockIOError) {
    try volume.detach()
    try volume.flush()
  } catch {
    detached = error == .detached
  }
  return ok && pastEnd && detached && !volume.isAttached
}
