// libFuzzer target: the inbound ESP path over arbitrary frames. Three
// shapes per input (the first byte picks one):
//   0: the bytes are a frame from the underlay, handed to the data path
//      (SPD check, SPI lookup, replay check, ICV) as a peer would send it;
//   1: the bytes are the plaintext of an ESP packet that authenticates, so
//      that padding, next header and the inner packet checks are reached;
//   2: the bytes are a frame our sender seals; opening it must give it back.
// Nothing may trap or touch memory outside the buffer; the `precondition`s
// are the module's own promises.
import CardCrypto
import DataPlane
import Ipsec
import Wire

let material = "feffe9928665731c6d6a8f9467308308cafebabe"
let local = IPAddress("192.0.2.2")!
let remote = IPAddress("192.0.2.1")!
nonisolated(unsafe) let pool = PacketPool(bufferCount: 4)
nonisolated(unsafe) var sequence: UInt64 = 0

func makeSA(
  _ direction: SecurityAssociationParameters.Direction, mode: SecurityAssociationParameters.Mode, esn: Bool
)
  -> SecurityAssociation
{
  let parameters = SecurityAssociationParameters(
    spi: 0x1000, direction: direction, mode: mode, suite: .aesGCM128, extendedSequenceNumbers: esn)
  return try! SecurityAssociation(parameters, keyMaterial: try! SymmetricKey(hex: material), installedAt: 0)
}

nonisolated(unsafe) let tunnelIn = makeSA(.inbound, mode: .tunnel(local: local, remote: remote), esn: true)
nonisolated(unsafe) let database: SecurityAssociationDatabase = {
  let d = SecurityAssociationDatabase(capacity: 4, outboundSlots: 1)
  try! d.installInbound(tunnelIn)
  return d
}()
nonisolated(unsafe) let path = IpsecDataPath(
  database: database,
  policies: [
    SecurityPolicy(
      selector: TrafficSelector(local: .host(local), remote: .host(remote)), action: .protect(outboundSlot: 0)
    )
  ])
nonisolated(unsafe) var cipher: AESGCM = {
  try! AESGCM(key: try! SymmetricKey(hex: "feffe9928665731c6d6a8f9467308308"))
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard size >= 1 else { return 0 }
  let body = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
  switch data[0] % 3 {
  case 0: openFromUnderlay(body)
  case 1: openAuthenticated(plaintext: body)
  default: roundTrip(body)
  }
  return 0
}

func withBuffer(_ frame: UnsafeRawBufferPointer, _ body: (inout PacketBuffer) -> Void) {
  guard var buffer = pool.take() else { preconditionFailure("pool leak") }
  if buffer.load(frame, headroom: PacketPool.defaultHeadroom) { body(&buffer) }
  pool.give(buffer)
}

func openFromUnderlay(_ frame: UnsafeRawBufferPointer) {
  withBuffer(frame) { buffer in
    let before = buffer.length
    switch path.openOne(&buffer, now: 1) {
    case .opened: precondition(buffer.length < before && buffer.length >= 14)
    case .passedInClear, .dropped: precondition(buffer.length == before)
    case .sealed, .tooBig: preconditionFailure("openOne only opens")
    }
  }
}

/// An ESP packet (RFC 4303 §2, RFC 4106 §3) whose encrypted part is the
/// input, with a valid ICV: everything after decryption is exercised.
func openAuthenticated(plaintext: UnsafeRawBufferPointer) {
  guard plaintext.count % 4 == 0, plaintext.count <= 1400 else { return }
  sequence += 1
  let espLength = 16 + plaintext.count + 16
  var frame = [UInt8](repeating: 0, count: 14 + 20 + espLength)
  frame.withUnsafeMutableBytes { f in
    f[12] = 0x08
    let ip = UnsafeMutableRawBufferPointer(rebasing: f[14...])
    ip[0] = 0x45
    ip.storeBytes(of: UInt16(20 + espLength).bigEndian, toByteOffset: 2, as: UInt16.self)
    ip[8] = 64
    ip[9] = 50
    ip.storeBytes(of: remote.v4Raw.bigEndian, toByteOffset: 12, as: UInt32.self)
    ip.storeBytes(of: local.v4Raw.bigEndian, toByteOffset: 16, as: UInt32.self)
    let esp = UnsafeMutableRawBufferPointer(rebasing: f[34...])
    esp.storeBytes(of: UInt32(0x1000).bigEndian, toByteOffset: 0, as: UInt32.self)
    esp.storeBytes(of: UInt32(truncatingIfNeeded: sequence).bigEndian, toByteOffset: 4, as: UInt32.self)
    esp.storeBytes(of: sequence.bigEndian, toByteOffset: 8, as: UInt64.self)
    if plaintext.count > 0 {
      UnsafeMutableRawBufferPointer(rebasing: esp[16..<(16 + plaintext.count)]).copyMemory(from: plaintext)
    }
    var nonce: [UInt8] = [0xca, 0xfe, 0xba, 0xbe] + [UInt8](repeating: 0, count: 8)
    for i in 0..<8 { nonce[4 + i] = UInt8(truncatingIfNeeded: sequence >> UInt64(56 - 8 * i)) }
    // ESN AAD: SPI || high || low.
    var aad: [UInt8] = [0, 0, 0x10, 0]
    for i in 0..<8 { aad.append(UInt8(truncatingIfNeeded: sequence >> UInt64(56 - 8 * i))) }
    nonce.withUnsafeBytes { n in
      aad.withUnsafeBytes { a in
        try! cipher.seal(
          nonce: n, aad: a,
          inPlace: UnsafeMutableRawBufferPointer(rebasing: esp[16..<(16 + plaintext.count)]),
          tag: UnsafeMutableRawBufferPointer(rebasing: esp[(16 + plaintext.count)...]))
      }
    }
  }
  frame.withUnsafeBytes { raw in
    withBuffer(raw) { buffer in
      let outcome = path.openOne(&buffer, now: 1)
      if case .dropped(let reason) = outcome {
        precondition(reason != .authenticationFailed && reason != .unknownSPI, "our packet must authenticate")
      }
    }
  }
}

/// Seal then open restores the frame for any frame the sender accepts.
func roundTrip(_ frame: UnsafeRawBufferPointer) {
  let sender = makeSA(.outbound, mode: .transport, esn: false)
  let receiver = makeSA(.inbound, mode: .transport, esn: false)
  withBuffer(frame) { buffer in
    let original = buffer.bytes
    do throws(IpsecDrop) {
      try sender.seal(&buffer, now: 1)
    } catch {
      precondition(buffer.bytes == original || error == .cryptoFailure, "a refused seal leaves the frame")
      return
    }
    do throws(IpsecDrop) {
      try receiver.open(&buffer, now: 1)
    } catch {
      // Next header 59 in the original: a dummy packet, by design.
      precondition(error == .dummyPacket, "sealed packet did not open: " + error.description)
      return
    }
    // Ethernet padding beyond the IP length is not carried, and an IPv4
    // header checksum is recomputed.
    var restored = buffer.bytes
    var expected = Array(original.prefix(buffer.length))
    if restored.count >= 26 && restored[12] == 0x08 && restored[13] == 0x00 {
      restored[24] = 0
      restored[25] = 0
      expected[24] = 0
      expected[25] = 0
    }
    precondition(restored == expected, "round trip changed the frame")
  }
}

extension IPAddress {
  var v4Raw: UInt32 {
    if case .v4(let a) = self { return a.rawValue }
    return 0
  }
}
