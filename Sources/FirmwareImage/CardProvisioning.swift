import Foundation

/// What a card needs to register with its controller, written to the
/// card's provisioning partition (a second small disk on the emulated card,
/// `provision.img`): a cpio archive the boot stage unpacks (Docs/firmware-
/// image.md, "Registration"):
///
///     provision.conf   controller ADDR:PORT, card-name NAME, address CIDR
///     card.conf        the firmware's configuration file (card line, uplink)
///     pki/ca.crt, pki/cards/NAME.{crt,key,kek}   the card's mTLS identity and key-encryption key
///
/// On the emulated card the management network is QEMU's user network,
/// restricted: the card (10.0.2.15) reaches only 10.0.2.100:7443, which
/// QEMU forwards to the controller's management port on the host's
/// loopback. The uplink, if given, is a second NIC (`eth1`) the firmware
/// opens with AF_PACKET, as it does on the rack's underlay. On hardware the partition would be written at manufacturing
/// or enrolment and the card's out-of-band port used.
public struct CardProvisioning: Sendable {
  /// The controller's management port on the host's loopback.
  public var controllerPort: Int
  /// The folder `dpuctl pki` made: ca.crt and cards/NAME.{crt,key}.
  public var pkiDirectory: String
  public var cardName: String
  /// The card's underlay address in its configuration file (as registered
  /// with `dpuctl cards register --underlay-ip`).
  public var underlayAddress: String
  /// After the firmware came up healthy, how long the boot stage lets it
  /// serve before stopping it and powering off.
  public var serveSeconds: Int
  /// The card's uplink NIC on the underlay (`eth1` in the card), as a
  /// pair of unix datagram sockets: QEMU binds `local` and sends to
  /// `remote`, where the underlay (a test, a switch) listens. Nil: the
  /// firmware's uplink is an in-memory ring.
  public var uplinkSockets: (local: String, remote: String)?

  /// The controller as the card sees it, and the card's own address.
  public static let guestControllerAddress = "10.0.2.100"
  public static let guestControllerPort = 7443
  public static let cardAddress = "10.0.2.15/24"
  /// The uplink NIC's MAC, the card's underlay MAC in its file.
  public static let uplinkMAC = "02:ca:00:00:00:01"

  public init(
    controllerPort: Int, pkiDirectory: String, cardName: String, underlayAddress: String = "192.0.2.1",
    serveSeconds: Int = 60, uplinkSockets: (local: String, remote: String)? = nil
  ) {
    self.uplinkSockets = uplinkSockets
    self.controllerPort = controllerPort
    self.pkiDirectory = pkiDirectory
    self.cardName = cardName
    self.underlayAddress = underlayAddress
    self.serveSeconds = serveSeconds
  }

  /// The forward QEMU sets up for the card's management network.
  public var forward: (guestAddress: String, guestPort: Int, hostPort: Int) {
    (Self.guestControllerAddress, Self.guestControllerPort, controllerPort)
  }

  /// The archive; its PKI files must exist (else an error that says which
  /// `dpuctl pki` command makes them).
  public func archive() throws(FirmwareImageError) -> [UInt8] {
    guard !cardName.isEmpty, cardName.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
    else {
      throw .card(reason: "card name '\(cardName)' must be letters, digits, '-' and '_'")
    }
    guard (1...65535).contains(controllerPort) else {
      throw .card(reason: "controller port \(controllerPort) is not 1-65535")
    }
    func read(_ relative: String, made command: String) throws(FirmwareImageError) -> [UInt8] {
      let path = pkiDirectory + "/" + relative
      guard FileManager.default.fileExists(atPath: path) else {
        throw .card(reason: "\(path) is missing; make it with `\(command)`")
      }
      return try FileBytes.read(path)
    }
    let ca = try read("ca.crt", made: "dpuctl pki init --dir \(pkiDirectory)")
    let issue = "dpuctl pki issue-card \(cardName) --dir \(pkiDirectory)"
    let certificate = try read("cards/\(cardName).crt", made: issue)
    let key = try read("cards/\(cardName).key", made: issue)
    let settings = """
      controller \(Self.guestControllerAddress):\(Self.guestControllerPort)
      card-name \(cardName)
      address \(Self.cardAddress)
      serve-seconds \(serveSeconds)

      """ + (uplinkSockets == nil ? "" : "uplink eth1\n")
    // The card's own tenants come from the controller; the file gives the
    // card its identity on the underlay and an in-memory uplink.
    let configuration = """
      card underlay=\(underlayAddress) mac=02:ca:00:00:00:01 router-mac=02:ee:00:00:00:01 gateway-mac=02:00:5e:00:00:01
      \(uplinkSockets == nil ? "uplink ring" : "uplink interface=eth1")

      """
    var entries: [CpioArchive.Entry] = [
      .init(path: "provision.conf", permissions: 0o644, kind: .file(Array(settings.utf8))),
      .init(path: "card.conf", permissions: 0o644, kind: .file(Array(configuration.utf8))),
      .init(path: "pki", permissions: 0o700, kind: .directory),
      .init(path: "pki/ca.crt", permissions: 0o644, kind: .file(ca)),
      .init(path: "pki/cards", permissions: 0o700, kind: .directory),
      .init(path: "pki/cards/\(cardName).crt", permissions: 0o644, kind: .file(certificate)),
      .init(path: "pki/cards/\(cardName).key", permissions: 0o600, kind: .file(key)),
    ]
    // Its key-encryption key, for the ESP keys the controller pushes (a PKI
    // folder from before key seeds has none: the card then takes no SAs).
    let kek = pkiDirectory + "/cards/\(cardName).kek"
    if FileManager.default.fileExists(atPath: kek) {
      entries.append(
        .init(path: "pki/cards/\(cardName).kek", permissions: 0o600, kind: .file(try FileBytes.read(kek))))
    }
    return CpioArchive(entries: entries).bytes(mtime: 0)
  }
}
