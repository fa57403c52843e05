import Ipsec
import Wire

/// One ESP SA between this card and a peer card, as the configuration file
/// gives it (until the controller pushes card-pair keys):
///
///     esp peer=A direction=inbound|outbound spi=N cipher=aes-gcm-128|aes-gcm-256 key=HEX
///         [replay-window=N] [no-esn]
///
/// Transport mode on the underlay (Docs/ipsec.md). `key` is the AES key
/// followed by the 4-byte salt (RFC 4106 §8.1), the same bytes
/// `ip xfrm state … aead 'rfc4106(gcm(aes))' 0xKEY 128` takes: 40 hex
/// digits for AES-GCM-128, 72 for AES-GCM-256. Every peer needs exactly
/// one outbound SA and at least one inbound SA; a second inbound SA is the
/// first step of a make-before-break rekey.
public struct EspAssociation: Equatable, Sendable {
  public var peer: IPAddress
  public var direction: SecurityAssociationParameters.Direction
  public var spi: UInt32
  public var suite: CipherSuite
  public var key: [UInt8]
  public var replayWindow: UInt64
  public var extendedSequenceNumbers: Bool

  public init(
    peer: IPAddress, direction: SecurityAssociationParameters.Direction, spi: UInt32, suite: CipherSuite,
    key: [UInt8], replayWindow: UInt64 = 1024, extendedSequenceNumbers: Bool = true
  ) {
    self.peer = peer
    self.direction = direction
    self.spi = spi
    self.suite = suite
    self.key = key
    self.replayWindow = replayWindow
    self.extendedSequenceNumbers = extendedSequenceNumbers
  }

  /// The SA's parameters, sealing at most `uplinkMTU`-byte outer packets.
  public func parameters(uplinkMTU: Int) -> SecurityAssociationParameters {
    SecurityAssociationParameters(
      spi: spi, direction: direction, mode: .transport, suite: suite,
      extendedSequenceNumbers: extendedSequenceNumbers, replayWindowSize: replayWindow, outerMTU: uplinkMTU)
  }

  /// "out spi 4097 peer 10.99.0.2".
  public var label: String {
    (direction == .outbound ? "out" : "in") + " spi " + String(spi) + " peer " + peer.description
  }
}

enum EspStatement {
  static func read(_ line: inout ConfigurationLine) throws(ConfigurationFileError) -> EspAssociation {
    let peer = try line.address("peer")
    let direction: SecurityAssociationParameters.Direction
    switch try line.required("direction") {
    case "inbound": direction = .inbound
    case "outbound": direction = .outbound
    case let text: throw line.error("direction", "'" + text + "' is not inbound or outbound")
    }
    let spi = try line.number("spi", UInt32.self)
    guard spi >= 256 else {
      throw line.error("spi", "SPIs 0-255 are reserved (RFC 4303 §2.1); use 256 or more")
    }
    let suite: CipherSuite
    switch try line.required("cipher") {
    case "aes-gcm-128": suite = .aesGCM128
    case "aes-gcm-256": suite = .aesGCM256
    case let text: throw line.error("cipher", "'" + text + "' is not aes-gcm-128 or aes-gcm-256")
    }
    guard let key = VolumeStatement.bytes(hex: try line.required("key")),
      key.count == suite.keyMaterialByteCount
    else {
      throw line.error(
        "key",
        "expected " + String(2 * suite.keyMaterialByteCount) + " hex digits (the "
          + String(suite.keyByteCount) + "-byte AES key, then the 4-byte salt)")
    }
    let window =
      try line.optionalNumber("replay-window", UInt64.self, max: ReplayWindow.maximumSize)
      ?? 1024
    guard window >= ReplayWindow.minimumSize else {
      throw line.error("replay-window", "at least " + String(ReplayWindow.minimumSize) + " packets")
    }
    let esn = !line.has("no-esn")
    return EspAssociation(
      peer: peer, direction: direction, spi: spi, suite: suite, key: key, replayWindow: window,
      extendedSequenceNumbers: esn)
  }

  /// Whole-file checks: SPIs unique per direction, one outbound SA and at
  /// least one inbound SA per peer, never this card itself, one suite.
  static func check(_ associations: [EspAssociation], card: IPAddress) throws(ConfigurationFileError) {
    func fail(_ field: String, _ problem: String) -> ConfigurationFileError {
      ConfigurationFileError(line: 0, field: field, problem: problem)
    }
    var peers: [IPAddress] = []
    for (i, a) in associations.enumerated() {
      if a.peer == card {
        throw fail("esp", "peer " + a.peer.description + " is this card's own underlay address")
      }
      if a.suite != associations[0].suite {
        throw fail("esp", "all ESP SAs of a card use one cipher (" + a.label + " differs)")
      }
      for b in associations[..<i] where b.direction == a.direction && b.spi == a.spi {
        throw fail(
          "esp",
          "SPI " + String(a.spi) + " is used twice for " + (a.direction == .outbound ? "outbound" : "inbound")
            + " SAs")
      }
      if !peers.contains(a.peer) { peers.append(a.peer) }
    }
    for peer in peers {
      let outbound = associations.filter { $0.peer == peer && $0.direction == .outbound }.count
      let inbound = associations.filter { $0.peer == peer && $0.direction == .inbound }.count
      guard outbound == 1 else {
        throw fail(
          "esp",
          "peer " + peer.description + " needs exactly one outbound SA (it has " + String(outbound) + ")")
      }
      guard inbound >= 1 else {
        throw fail("esp", "peer " + peer.description + " needs an inbound SA")
      }
    }
  }
}
