import CardCrypto
import DataPlane
import Ipsec
import Testing
import Wire

/// SA lifetimes (RFC 4301 §4.4.2.1) and make-before-break rekeying
/// through the SAD's slots, with two cards' data paths facing each other.
@Suite struct LifetimeAndRekeyTests {
  let buffers = Buffers()

  @Test func hardByteLimitEndsTheSA() throws {
    let (sender, receiver) = try saPair(lifetime: Lifetime(softBytes: 300, hardBytes: 600))
    var sealed = 0
    for _ in 0..<20 {
      var b = buffers.buffer(ipv4Frame(payload: 72))  // 100 protected bytes
      defer { buffers.give(b) }
      do throws(IpsecDrop) {
        try sender.seal(&b, now: 0)
        sealed += 1
        try receiver.open(&b, now: 0)
      } catch {
        #expect(error == .expired)
      }
      if sealed == 4 { #expect(sender.lifetimeState == .rekeyWanted) }
    }
    #expect(sealed == 6)
    #expect(sender.lifetimeState == .expired)
    #expect(sender.counters.dropped(.expired) == 14)
    #expect(receiver.counters.packets == 6)
  }

  @Test func secondsLimitsAskForARekeyThenEndTheSA() throws {
    let (sender, receiver) = try saPair(lifetime: Lifetime(softSeconds: 100, hardSeconds: 160))
    let database = SecurityAssociationDatabase()
    try database.installInbound(receiver)
    try database.setOutbound(sender, slot: 0)
    var b = buffers.buffer(ipv4Frame(payload: 10))
    defer { buffers.give(b) }
    try sender.seal(&b, now: 99)
    #expect(database.saNeedingRekey().isEmpty)
    try receiver.open(&b, now: 120)
    #expect(receiver.lifetimeState == .rekeyWanted)
    #expect(database.saNeedingRekey() == [0x1000])
    var c = buffers.buffer(ipv4Frame(payload: 10))
    defer { buffers.give(c) }
    #expect(throws: IpsecDrop.expired) { try sender.seal(&c, now: 160) }
    #expect(sender.lifetimeState == .expired)
  }

  /// Two cards, A (192.0.2.1) and B (192.0.2.2), transport mode on the
  /// underlay. A continuous flow from A to B with 16 packets always in
  /// flight; mid-flow the pair rekeys make-before-break: B installs the new
  /// inbound SA, then A switches its slot, then B retires the old SA after
  /// a grace period longer than the flight. Every packet sealed arrives
  /// opened, on both counts.
  @Test func rekeyUnderAContinuousFlowLosesNothing() throws {
    let a = try Card(address: "192.0.2.1", peer: "192.0.2.2")
    let b = try Card(address: "192.0.2.2", peer: "192.0.2.1")
    let first = try saPair(spi: 0x1000, mode: .transport)
    try a.database.setOutbound(first.sender, slot: 0)
    try b.database.installInbound(first.receiver)
    let second = try saPair(spi: 0x2000, mode: .transport, keyHex: "00112233445566778899aabbccddeeff01020304")

    var inFlight: [PacketBuffer] = []
    var sent = 0
    var received = 0
    for tick in 0..<2000 {
      let now = UInt64(tick / 10)
      switch tick {
      case 500: try b.database.installInbound(second.receiver)  // make
      case 700: try a.database.setOutbound(second.sender, slot: 0)  // switch
      case 720: try b.database.retireInbound(spi: 0x1000, now: now, grace: 5)  // break, later
      default: break
      }
      b.database.removeRetired(now: now)
      var packet = buffers.buffer(
        ipv4Frame(source: "192.0.2.1", destination: "192.0.2.2", payload: tick % 300))
      #expect(a.path.sealOne(&packet, now: now) != .passedInClear)
      sent += 1
      inFlight.append(packet)
      if inFlight.count > 16 {
        var arriving = inFlight.removeFirst()
        if case .opened = b.path.openOne(&arriving, now: now) { received += 1 }
        buffers.give(arriving)
      }
    }
    for var arriving in inFlight {
      if case .opened = b.path.openOne(&arriving, now: 200) { received += 1 }
      buffers.give(arriving)
    }
    #expect(received == sent)
    #expect(first.sender.counters.packets + second.sender.counters.packets == UInt64(sent))
    #expect(first.receiver.counters.packets + second.receiver.counters.packets == UInt64(received))
    #expect(first.receiver.counters.totalDrops == 0 && second.receiver.counters.totalDrops == 0)
    #expect(b.database.counters.totalDrops == 0)
    #expect(b.database.inboundSA(spi: 0x1000) == nil, "the old SA is gone after its grace")
    #expect(first.sender.lifetimeState == .expired)
  }

  /// The same SPI installed with the wrong key on one side: traffic stops,
  /// every packet is counted as an authentication failure, nothing traps.
  /// The wrong SPI: every packet is an unknown SPI.
  @Test func wronglyInstalledSAStopsTrafficAndIsCounted() throws {
    let a = try Card(address: "192.0.2.1", peer: "192.0.2.2")
    let b = try Card(address: "192.0.2.2", peer: "192.0.2.1")
    let good = try saPair(spi: 0x3000, mode: .transport)
    let wrongKey = try saPair(
      spi: 0x3000, mode: .transport, keyHex: "ffeeddccbbaa99887766554433221100cafebabe")
    try a.database.setOutbound(good.sender, slot: 0)
    try b.database.installInbound(wrongKey.receiver)
    for i in 0..<50 {
      var packet = buffers.buffer(ipv4Frame(source: "192.0.2.1", destination: "192.0.2.2", payload: i))
      defer { buffers.give(packet) }
      #expect(a.path.sealOne(&packet, now: 0) == .sealed(spi: 0x3000))
      #expect(b.path.openOne(&packet, now: 0) == .dropped(.authenticationFailed))
    }
    #expect(wrongKey.receiver.counters.dropped(.authenticationFailed) == 50)
    #expect(wrongKey.receiver.replayWindow.highest == 0)

    b.database.removeInbound(spi: 0x3000)
    let wrongSPI = try saPair(spi: 0x3001, mode: .transport)
    try b.database.installInbound(wrongSPI.receiver)
    var packet = buffers.buffer(ipv4Frame(source: "192.0.2.1", destination: "192.0.2.2", payload: 5))
    defer { buffers.give(packet) }
    _ = a.path.sealOne(&packet, now: 0)
    #expect(b.path.openOne(&packet, now: 0) == .dropped(.unknownSPI))
    #expect(b.database.counters.dropped(.unknownSPI) == 1)
  }

  /// RFC 4301 §5.2: a clear-text packet that the PROTECT policy covers is
  /// dropped and counted against that policy; traffic it does not cover
  /// passes.
  @Test func clearTextWherePolicyProtectsIsDropped() throws {
    let b = try Card(address: "192.0.2.2", peer: "192.0.2.1")
    var clear = buffers.buffer(ipv4Frame(source: "192.0.2.1", destination: "192.0.2.2", payload: 20))
    defer { buffers.give(clear) }
    #expect(b.path.openOne(&clear, now: 0) == .dropped(.clearTextWhereProtected))
    #expect(b.path.clearTextDrops == [1])
    #expect(b.database.counters.dropped(.clearTextWhereProtected) == 1)
    var other = buffers.buffer(ipv4Frame(source: "198.51.100.7", destination: "192.0.2.2", payload: 20))
    defer { buffers.give(other) }
    #expect(b.path.openOne(&other, now: 0) == .passedInClear)
  }

  /// One card's ESP stage: a PROTECT policy for underlay traffic to its
  /// peer through outbound slot 0.
  struct Card {
    let database = SecurityAssociationDatabase(capacity: 8, outboundSlots: 2)
    let path: IpsecDataPath

    init(address: String, peer: String) throws {
      let selector = TrafficSelector(
        local: .host(IPAddress(address)!), remote: .host(IPAddress(peer)!))
      path = IpsecDataPath(
        database: database, policies: [SecurityPolicy(selector: selector, action: .protect(outboundSlot: 0))])
    }
  }
}
