import CardCrypto
import Ipsec
import Wire

// ESP packets built independently of `SecurityAssociation.seal`, straight
// from RFC 4303 §2 and RFC 4106 §§3-5 with CardCrypto's AES-GCM: the
// oracle for the seal known-answer test, and the way to make packets that
// authenticate but carry what our sender never would (bad padding, dummy
// packets).

/// Ethernet + IPv4 (protocol 50, 192.0.2.1 -> 192.0.2.2) + ESP whose
/// plaintext (payload, padding, pad length, next header) is given whole.
func craftedESPFrame(
  spi: UInt32, sequence: UInt64, esn: Bool, keyHex: String = key128, plaintext: [UInt8]
) throws -> [UInt8] {
  let material = hex(keyHex)
  let keyBytes = material.count - 4
  // The AES key is the material without its last 4 bytes (the salt).
  let key = try SymmetricKey(hex: String(keyHex.dropLast(8)))
  var cipher = try AESGCM(key: key)
  let low = UInt32(truncatingIfNeeded: sequence)
  let header = bigEndian(spi) + bigEndian(low)
  let iv = bigEndian(UInt32(truncatingIfNeeded: sequence >> 32)) + bigEndian(low)
  // RFC 4106 §5: SPI || seq (32) or SPI || seq high || seq low (ESN).
  let aad =
    esn ? bigEndian(spi) + bigEndian(UInt32(truncatingIfNeeded: sequence >> 32)) + bigEndian(low) : header
  let (ciphertext, tag) = try cipher.seal(
    nonce: Array(material[keyBytes...]) + iv, aad: aad, plaintext: plaintext)
  let esp = header + iv + ciphertext + tag
  return outerIPv4Frame(protocolNumber: 50, payload: esp)
}

/// Ethernet + IPv4 192.0.2.1 -> 192.0.2.2 around `payload`.
func outerIPv4Frame(protocolNumber: UInt8, payload: [UInt8]) -> [UInt8] {
  let total = 20 + payload.count
  var ip: [UInt8] = [
    0x45, 0, UInt8(total >> 8), UInt8(total & 0xff), 0, 1, 0x40, 0, 64, protocolNumber, 0, 0,
  ]
  ip += [192, 0, 2, 1, 192, 0, 2, 2]
  let c = checksum(ip)
  ip[10] = UInt8(c >> 8)
  ip[11] = UInt8(c & 0xff)
  return macHeader + [0x08, 0x00] + ip + payload
}

func bigEndian(_ value: UInt32) -> [UInt8] {
  [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
}

/// The inner IPv4 packet of an Ethernet frame.
func ipPacket(of frame: [UInt8]) -> [UInt8] { Array(frame[14...]) }
