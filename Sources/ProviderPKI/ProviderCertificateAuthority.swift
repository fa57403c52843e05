import CProviderPKI
import Foundation

/// The provider's small CA for the management channel, kept in one folder:
///
/// ```
/// ca.crt  ca.key                      the authority (keep ca.key offline)
/// controller.crt  controller.key      the controller (serverAuth, DNS name)
/// cards/NAME.crt  cards/NAME.key      each card (clientAuth, CN = card name)
/// ```
/// The controller accepts a card only if its certificate chains to ca.crt
/// and its common name is a registered card; a card accepts only a
/// controller whose certificate chains to ca.crt and carries the
/// controller's DNS name.
public struct ProviderCertificateAuthority: Sendable {
  public let folder: URL

  public static let defaultControllerName = "bulkhead-controller"
  public static let defaultLifetime: Duration = .seconds(365 * 24 * 3600)

  public init(folder: URL) { self.folder = folder }

  public var certificatePath: String { folder.appendingPathComponent("ca.crt").path }
  public var keyPath: String { folder.appendingPathComponent("ca.key").path }
  public var controllerIdentity: IssuedIdentity {
    IssuedIdentity(
      certificatePath: folder.appendingPathComponent("controller.crt").path,
      keyPath: folder.appendingPathComponent("controller.key").path)
  }
  public func cardIdentity(_ name: String) -> IssuedIdentity {
    let cards = folder.appendingPathComponent("cards")
    return IssuedIdentity(
      certificatePath: cards.appendingPathComponent(name + ".crt").path,
      keyPath: cards.appendingPathComponent(name + ".key").path)
  }
  /// Where card `name`'s key-encryption key goes (`ProviderKeySeed`).
  public func cardKeyEncryptionKeyPath(_ name: String) -> String {
    folder.appendingPathComponent("cards").appendingPathComponent(name + ".kek").path
  }

  /// Creates the authority (a self-signed certificate and its key).
  public func initialize(
    commonName: String = "Bulkhead provider CA", lifetime: Duration = .seconds(10 * 365 * 24 * 3600)
  )
    throws(PKIError)
  {
    guard !FileManager.default.fileExists(atPath: keyPath) else {
      throw .exists(
        "\(keyPath) already exists; remove the folder to start a new CA (every card must then be re-issued)")
    }
    try makeFolder(folder)
    try issue(
      kind: PKI_KIND_AUTHORITY, commonName: commonName, dnsName: nil, validFrom: .zero, validFor: lifetime,
      issuedBy: nil, to: IssuedIdentity(certificatePath: certificatePath, keyPath: keyPath))
    _ = try ProviderKeySeed.loadOrCreate(in: folder)
  }

  /// The controller's certificate, for `dnsName` (what cards check).
  @discardableResult
  public func issueController(dnsName: String = defaultControllerName, lifetime: Duration = defaultLifetime)
    throws(PKIError) -> IssuedIdentity
  {
    let identity = controllerIdentity
    try issue(
      kind: PKI_KIND_SERVER, commonName: dnsName, dnsName: dnsName, validFrom: .zero, validFor: lifetime,
      issuedBy: self, to: identity)
    return identity
  }

  /// A card's certificate: its common name is the card's registered name.
  /// `validFrom` (relative to now) lets tests make not-yet-valid or expired
  /// certificates.
  @discardableResult
  public func issueCard(_ name: String, validFrom: Duration = .zero, lifetime: Duration = defaultLifetime)
    throws(PKIError) -> IssuedIdentity
  {
    guard ResourceNameCheck.isCardName(name) else {
      throw .invalidName("card name '\(name)' must be 1-63 lowercase letters, digits or '-'")
    }
    let identity = cardIdentity(name)
    try makeFolder(folder.appendingPathComponent("cards"))
    try issue(
      kind: PKI_KIND_CLIENT, commonName: name, dnsName: nil, validFrom: validFrom, validFor: lifetime,
      issuedBy: self, to: identity)
    // Its key-encryption key, derived from the seed (made now for a folder
    // from before seeds).
    let seed = try ProviderKeySeed.loadOrCreate(in: folder)
    let kekPath = cardKeyEncryptionKeyPath(name)
    try? FileManager.default.removeItem(atPath: kekPath)
    try ProviderKeySeed.writeSecret(Hex.encode(seed.cardKeyEncryptionKey(name)) + "\n", to: kekPath)
    return identity
  }

  private func makeFolder(_ url: URL) throws(PKIError) {
    do {
      try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    } catch {
      throw .io("cannot create \(url.path): \(error.localizedDescription)")
    }
  }

  private func issue(
    kind: Int32, commonName: String, dnsName: String?, validFrom: Duration, validFor: Duration,
    issuedBy authority: ProviderCertificateAuthority?, to identity: IssuedIdentity
  ) throws(PKIError) {
    var error = [CChar](repeating: 0, count: 512)
    let notBefore = Int(validFrom.components.seconds)
    let notAfter = notBefore + Int(validFor.components.seconds)
    let status = pki_issue(
      kind, commonName, dnsName, notBefore, notAfter, authority?.certificatePath, authority?.keyPath,
      identity.keyPath, identity.certificatePath, &error, error.count)
    guard status == 0 else {
      throw .openSSL(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
  }
}

/// Where a certificate and its key were written.
public struct IssuedIdentity: Sendable, Equatable {
  public var certificatePath: String
  public var keyPath: String
}

public enum PKIError: Error, Equatable, CustomStringConvertible {
  case exists(String)
  case invalidName(String)
  case io(String)
  case openSSL(String)

  public var description: String {
    switch self {
    case .exists(let text), .invalidName(let text), .io(let text), .openSSL(let text): return text
    }
  }
}

/// Card names as the API accepts them (RFC 1123 labels), so a name in a
/// certificate can always be registered.
enum ResourceNameCheck {
  static func isCardName(_ name: String) -> Bool {
    let bytes = Array(name.utf8)
    guard (1...63).contains(bytes.count), bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-")
    else { return false }
    return bytes.allSatisfy {
      ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z"))
        || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
        || $0 == UInt8(ascii: "-")
    }
  }
}
