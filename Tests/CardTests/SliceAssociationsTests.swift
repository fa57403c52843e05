import Card
import CardAgent
import CardCrypto
import CardHandoff
import DataPlane
import Ipsec
import Management
import Testing
import Wire

/// The SAs a controller pushes: unwrapped with the card's key-encryption
/// key, checked as the file's `esp` lines are, handed over with the
/// network; anything else refused with the SA named.
struct SliceAssociationsTests {
  let base = CardConfiguration(
    network: NetworkConfiguration(
      card: CardSettings(
        underlayAddress: .v4(IPv4Address(192, 0, 2, 1)), underlayMAC: MACAddress(2, 0xca, 0, 0, 0, 1),
        underlayRouterMAC: MACAddress(2, 0xee, 0, 0, 0, 1), gatewayMAC: MACAddress(2, 0, 0x5e, 0, 0, 1))),
    uplink: .ring, hostFunctions: [])
  let kekBytes: [UInt8] = (0..<32).map { UInt8($0 &* 7 &+ 1) }

  func kek(_ bytes: [UInt8]? = nil) throws -> CardKeyEncryptionKey {
    CardKeyEncryptionKey(try SymmetricKey(hex: hex(bytes ?? kekBytes)))
  }

  func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
      .joined()
  }

  func wrapped(_ material: [UInt8], kek bytes: [UInt8]? = nil) throws -> [UInt8] {
    let key = try SymmetricKey(hex: hex(material))
    let kek = try SymmetricKey(hex: hex(bytes ?? kekBytes))
    return try KeyWrap.wrap(key, kek: kek)
  }

  let toPeer: [UInt8] = (0..<36).map { UInt8($0) }
  let fromPeer: [UInt8] = (0..<36).map { UInt8(200 - $0) }

  func sa(
    spi: UInt32, _ direction: SecurityAssociationSlice.Direction, material: [UInt8],
    wrappedKey: [UInt8]? = nil,
    local: IPPrefix = .host([192, 0, 2, 1]), cipher: SliceCipher = .aesGCM256, window: UInt32 = 2048,
    tunnel: UInt32 = 0
  ) throws -> SecurityAssociationSlice {
    SecurityAssociationSlice(
      tunnel: tunnel, spi: spi, direction: direction, cipher: cipher, localAddress: local,
      remoteAddress: .host([192, 0, 2, 2]), extendedSequenceNumbers: true, antiReplayWindow: window,
      wrappedKey: try wrappedKey ?? wrapped(material))
  }

  func state(_ sas: [SecurityAssociationSlice]) -> DesiredState {
    DesiredState(generation: 4, securityAssociations: sas)
  }

  @Test func slicesSAsBecomeTheCardsESPAssociations() throws {
    let sas = [
      try sa(spi: 0x1001, .inbound, material: fromPeer), try sa(spi: 0x2002, .outbound, material: toPeer),
    ]
    let esp = try SliceTranslation.associations(from: state(sas), base: base, kek: kek())
    let peer = IPAddress.v4(IPv4Address(192, 0, 2, 2))
    #expect(
      esp == [
        EspAssociation(
          peer: peer, direction: .inbound, spi: 0x1001, suite: .aesGCM256, key: fromPeer, replayWindow: 2048),
        EspAssociation(
          peer: peer, direction: .outbound, spi: 0x2002, suite: .aesGCM256, key: toPeer, replayWindow: 2048),
      ])
    // A slice without SAs needs no key.
    #expect(try SliceTranslation.associations(from: state([]), base: base, kek: nil).isEmpty)
  }

  @Test func theApplierHandsTheSAsOverWithTheNetworkAtESPsMTU() throws {
    let handoff = try CardConfigurationHandoff()
    var applier = SliceApplier(base: base, handoff: handoff, keyEncryptionKey: try kek())
    try applier.apply(
      state([
        try sa(spi: 0x1001, .inbound, material: fromPeer), try sa(spi: 0x2002, .outbound, material: toPeer),
      ])
    )
    let pending = try #require(handoff.take())
    #expect(pending.generation == 4)
    #expect(pending.esp.map(\.spi) == [0x1001, 0x2002])
    #expect(pending.network.card.underlayMTU < base.network.card.underlayMTU)
    #expect(pending.network.card.guestMTU <= pending.network.card.underlayMTU - 50)
    // A bad SA: nothing is handed over.
    #expect(throws: ApplyFailure.self) {
      try applier.apply(state([try sa(spi: 0x1001, .inbound, material: fromPeer)]))
    }
    #expect(handoff.take()?.generation == nil)
  }

  @Test func whatTheCardCannotRunIsRefusedWithTheSANamed() throws {
    let outbound = try sa(spi: 0x2002, .outbound, material: toPeer)
    func refusal(_ sas: [SecurityAssociationSlice], kek: CardKeyEncryptionKey?) -> String? {
      do {
        _ = try SliceTranslation.associations(from: state(sas), base: base, kek: kek)
        return nil
      } catch {
        return error.description
      }
    }
    let cases: [([SecurityAssociationSlice], CardKeyEncryptionKey?, String)] = [
      ([try sa(spi: 0x1001, .inbound, material: fromPeer), outbound], nil, "no key-encryption key"),
      (
        [
          try sa(
            spi: 0x1001, .inbound, material: fromPeer,
            wrappedKey: wrapped(fromPeer, kek: Array(repeating: 9, count: 32))), outbound,
        ],
        try kek(), "ESP SA 4097: key does not unwrap"
      ),
      (
        [try sa(spi: 0x1001, .inbound, material: fromPeer, local: .host([192, 0, 2, 9])), outbound],
        try kek(),
        "not this card's underlay address"
      ),
      (
        [try sa(spi: 0x1001, .inbound, material: fromPeer, tunnel: 3), outbound], try kek(), "names tunnel 3"
      ),
      (
        [try sa(spi: 0x1001, .inbound, material: fromPeer, cipher: .aesXTS256), outbound], try kek(),
        "AES-GCM"
      ),
      (
        [try sa(spi: 0x1001, .inbound, material: fromPeer, window: 8), outbound], try kek(), "replay window 8"
      ),
      ([try sa(spi: 200, .inbound, material: fromPeer), outbound], try kek(), "reserved"),
      (
        [try sa(spi: 0x1001, .inbound, material: Array(fromPeer.prefix(20))), outbound], try kek(), "20 bytes"
      ),
      ([try sa(spi: 0x1001, .inbound, material: fromPeer)], try kek(), "exactly one outbound SA"),
      (
        [
          try sa(spi: 0x1001, .inbound, material: fromPeer), outbound,
          try sa(spi: 0x1001, .inbound, material: toPeer),
        ],
        try kek(), "SPI 4097 is used twice"
      ),
    ]
    for (sas, key, expected) in cases {
      let said = refusal(sas, kek: key)
      #expect(said?.contains(expected) == true, "\(expected): \(said ?? "accepted")")
    }
  }

  /// A slice with one NIC in VNI 100 (so the card has that VPC), a tunnel
  /// to a site gateway and its SA pair.
  func siteState(
    site: SiteSlice? = nil, saTunnel: UInt32 = 1, mapping: MappingSlice? = nil
  ) throws -> DesiredState {
    var state = DesiredState(
      generation: 5,
      nics: [NicSlice(id: 1, vni: 100, mac: [2, 0, 0, 0, 1, 5], addresses: [.host([10, 0, 1, 5])])],
      routes: [
        RouteSlice(vni: 100, destination: IPPrefix(address: [10, 0, 0, 0], length: 16), target: .local)
      ])
    state.sites = [
      site
        ?? SiteSlice(
          id: 1, vni: 100, gateway: .host([203, 0, 113, 9]),
          remote: IPPrefix(address: [10, 254, 1, 0], length: 24),
          local: IPPrefix(address: [10, 0, 0, 0], length: 16))
    ]
    if let mapping { state.mappings = [mapping] }
    for (spi, direction, material) in [
      (UInt32(0x3003), SecurityAssociationSlice.Direction.inbound, fromPeer), (0x4004, .outbound, toPeer),
    ] {
      state.securityAssociations.append(
        SecurityAssociationSlice(
          tunnel: saTunnel, spi: spi, direction: direction, cipher: .aesGCM256,
          localAddress: .host([192, 0, 2, 1]),
          remoteAddress: .host([203, 0, 113, 9]), extendedSequenceNumbers: true, antiReplayWindow: 1024,
          wrappedKey: try wrapped(material)))
    }
    return state
  }

  @Test func aSiteBecomesATunnelModeSiteWithItsRoute() throws {
    let state = try siteState()
    let network = try SliceTranslation.configuration(from: state, base: base)
    let gateway = IPv4Address(203, 0, 113, 9)
    #expect(
      network.vpcs[0].routeTable.ipv4 == [
        IPv4Route(IPv4Prefix("10.254.1.0/24")!, .gateway(vtep: .v4(gateway)))
      ])
    let esp = try SliceTranslation.associations(from: state, base: base, kek: kek())
    #expect(esp.count == 2)
    #expect(esp.allSatisfy { $0.peer == .v4(gateway) && $0.tunnel?.remote == .v4(gateway) })
    #expect(
      esp[0].tunnel?.inner
        == TrafficSelector(local: .v4(IPv4Prefix("10.0.0.0/16")!), remote: .v4(IPv4Prefix("10.254.1.0/24")!)))
    let sites = try SliceTranslation.sites(from: state, network: network)
    #expect(
      sites == [
        EspSite(
          vpc: network.vpcs[0].id, gateway: gateway, remote: IPv4Prefix("10.254.1.0/24")!,
          local: IPv4Prefix("10.0.0.0/16")!)
      ])
    // Through the applier: both reach the run loop together.
    let handoff = try CardConfigurationHandoff()
    var applier = SliceApplier(base: base, handoff: handoff, keyEncryptionKey: try kek())
    try applier.apply(state)
    let pending = try #require(handoff.take())
    #expect(pending.sites == sites && pending.esp == esp)
  }

  @Test func sitesTheCardCannotRunAreRefused() throws {
    func refusal(_ state: DesiredState) -> String? {
      do {
        let network = try SliceTranslation.configuration(from: state, base: base)
        _ = try SliceTranslation.associations(from: state, base: base, kek: kek())
        _ = try SliceTranslation.sites(from: state, network: network)
        return nil
      } catch {
        return "\(error)"
      }
    }
    let gatewayIsACard = MappingSlice(
      vni: 100, overlayAddress: .host([10, 0, 2, 5]), mac: [2, 0, 0, 0, 2, 5],
      underlayAddress: .host([203, 0, 113, 9]))
    let cases: [(DesiredState, String)] = [
      (try siteState(saTunnel: 7), "names tunnel 7"),
      (
        try siteState(
          site: SiteSlice(
            id: 1, vni: 999, gateway: .host([203, 0, 113, 9]),
            remote: IPPrefix(address: [10, 254, 1, 0], length: 24),
            local: IPPrefix(address: [10, 0, 0, 0], length: 16))), "VNI 999 has no VPC"
      ),
      (try siteState(mapping: gatewayIsACard), "is a card that serves NICs"),
      (
        try siteState(
          site: SiteSlice(
            id: 1, vni: 100, gateway: .host([203, 0, 113, 9]),
            remote: IPPrefix(address: [10, 254, 1, 0], length: 24),
            local: IPPrefix(address: [172, 16, 0, 0], length: 16))), "is not the VPC's"
      ),
    ]
    for (state, expected) in cases {
      let said = refusal(state)
      #expect(said?.contains(expected) == true, "\(expected): \(said ?? "accepted")")
    }
  }
}
