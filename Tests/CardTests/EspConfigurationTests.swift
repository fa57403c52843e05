import Card
import DataPlane
import Ipsec
import Testing
import Wire

/// The `esp` lines of the card's configuration and how a reload puts them
/// in force (make-before-break; Docs/ipsec.md).
@Suite struct EspConfigurationTests {
  static let head = """
    card underlay=10.255.0.1 mac=02:ca:00:00:00:01 router-mac=02:ee:00:00:00:01 gateway-mac=02:00:5e:00:00:01
    uplink ring
    """
  static let key128 = String(repeating: "11", count: 16) + "a1b2c3d4"
  static let otherKey128 = String(repeating: "22", count: 16) + "a1b2c3d4"

  static func esp(
    _ direction: String, spi: Int, peer: String = "10.255.0.2", key: String = key128, extra: String = ""
  )
    -> String
  {
    "esp peer=\(peer) direction=\(direction) spi=\(spi) cipher=aes-gcm-128 key=\(key)" + extra
  }

  static func parse(_ lines: [String]) throws(ConfigurationFileError) -> CardConfiguration {
    try ConfigurationFileParser.parse(([head] + lines).joined(separator: "\n"))
  }

  static func failure(_ lines: [String]) -> ConfigurationFileError? {
    do {
      _ = try parse(lines)
      return nil
    } catch {
      return error
    }
  }

  @Test func espLinesBecomeAssociationsAndLowerTheMTUs() throws {
    let plain = try Self.parse([])
    let c = try Self.parse([
      Self.esp("outbound", spi: 4097), Self.esp("inbound", spi: 8193, extra: " replay-window=4096 no-esn"),
    ])
    #expect(c.esp.count == 2)
    #expect(c.esp[0].direction == .outbound && c.esp[0].spi == 4097 && c.esp[0].suite == .aesGCM128)
    #expect(c.esp[0].key.count == 20 && c.esp[0].key.last == 0xd4)
    #expect(c.esp[1].replayWindow == 4096 && !c.esp[1].extendedSequenceNumbers)
    #expect(c.esp[0].extendedSequenceNumbers)
    // The uplink keeps its MTU; what the pipeline builds leaves room for ESP.
    #expect(c.uplinkMTU == plain.network.card.underlayMTU)
    #expect(
      c.network.card.underlayMTU
        == ProtectedUnderlay.underlayMTU(uplinkMTU: plain.network.card.underlayMTU, suite: .aesGCM128))
    #expect(c.network.card.underlayMTU < plain.network.card.underlayMTU)
    #expect(c.network.card.guestMTU <= c.network.card.underlayMTU - 50)
  }

  @Test(arguments: [
    ([esp("outbound", spi: 4097)], "esp", "needs an inbound SA"),
    ([esp("inbound", spi: 4097)], "esp", "exactly one outbound"),
    ([esp("outbound", spi: 4097), esp("outbound", spi: 4098), esp("inbound", spi: 1)], "spi", "reserved"),
    (
      [esp("outbound", spi: 4097), esp("outbound", spi: 4098), esp("inbound", spi: 500)], "esp",
      "exactly one outbound"
    ),
    ([esp("outbound", spi: 4097), esp("inbound", spi: 500), esp("inbound", spi: 500)], "esp", "used twice"),
    ([esp("outbound", spi: 4097, key: "abcd"), esp("inbound", spi: 500)], "key", "40 hex digits"),
    (
      [esp("outbound", spi: 4097, key: String(repeating: "zz", count: 20)), esp("inbound", spi: 500)], "key",
      "hex"
    ),
    (
      [esp("outbound", spi: 4097, peer: "10.255.0.1"), esp("inbound", spi: 500, peer: "10.255.0.1")], "esp",
      "own"
    ),
    (
      ["esp peer=10.255.0.2 direction=sideways spi=4097 cipher=aes-gcm-128 key=\(key128)"], "direction",
      "inbound or outbound"
    ),
    (
      ["esp peer=10.255.0.2 direction=inbound spi=4097 cipher=aes-cbc key=\(key128)"], "cipher", "aes-gcm-128"
    ),
    (
      [esp("outbound", spi: 4097), esp("inbound", spi: 500, extra: " replay-window=10")], "replay-window",
      "at least 64"
    ),
    ([esp("outbound", spi: 4097), esp("inbound", spi: 500, extra: " colour=red")], "colour", "not a field"),
  ])
  func badEspLinesAreRejectedWithTheField(lines: [String], field: String, problem: String) {
    let error = Self.failure(lines)
    #expect(error?.field == field)
    #expect(error?.description.contains(problem) == true, "\(String(describing: error))")
  }

  static func association(
    _ direction: SecurityAssociationParameters.Direction, spi: UInt32, key: UInt8 = 0x11
  )
    -> EspAssociation
  {
    EspAssociation(
      peer: IPAddress("10.255.0.2")!, direction: direction, spi: spi, suite: .aesGCM128,
      key: [UInt8](repeating: key, count: 20))
  }

  @Test func aRekeyInstallsTheNewInboundSAFirstAndRetiresTheOldAfterItsGrace() throws {
    let out1 = Self.association(.outbound, spi: 4097)
    let in1 = Self.association(.inbound, spi: 8193)
    let esp = try UnderlayEncryption([out1, in1], card: IPAddress("10.255.0.1")!, uplinkMTU: 1500)
    #expect(esp.path.policies.count == 1)
    let firstOutbound = try #require(esp.database.outboundSA(slot: 0))
    #expect(firstOutbound.spi == 4097)
    #expect(esp.database.inboundSA(spi: 8193) != nil)

    // Receiver's step: the new inbound SA opens alongside the old one.
    let in2 = Self.association(.inbound, spi: 8194, key: 0x22)
    try esp.apply([out1, in1, in2], now: 100)
    #expect(esp.database.inboundSA(spi: 8193) != nil && esp.database.inboundSA(spi: 8194) != nil)
    #expect(esp.database.outboundSA(slot: 0) === firstOutbound, "an unchanged SA keeps its sequence numbers")

    // Sender's step: one slot switched; the old outbound SA seals no more.
    let out2 = Self.association(.outbound, spi: 4098, key: 0x33)
    try esp.apply([out2, in1, in2], now: 101)
    #expect(esp.database.outboundSA(slot: 0)?.spi == 4098)
    #expect(firstOutbound.lifetimeState == .expired)
    #expect(esp.path.policies.count == 1)

    // The old inbound SA is gone from the file but opens packets in flight
    // until its grace has passed.
    try esp.apply([out2, in2], now: 102)
    #expect(esp.database.inboundSA(spi: 8193) != nil)
    #expect(esp.database.removeRetired(now: 102 + UnderlayEncryption.retireGraceSeconds - 1) == 0)
    #expect(esp.database.removeRetired(now: 102 + UnderlayEncryption.retireGraceSeconds) == 1)
    #expect(esp.database.inboundSA(spi: 8193) == nil)
    #expect(esp.database.inboundSA(spi: 8194) != nil)
  }

  @Test func aChangedKeyUnderTheSameSPIReplacesTheInboundSAAtOnce() throws {
    let out = Self.association(.outbound, spi: 4097)
    let esp = try UnderlayEncryption(
      [out, Self.association(.inbound, spi: 8193)], card: IPAddress("10.255.0.1")!, uplinkMTU: 1500)
    let before = try #require(esp.database.inboundSA(spi: 8193))
    try esp.apply([out, Self.association(.inbound, spi: 8193, key: 0x44)], now: 5)
    let after = try #require(esp.database.inboundSA(spi: 8193))
    #expect(after !== before)
    #expect(before.lifetimeState == .expired)
    // Retired and put back before its grace ended: it stays.
    try esp.apply([out], now: 6)
    let back = Self.association(.inbound, spi: 9000)
    try esp.apply([out, back], now: 6)
    try esp.apply([out, Self.association(.inbound, spi: 8193, key: 0x55)], now: 7)
    #expect(esp.database.removeRetired(now: 100) == 1, "only 9000, retired by the last apply")
    #expect(esp.database.inboundSA(spi: 8193) != nil)
  }

  @Test func aPeerThatLeavesLosesItsPolicyAndOutboundSA() throws {
    let esp = try UnderlayEncryption(
      [Self.association(.outbound, spi: 4097), Self.association(.inbound, spi: 8193)],
      card: IPAddress("10.255.0.1")!, uplinkMTU: 1500)
    try esp.apply([], now: 3)
    #expect(esp.path.policies.isEmpty)
    #expect(esp.database.outboundSA(slot: 0) == nil)
  }

  @Test func aBadKeyChangesNothing() throws {
    let out = Self.association(.outbound, spi: 4097)
    let inbound = Self.association(.inbound, spi: 8193)
    let esp = try UnderlayEncryption([out, inbound], card: IPAddress("10.255.0.1")!, uplinkMTU: 1500)
    var short = Self.association(.inbound, spi: 8194)
    short.key = [1, 2, 3]
    #expect(throws: SecurityAssociationError.self) {
      try esp.apply([Self.association(.outbound, spi: 4098), short], now: 4)
    }
    #expect(esp.associations == [out, inbound])
    #expect(esp.database.outboundSA(slot: 0)?.spi == 4097)
    #expect(esp.database.inboundSA(spi: 8194) == nil)
  }
}
