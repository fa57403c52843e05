/// What ESP costs in bytes, so that the pipeline can lower the MTU it
/// enforces and the MTU a guest is told (RFC 4301 §8: PMTU with IPsec).
extension SecurityAssociationParameters {
  /// Outer header bytes tunnel mode adds (transport mode: none).
  public var outerHeaderLength: Int {
    switch mode {
    case .transport: return 0
    case .tunnel(let local, _):
      if case .v6 = local { return 40 }
      return 20
    }
  }

  /// The most bytes sealing can add to a packet: outer header (tunnel), ESP
  /// header, IV, up to 3 bytes of padding, pad length, next header, ICV.
  public var maximumOverhead: Int {
    outerHeaderLength + SecurityAssociation.espHeaderAndIV + 3 + 2 + CipherSuite.icvByteCount
  }

  /// The largest IP packet (as the pipeline hands it to `seal`) that still
  /// fits `outerMTU` once sealed. `ipHeaderLength` is that packet's header
  /// in transport mode (20 for IPv4 without options, 40 for IPv6).
  public func largestPlainPacket(ipHeaderLength: Int = 20) -> Int {
    let outer = outerHeaderLength == 0 ? ipHeaderLength : outerHeaderLength
    let room = outerMTU - outer - SecurityAssociation.espHeaderAndIV - CipherSuite.icvByteCount
    // §2.4: protected bytes + padding + 2 is a multiple of 4.
    let protectedBytes = room / 4 * 4 - 2
    return outerHeaderLength == 0 ? ipHeaderLength + protectedBytes : protectedBytes
  }

  /// The MTU to give a guest whose packets the pipeline first wraps with
  /// `encapsulationOverhead` bytes of IP headers (Geneve/VXLAN with outer
  /// IP and UDP between cards; 0 when the guest's packet itself is sealed).
  public func guestMTU(encapsulationOverhead: Int, ipHeaderLength: Int = 20) -> Int {
    largestPlainPacket(ipHeaderLength: ipHeaderLength) - encapsulationOverhead
  }
}
