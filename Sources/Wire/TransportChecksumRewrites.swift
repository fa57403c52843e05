// Address and port rewrites (NAT, load balancing) that patch the UDP or TCP
// checksum in place instead of summing the datagram again (RFC 1624
// eqn. 3; RFC 3022 §4.2 for why the pseudo-header addresses matter).
// All per packet.

extension UDPDatagram {
  /// RFC 768: zero means "no checksum" over IPv4 and must stay zero; a
  /// patched value that comes out as zero is sent as all ones.
  @inlinable @inline(__always)
  var hasChecksum: Bool { checksum != 0 }

  @inlinable @inline(__always)
  func storePatchedChecksum(_ value: UInt16) {
    checksum = value == 0 ? 0xffff : value
  }

  @inlinable
  public func replaceSourcePort(with port: UInt16) {
    if hasChecksum {
      storePatchedChecksum(InternetChecksum.update(checksum, replacing: sourcePort, with: port))
    }
    sourcePort = port
  }

  @inlinable
  public func replaceDestinationPort(with port: UInt16) {
    if hasChecksum {
      storePatchedChecksum(InternetChecksum.update(checksum, replacing: destinationPort, with: port))
    }
    destinationPort = port
  }

  /// Patches the checksum for a change of an address in the pseudo-header;
  /// the IP header itself is rewritten by the caller.
  @inlinable
  public func adjustChecksum(replacing old: IPv4Address, with new: IPv4Address) {
    if hasChecksum {
      storePatchedChecksum(InternetChecksum.update(checksum, replacing: old.rawValue, with: new.rawValue))
    }
  }

  @inlinable
  public func adjustChecksum(replacing old: IPv6Address, with new: IPv6Address) {
    if hasChecksum { storePatchedChecksum(InternetChecksum.update(checksum, replacing: old, with: new)) }
  }
}

extension TCPSegment {
  @inlinable
  public func replaceSourcePort(with port: UInt16) {
    checksum = InternetChecksum.update(checksum, replacing: sourcePort, with: port)
    sourcePort = port
  }

  @inlinable
  public func replaceDestinationPort(with port: UInt16) {
    checksum = InternetChecksum.update(checksum, replacing: destinationPort, with: port)
    destinationPort = port
  }

  /// Patches the checksum for a change of an address in the pseudo-header.
  @inlinable
  public func adjustChecksum(replacing old: IPv4Address, with new: IPv4Address) {
    checksum = InternetChecksum.update(checksum, replacing: old.rawValue, with: new.rawValue)
  }

  @inlinable
  public func adjustChecksum(replacing old: IPv6Address, with new: IPv6Address) {
    checksum = InternetChecksum.update(checksum, replacing: old, with: new)
  }
}
