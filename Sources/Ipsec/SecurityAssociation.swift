import CardCrypto
import Wire

/// One ESP SA (RFC 4303) with its AES-GCM context (RFC 4106), sequence
/// counter or replay window, lifetime and counters. A class: an SA has
/// identity (the SAD and policies point at it) and a lifetime. One core
/// owns its data path; the per-packet methods are in `SecurityAssociation+Seal`
/// and `SecurityAssociation+Open`.
public final class SecurityAssociation {
  public let parameters: SecurityAssociationParameters
  var cipher: AESGCM
  /// RFC 4106 §4: the nonce's first 4 bytes, from the key material.
  let salt: UInt32
  /// Per-SA scratch allocated once: the nonce, the ESN AAD and the outer
  /// header template (tunnel mode), so that no packet allocates.
  let scratch: UnsafeMutableRawPointer
  static let nonceOffset = 0
  static let aadOffset = 16
  static let templateOffset = 32
  static let scratchByteCount = 96

  /// Outbound: the last sequence number sent (the next is one more). It is
  /// also the explicit IV (RFC 4106 §3.1: unique per key; a counter is
  /// what §3.1 suggests), so IVs repeat only if sequence numbers do, and
  /// those never do (§3.3.3).
  public private(set) var lastSequenceNumber: UInt64 = 0
  /// Inbound only.
  public var replayWindow: ReplayWindow
  public var counters = SecurityAssociationCounters()
  public private(set) var lifetimeState: LifetimeState = .fresh
  /// Seconds (the caller's monotonic clock) when the SA was installed.
  public let installedAt: UInt64

  /// Bytes in front of the payload: outer IP header (tunnel), ESP header, IV.
  public let headerOverhead: Int
  let outerHeaderLength: Int
  let outerIsIPv6: Bool

  /// `keyMaterial` is the AES key followed by the 4-byte salt (RFC 4106
  /// §8.1, what IKEv2's KEYMAT gives); it may be released after this returns.
  public init(
    _ parameters: SecurityAssociationParameters, keyMaterial: borrowing SymmetricKey, installedAt: UInt64
  ) throws(SecurityAssociationError) {
    try parameters.validate()
    let expected = parameters.suite.keyMaterialByteCount
    guard keyMaterial.byteCount == expected else {
      throw .keyMaterialLength(expected: expected, got: keyMaterial.byteCount)
    }
    let keyBytes = parameters.suite.keyByteCount
    do throws(CryptoError) {
      let key = try keyMaterial.withUnsafeBytes { (bytes) throws(CryptoError) -> SymmetricKey in
        try SymmetricKey(copying: UnsafeRawBufferPointer(rebasing: bytes[0..<keyBytes]))
      }
      cipher = try AESGCM(key: key)
    } catch {
      throw .crypto(.init(text: error.description))
    }
    salt = keyMaterial.withUnsafeBytes { bytes in
      UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: keyBytes, as: UInt32.self))
    }
    self.parameters = parameters
    self.installedAt = installedAt
    replayWindow = ReplayWindow(
      size: parameters.replayWindowSize, extendedSequenceNumbers: parameters.extendedSequenceNumbers)
    scratch = UnsafeMutableRawPointer.allocate(byteCount: Self.scratchByteCount, alignment: 16)
    scratch.initializeMemory(as: UInt8.self, repeating: 0, count: Self.scratchByteCount)
    scratch.setBigEndian32(salt, at: Self.nonceOffset)
    scratch.setBigEndian32(parameters.spi, at: Self.aadOffset)
    switch parameters.mode {
    case .transport:
      outerHeaderLength = 0
      outerIsIPv6 = false
    case .tunnel(let local, let remote):
      (outerHeaderLength, outerIsIPv6) = Self.writeTemplate(
        into: scratch + Self.templateOffset, local: local, remote: remote, hopLimit: parameters.outerHopLimit)
    }
    headerOverhead = outerHeaderLength + ESPPacket.Field.headerLength + CipherSuite.ivByteCount
  }

  deinit {
    SymmetricKey.cleanse(UnsafeMutableRawBufferPointer(start: scratch, count: Self.scratchByteCount))
    scratch.deallocate()
  }

  public var spi: UInt32 { parameters.spi }

  /// The fixed fields of the tunnel's outer header (RFC 791 / RFC 8200 §3);
  /// length, TOS/traffic class, identification and checksum are set per packet.
  private static func writeTemplate(
    into t: UnsafeMutableRawPointer, local: IPAddress, remote: IPAddress, hopLimit: UInt8
  ) -> (Int, Bool) {
    switch (local, remote) {
    case (.v4(let l), .v4(let r)):
      t.setByte(0x45, at: 0)
      t.setByte(hopLimit, at: 8)
      t.setByte(IPProtocol.esp.rawValue, at: 9)
      t.setBigEndian32(l.rawValue, at: 12)
      t.setBigEndian32(r.rawValue, at: 16)
      return (20, false)
    case (.v6(let l), .v6(let r)):
      t.setBigEndian32(6 << 28, at: 0)
      t.setByte(IPProtocol.esp.rawValue, at: 6)
      t.setByte(hopLimit, at: 7)
      l.store(to: t + 8)
      r.store(to: t + 24)
      return (40, true)
    default:
      preconditionFailure("validate() refuses mixed families")
    }
  }

  /// Brings the lifetime state up to date for `now`; per packet (a few
  /// compares). The sequence space running out is a hard limit too.
  func refreshLifetime(now: UInt64) {
    guard lifetimeState != .expired else { return }
    let limits = parameters.lifetime
    let age = now >= installedAt ? now - installedAt : 0
    let bytes = counters.bytes
    if (limits.hardBytes != 0 && bytes >= limits.hardBytes)
      || (limits.hardSeconds != 0 && age >= limits.hardSeconds)
    {
      lifetimeState = .expired
    } else if lifetimeState == .fresh
      && ((limits.softBytes != 0 && bytes >= limits.softBytes)
        || (limits.softSeconds != 0 && age >= limits.softSeconds))
    {
      lifetimeState = .rekeyWanted
    }
  }

  /// Ends the SA now (the control plane deletes it, or a successor took over).
  public func expire() { lifetimeState = .expired }

  /// The next sequence number for sealing, or nil when the space is used
  /// up (§3.3.3: the SA must be rekeyed, never cycled). Advances the counter.
  func takeSequenceNumber() -> UInt64? {
    let limit: UInt64 = parameters.extendedSequenceNumbers ? UInt64.max : UInt64(UInt32.max)
    guard lastSequenceNumber < limit else {
      lifetimeState = .expired
      return nil
    }
    lastSequenceNumber += 1
    return lastSequenceNumber
  }

  /// Test hook: start the outbound counter elsewhere (ESN wrap tests).
  public func setLastSequenceNumberForTesting(_ value: UInt64) { lastSequenceNumber = value }
}
