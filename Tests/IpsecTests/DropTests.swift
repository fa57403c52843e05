import CardCrypto
import DataPlane
import Ipsec
import Testing
import Wire

/// Hostile and broken ESP packets: each is refused with its typed reason
/// and counted, and none moves the replay window (RFC 4303 §3.4).
@Suite struct DropTests {
  let buffers = Buffers()

  /// Sealing equals the packet built independently from RFC 4303 §2 and
  /// RFC 4106 §§3-5 (explicit IV = sequence number, salt from the key
  /// material), byte for byte: a known-answer test of the sender.
  @Test(arguments: [false, true], [CipherSuite.aesGCM128, .aesGCM256])
  func sealMatchesTheRFCConstruction(esn: Bool, suite: CipherSuite) throws {
    let (sender, _) = try saPair(spi: 0x0a0b_0c0d, suite: suite, esn: esn)
    let start: UInt64 = esn ? 0x1_ffff_fffe : 6
    sender.setLastSequenceNumberForTesting(start)
    let frame = ipv4Frame(payload: 29)
    var b = buffers.buffer(frame)
    defer { buffers.give(b) }
    try sender.seal(&b, now: 0)
    // Inner packet 57 bytes: 57 + 2 -> 1 byte of padding; next header 4.
    let plaintext = ipPacket(of: frame) + [1, 1, 4]
    let expected = try craftedESPFrame(
      spi: 0x0a0b_0c0d, sequence: start + 1, esn: esn, keyHex: suite == .aesGCM128 ? key128 : key256,
      plaintext: plaintext)
    #expect(Array(b.bytes[34...]) == Array(expected[34...]))
  }

  @Test func replayedPacketIsDroppedAndCounted() throws {
    let (sender, receiver) = try saPair()
    var b = buffers.buffer(ipv4Frame(payload: 80))
    defer { buffers.give(b) }
    try sender.seal(&b, now: 0)
    var copy = buffers.buffer(b.bytes)
    defer { buffers.give(copy) }
    try receiver.open(&b, now: 0)
    #expect(throws: IpsecDrop.replayed) { try receiver.open(&copy, now: 0) }
    #expect(receiver.counters.dropped(.replayed) == 1)
    #expect(receiver.counters.packets == 1)
  }

  /// Every shorter frame: an IP length beyond the frame, or an ESP payload
  /// too short or not ending on a 4-byte boundary, is truncated; one that
  /// only loses ICV bytes fails authentication. Nothing traps.
  @Test func truncatedPacketsAreDropped() throws {
    let (sender, receiver) = try saPair()
    var sealed = buffers.buffer(ipv4Frame(payload: 40))
    try sender.seal(&sealed, now: 0)
    let full = sealed.bytes
    buffers.give(sealed)
    var drops = 0
    for cut in 1..<(full.count - 14) {
      // The frame loses `cut` bytes; the IP length still claims them.
      var b = buffers.buffer(Array(full.dropLast(cut)))
      #expect(throws: IpsecDrop.truncated) { try receiver.open(&b, now: 0) }
      buffers.give(b)
      drops += 1
      // The IP length agrees with the shorter frame.
      var fixed = Array(full.dropLast(cut))
      guard fixed.count >= 34 else { continue }
      let total = fixed.count - 14
      fixed[16] = UInt8(total >> 8)
      fixed[17] = UInt8(total & 0xff)
      var f = buffers.buffer(fixed)
      do throws(IpsecDrop) {
        try receiver.open(&f, now: 0)
        Issue.record("a frame cut by \(cut) bytes opened")
      } catch {
        #expect(error == .truncated || error == .authenticationFailed || error == .unsupportedPacket)
      }
      buffers.give(f)
    }
    #expect(receiver.counters.dropped(.truncated) >= UInt64(drops))
    #expect(receiver.counters.packets == 0)
    // The untouched packet still opens: nothing moved the window.
    var b = buffers.buffer(full)
    defer { buffers.give(b) }
    try receiver.open(&b, now: 0)
  }

  @Test func unknownSPIIsDroppedAndCountedByTheDatabase() throws {
    let (sender, receiver) = try saPair(spi: 0x1000)
    let database = SecurityAssociationDatabase()
    try database.installInbound(receiver)
    let path = IpsecDataPath(database: database)
    let (stranger, _) = try saPair(spi: 0x1001)
    var b = buffers.buffer(ipv4Frame(payload: 10))
    defer { buffers.give(b) }
    try stranger.seal(&b, now: 0)
    #expect(path.openOne(&b, now: 0) == .dropped(.unknownSPI))
    #expect(database.counters.dropped(.unknownSPI) == 1)
    // The SA itself opens its own sender's packets.
    var good = buffers.buffer(ipv4Frame(payload: 10))
    defer { buffers.give(good) }
    try sender.seal(&good, now: 0)
    #expect(path.openOne(&good, now: 0) == .opened(spi: 0x1000))
  }

  /// Tunnel SAs also check the outer destination (RFC 4301 §4.1).
  @Test func tunnelPacketToAnotherAddressIsUnknown() throws {
    let (sender, receiver) = try saPair()
    let database = SecurityAssociationDatabase()
    try database.installInbound(receiver)
    let path = IpsecDataPath(database: database)
    var b = buffers.buffer(ipv4Frame(payload: 10))
    defer { buffers.give(b) }
    try sender.seal(&b, now: 0)
    var bytes = b.bytes
    bytes[33] = 99  // destination 192.0.2.99
    var moved = buffers.buffer(bytes)
    defer { buffers.give(moved) }
    #expect(path.openOne(&moved, now: 0) == .dropped(.unknownSPI))
  }

  /// One flipped bit anywhere from the sequence number to the ICV fails
  /// the integrity check; the window does not move (§3.4.3), so the
  /// genuine packet opens afterwards.
  @Test func tamperedPacketsFailAuthentication() throws {
    let (sender, receiver) = try saPair()
    var sealed = buffers.buffer(ipv4Frame(payload: 60))
    try sender.seal(&sealed, now: 0)
    let genuine = sealed.bytes
    buffers.give(sealed)
    var tampered = 0
    for offset in stride(from: 38, to: genuine.count, by: 3) {
      var bytes = genuine
      bytes[offset] ^= 0x10
      var b = buffers.buffer(bytes)
      do throws(IpsecDrop) {
        try receiver.open(&b, now: 0)
        Issue.record("tampered byte \(offset) opened")
      } catch {
        // A changed sequence number may also fall outside the window.
        #expect(error == .authenticationFailed || error == .outsideWindow)
        if error == .authenticationFailed { tampered += 1 }
      }
      buffers.give(b)
    }
    #expect(receiver.counters.dropped(.authenticationFailed) == UInt64(tampered))
    #expect(tampered > 20)
    var b = buffers.buffer(genuine)
    defer { buffers.give(b) }
    try receiver.open(&b, now: 0)
    #expect(receiver.counters.packets == 1)
  }

  /// Authentic packets whose padding is not 1, 2, 3, ... or longer than the
  /// payload (RFC 4303 §2.4).
  @Test(arguments: [[1, 3, 2, 4] as [UInt8], [0, 0, 2, 4], [1, 2, 200, 4]])
  func badPaddingIsDropped(trailer: [UInt8]) throws {
    let (_, receiver) = try saPair(esn: false)
    let inner = ipPacket(of: ipv4Frame(payload: 30))  // 58 bytes, + 4 = 62: not aligned
    let plaintext = inner + [0, 0] + trailer  // 64 bytes
    let frame = try craftedESPFrame(spi: 0x1000, sequence: 1, esn: false, plaintext: plaintext)
    var b = buffers.buffer(frame)
    defer { buffers.give(b) }
    #expect(throws: IpsecDrop.badPadding) { try receiver.open(&b, now: 0) }
    #expect(receiver.counters.dropped(.badPadding) == 1)
  }

  /// Next header 59 is a dummy packet (RFC 4303 §2.6): dropped and counted.
  @Test func dummyPacketsAreDiscarded() throws {
    let (_, receiver) = try saPair(esn: false)
    let frame = try craftedESPFrame(spi: 0x1000, sequence: 1, esn: false, plaintext: [9, 9, 0, 59])
    var b = buffers.buffer(frame)
    defer { buffers.give(b) }
    #expect(throws: IpsecDrop.dummyPacket) { try receiver.open(&b, now: 0) }
    #expect(receiver.counters.dropped(.dummyPacket) == 1)
  }

  /// Tunnel mode: a decrypted packet too short to be the IP packet its
  /// next header names is refused (RFC 4301 §5.2).
  @Test func innerPacketThatIsNotIPIsASelectorMismatch() throws {
    let (_, receiver) = try saPair(esn: false)
    let plaintext: [UInt8] = [0x45] + [UInt8](repeating: 0, count: 13) + [0, 4]
    let frame = try craftedESPFrame(spi: 0x1000, sequence: 1, esn: false, plaintext: plaintext)
    var b = buffers.buffer(frame)
    defer { buffers.give(b) }
    #expect(throws: IpsecDrop.selectorMismatch) { try receiver.open(&b, now: 0) }
    #expect(receiver.counters.dropped(.selectorMismatch) == 1)
  }
}
