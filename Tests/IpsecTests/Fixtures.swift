import CardCrypto
import DataPlane
import Ipsec
import Wire

// Frames and SAs built by code for the tests: Ethernet + IPv4/IPv6 + UDP,
// and pairs of SAs (one outbound, one inbound) sharing key material.

func hex(_ text: String) -> [UInt8] {
  var out: [UInt8] = []
  var high: UInt8? = nil
  for c in text.utf8 {
    let v: UInt8
    switch c {
    case 48...57: v = c - 48
    case 97...102: v = c - 87
    default: continue
    }
    if let h = high {
      out.append(h << 4 | v)
      high = nil
    } else {
      high = v
    }
  }
  return out
}

let macHeader: [UInt8] = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]

func checksum(_ bytes: [UInt8]) -> UInt16 {
  bytes.withUnsafeBytes { InternetChecksum.checksum($0) }
}

/// Ethernet + IPv4 (no options) + UDP with `payload` bytes.
func ipv4Frame(
  source: String = "10.1.0.1", destination: String = "10.2.0.1", payload: Int, protocolNumber: UInt8 = 17,
  tos: UInt8 = 0, dontFragment: Bool = true
) -> [UInt8] {
  let s = IPv4Address(source)!.rawValue
  let d = IPv4Address(destination)!.rawValue
  let total = 20 + 8 + payload
  var ip: [UInt8] = [
    0x45, tos, UInt8(total >> 8), UInt8(total & 0xff), 0x12, 0x34, dontFragment ? 0x40 : 0, 0, 64,
    protocolNumber,
    0, 0,
  ]
  for a in [s, d] { ip += [UInt8(a >> 24), UInt8(a >> 16 & 0xff), UInt8(a >> 8 & 0xff), UInt8(a & 0xff)] }
  let c = checksum(ip)
  ip[10] = UInt8(c >> 8)
  ip[11] = UInt8(c & 0xff)
  let udp: [UInt8] = [0x30, 0x39, 0x17, 0xc1, UInt8((8 + payload) >> 8), UInt8((8 + payload) & 0xff), 0, 0]
  let data = (0..<payload).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
  return macHeader + [0x08, 0x00] + ip + udp + data
}

/// Ethernet + IPv6 + UDP with `payload` bytes.
func ipv6Frame(source: String = "fd00:1::1", destination: String = "fd00:2::1", payload: Int) -> [UInt8] {
  let length = 8 + payload
  var ip: [UInt8] = [0x60, 0, 0, 0, UInt8(length >> 8), UInt8(length & 0xff), 17, 64]
  for a in [IPv6Address(source)!, IPv6Address(destination)!] {
    for shift in stride(from: 56, through: 0, by: -8) {
      ip.append(UInt8(truncatingIfNeeded: a.high >> UInt64(shift)))
    }
    for shift in stride(from: 56, through: 0, by: -8) {
      ip.append(UInt8(truncatingIfNeeded: a.low >> UInt64(shift)))
    }
  }
  let udp: [UInt8] = [0x30, 0x39, 0x17, 0xc1, UInt8(length >> 8), UInt8(length & 0xff), 0, 0]
  return macHeader + [0x86, 0xdd] + ip + udp + (0..<payload).map { UInt8(truncatingIfNeeded: $0 &* 5) }
}

let key128 = "feffe9928665731c6d6a8f9467308308" + "cafebabe"
let key256 = "abbccddef00112233445566778899aababbccddef00112233445566778899aab" + "11223344"

/// An outbound SA and its inbound twin (same SPI, key, salt, mode).
func saPair(
  spi: UInt32 = 0x1000,
  mode: SecurityAssociationParameters.Mode = .tunnel(
    local: IPAddress("192.0.2.1")!, remote: IPAddress("192.0.2.2")!),
  suite: CipherSuite = .aesGCM128, esn: Bool = true, window: UInt64 = 1024, lifetime: Lifetime = .unlimited,
  outerMTU: Int = 1500, keyHex: String? = nil
) throws -> (sender: SecurityAssociation, receiver: SecurityAssociation) {
  let material = try SymmetricKey(hex: keyHex ?? (suite == .aesGCM128 ? key128 : key256))
  var out = SecurityAssociationParameters(
    spi: spi, direction: .outbound, mode: mode, suite: suite, extendedSequenceNumbers: esn,
    replayWindowSize: window, lifetime: lifetime, outerMTU: outerMTU)
  var inbound = out
  inbound.direction = .inbound
  if case .tunnel(let l, let r) = mode { inbound.mode = .tunnel(local: r, remote: l) }
  out.direction = .outbound
  return (
    try SecurityAssociation(out, keyMaterial: material, installedAt: 0),
    try SecurityAssociation(inbound, keyMaterial: material, installedAt: 0)
  )
}

/// Buffers for a test: a pool and loading helpers.
final class Buffers {
  let pool = PacketPool(bufferCount: 256)

  func buffer(_ frame: [UInt8]) -> PacketBuffer {
    var b = pool.take()!
    let loaded = frame.withUnsafeBytes { b.load($0, headroom: PacketPool.defaultHeadroom) }
    precondition(loaded)
    return b
  }

  func give(_ b: PacketBuffer) { pool.give(b) }
}
