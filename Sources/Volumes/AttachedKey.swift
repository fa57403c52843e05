import CardCrypto

/// A volume's unwrapped data key and the cipher contexts keyed from it: the
/// only place the plaintext key exists on the card, from attach to detach.
/// Releasing this object zeroes the key (`SymmetricKey`) and frees the
/// contexts (OpenSSL cleanses their key schedules).
///
/// The key is kept, not released after keying, so that further contexts
/// (one per thread serving the volume) can be made from it.
final class AttachedKey {
  let key: SymmetricKey
  var cipher: AESXTS

  init(unwrapping wrapped: [UInt8], kek: borrowing SymmetricKey, dataUnitSize: AESXTS.DataUnitSize)
    throws(VolumeAttachError)
  {
    let key: SymmetricKey
    do {
      key = try KeyWrap.unwrap(wrapped, kek: kek)
    } catch {
      throw .keyRejected(error)
    }
    guard key.byteCount == AESXTS.keyByteCount else {
      throw .unusableKey(.invalidKeySize(key.byteCount))
    }
    do {
      cipher = try AESXTS(key: key, dataUnitSize: dataUnitSize)
    } catch {
      throw .unusableKey(error)
    }
    self.key = key
  }
}
