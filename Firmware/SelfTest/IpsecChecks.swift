import CardCrypto
import DataPlane
import Ipsec
import Wire

/// ESP on the card: one sealed packet compared with an independent
/// implementation's bytes, one published packet opened, and the refusals
/// that keep a peer honest. Returns the number of failed checks.
///
/// Vectors: the sealed packet was computed with python3's `cryptography`
/// (AESGCM) from RFC 4303 §2 and RFC 4106 §§3-5: SPI 0x1000, sequence
/// number 1 (also the explicit IV), ESN AAD, key feffe992...308308 with
/// salt cafebabe, tunnel 192.0.2.1 -> 192.0.2.2; the opened packet is
/// draft-mcgrew-gcm-test-01 case 2 (SPI 0xa5f8, sequence 0xa).
func runIpsecChecks() -> Int {
  let pool = PacketPool(bufferCount: 4)
  var failures = 0
  let checks: [(PacketPool) -> (String, Bool)] = [checkSealKnownAnswer, checkOpenKnownAnswer, checkRefusals]
  for check in checks {
    let (name, passed) = check(pool)
    print("ipsec: \(name) \(passed ? "ok" : "FAILED")")
    if !passed { failures += 1 }
  }
  return failures
}

private let innerPacket = "4500002012344000401114950a0100010a020001303917c1000c0000deadbeef"
private let sealedPacket =
  "45000058000140004032b66fc0000201c000020200001000000000010000000000000001"
  + "c944aab9e67a3cb944aba5ffe880614355d0d496e1f814f7f20ebbb4aef544165376dfd9"
  + "3bf1ca9c969f869853c71c88bc666109"
private let macHeader: [UInt8] = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]
private let tunnel = SecurityAssociationParameters.Mode.tunnel(
  local: .v4(IPv4Address(192, 0, 2, 1)), remote: .v4(IPv4Address(192, 0, 2, 2)))
private let returnTunnel = SecurityAssociationParameters.Mode.tunnel(
  local: .v4(IPv4Address(192, 0, 2, 2)), remote: .v4(IPv4Address(192, 0, 2, 1)))

private func makeSA(
  _ direction: SecurityAssociationParameters.Direction, _ mode: SecurityAssociationParameters.Mode,
  spi: UInt32 = 0x1000, esn: Bool = true, key: String = "feffe9928665731c6d6a8f9467308308cafebabe"
) -> SecurityAssociation? {
  let parameters = SecurityAssociationParameters(
    spi: spi, direction: direction, mode: mode, suite: .aesGCM128, extendedSequenceNumbers: esn)
  do throws(SecurityAssociationError) {
    let material: SymmetricKey
    do throws(CryptoError) { material = try SymmetricKey(hex: key) } catch { return nil }
    return try SecurityAssociation(parameters, keyMaterial: material, installedAt: 0)
  } catch {
    print(error.description)
    return nil
  }
}

/// Loads `frame` into a buffer from `pool`, runs `body`, returns the buffer.
private func withBuffer<T>(_ pool: PacketPool, _ frame: [UInt8], _ body: (inout PacketBuffer) -> T) -> T? {
  guard var buffer = pool.take() else { return nil }
  defer { pool.give(buffer) }
  let loaded = frame.withUnsafeBytes { buffer.load($0, headroom: PacketPool.defaultHeadroom) }
  return loaded ? body(&buffer) : nil
}

private func checkSealKnownAnswer(_ pool: PacketPool) -> (String, Bool) {
  let name = "esp seal (tunnel, ESN) matches the reference packet"
  guard let sender = makeSA(.outbound, tunnel), let receiver = makeSA(.inbound, returnTunnel) else {
    return (name, false)
  }
  let frame = macHeader + [0x08, 0x00] + bytes(innerPacket)
  let passed = withBuffer(pool, frame) { buffer -> Bool in
    do throws(IpsecDrop) {
      try sender.seal(&buffer, now: 0)
      guard Array(buffer.bytes.dropFirst(14)) == bytes(sealedPacket) else { return false }
      try receiver.open(&buffer, now: 0)
      return buffer.bytes == frame
    } catch {
      print(error.description)
      return false
    }
  }
  return (name, passed ?? false)
}

private func checkOpenKnownAnswer(_ pool: PacketPool) -> (String, Bool) {
  let name = "esp open (transport) of draft-mcgrew-gcm-test-01 case 2"
  guard let receiver = makeSA(.inbound, .transport, spi: 0xa5f8, esn: false) else { return (name, false) }
  receiver.replayWindow = ReplayWindow(size: 1024, extendedSequenceNumbers: false, highest: 9)
  let esp =
    bytes("0000a5f80000000afacedbaddecaf888")
    + bytes(
      "deb22cd9b07c72c16e3a65beeb8df304a5a5897d33ae530f1ba76d5d114d2a5c3de81827c10e9a4f51330d0eec416642"
        + "cfbb85a5b47e48a4ec3b9ba95d918bd183b70d3aa8bc6ee4c309e9d85a41ad4a")
  // An outer IPv4 header (192.168.1.2 -> 192.168.1.1, protocol 50); its
  // checksum is not checked on the way in.
  let total = 20 + esp.count
  let ip: [UInt8] =
    [0x45, 0, UInt8(total >> 8), UInt8(total & 0xff), 0, 0, 0, 0, 64, 50, 0, 0] + [
      192, 168, 1, 2, 192, 168, 1, 1,
    ]
  let plaintext = bytes(
    "4500003e698f000080114dccc0a80102c0a801010a980035002a2343b2d001000001000000000000037369700963796265"
      + "726369747902646b0000010001")
  let passed = withBuffer(pool, macHeader + [0x08, 0x00] + ip + esp) { buffer -> Bool in
    do throws(IpsecDrop) {
      try receiver.open(&buffer, now: 0)
      let out = buffer.bytes
      return out.count == 34 + plaintext.count && Array(out[34...]) == plaintext && out[23] == 1
    } catch {
      print(error.description)
      return false
    }
  }
  return (name, passed ?? false)
}

/// A replayed packet and a forged one are refused with their reasons and
/// counted (RFC 4303 §3.4.3, §3.4.4).
private func checkRefusals(_ pool: PacketPool) -> (String, Bool) {
  let name = "esp refuses replayed and forged packets"
  guard let receiver = makeSA(.inbound, returnTunnel) else { return (name, false) }
  var sealed = macHeader + [0x08, 0x00] + bytes(sealedPacket)
  let first = withBuffer(pool, sealed) { buffer -> Bool in
    do throws(IpsecDrop) { try receiver.open(&buffer, now: 0) } catch { return false }
    return true
  }
  let replay = withBuffer(pool, sealed) { buffer -> IpsecDrop? in
    do throws(IpsecDrop) { try receiver.open(&buffer, now: 0) } catch { return error }
    return nil
  }
  sealed[sealed.count - 1] ^= 1
  sealed[41] = 2  // sequence number 2: new to the window, so the ICV is what fails
  let forged = withBuffer(pool, sealed) { buffer -> IpsecDrop? in
    do throws(IpsecDrop) { try receiver.open(&buffer, now: 0) } catch { return error }
    return nil
  }
  let passed =
    first == true && replay == .replayed && forged == .authenticationFailed
    && receiver.counters.dropped(.replayed) == 1 && receiver.counters.dropped(.authenticationFailed) == 1
  return (name, passed)
}

private func bytes(_ hex: String) -> [UInt8] {
  var out: [UInt8] = []
  var high: UInt8? = nil
  for c in hex.utf8 {
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
