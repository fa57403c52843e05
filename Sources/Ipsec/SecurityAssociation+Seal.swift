import CardCrypto
import DataPlane
import Wire

extension SecurityAssociation {
  /// ESP header (SPI, sequence number) and the explicit IV.
  static let espHeaderAndIV = ESPPacket.Field.headerLength + CipherSuite.ivByteCount

  /// Per packet. Protects the Ethernet frame in `buffer` in place
  /// (RFC 4303 §3.3): tunnel mode wraps the whole IP packet after a new
  /// outer header; transport mode inserts ESP after the IP header. Only
  /// the headers in front move (into the headroom); the payload is
  /// encrypted where it lies and the trailer and ICV go into the tailroom.
  /// On a thrown reason the buffer is unchanged and the reason counted.
  public func seal(_ buffer: inout PacketBuffer, now: UInt64) throws(IpsecDrop) {
    do throws(IpsecDrop) {
      try sealCounted(&buffer, now: now)
    } catch {
      counters.count(error)
      throw error
    }
  }

  private func sealCounted(_ buffer: inout PacketBuffer, now: UInt64) throws(IpsecDrop) {
    refreshLifetime(now: now)
    guard lifetimeState != .expired else { throw .expired }
    let frame = buffer.storage + buffer.dataOffset
    let layout = try FrameLayout.parse(frame, length: buffer.length)
    let ip = frame + layout.ipOffset

    // What is encrypted, what follows ESP, and which header bytes move.
    let protectedStart: Int
    let protectedLength: Int
    let nextHeader: UInt8
    let movedHeaders: Int
    switch parameters.mode {
    case .transport:
      // RFC 4303 §3.3.4: ESP applies to whole packets; extension headers
      // would have to stay in front of ESP (§3.1.1), which we do not walk.
      guard !layout.needsHeaderWalk else { throw .unsupportedPacket }
      protectedStart = layout.payloadOffset
      protectedLength = layout.payloadLength
      nextHeader = layout.nextProtocol
      movedHeaders = layout.payloadOffset
    case .tunnel:
      protectedStart = layout.ipOffset
      protectedLength = layout.ipHeaderLength + layout.payloadLength
      nextHeader = layout.isIPv6 ? IPProtocol.ipv6.rawValue : IPProtocol.ipv4.rawValue
      movedHeaders = FrameLayout.ethernetLength
    }

    // RFC 4303 §2.4: payload, padding, pad length and next header end on a
    // 4-byte boundary (AES-GCM needs no more, RFC 4106 §3).
    let padLength = (4 - (protectedLength + 2) % 4) % 4
    let textLength = protectedLength + padLength + 2
    let inserted = headerOverhead
    let outerIPLength =
      (outerHeaderLength == 0 ? layout.ipHeaderLength : outerHeaderLength) + Self.espHeaderAndIV + textLength
      + CipherSuite.icvByteCount
    guard outerIPLength <= parameters.outerMTU else { throw .exceedsPathMTU }
    guard buffer.headroom >= inserted,
      buffer.dataOffset + protectedStart + textLength + CipherSuite.icvByteCount <= buffer.capacity
    else { throw .noBufferRoom }
    guard let sequence = takeSequenceNumber() else { throw .sequenceExhausted }

    // Sound: `inserted` bytes of headroom were checked above; the moved
    // headers lie inside the frame. copyMemory allows overlapping regions.
    let start = frame - inserted
    start.copyMemory(from: frame, byteCount: movedHeaders)
    let esp = start + movedHeaders + outerHeaderLength
    let text = esp + Self.espHeaderAndIV
    if outerHeaderLength > 0 {
      writeOuterHeader(at: start + movedHeaders, inner: ip, innerIsIPv6: layout.isIPv6, length: outerIPLength)
      start.setBigEndian16(
        outerIsIPv6 ? EtherType.ipv6.rawValue : EtherType.ipv4.rawValue, at: FrameLayout.etherTypeOffset)
    } else {
      let movedIP = start + layout.ipOffset
      if layout.isIPv6 {
        movedIP.setBigEndian16(UInt16(outerIPLength - FrameLayout.ipv6Header), at: 4)
        movedIP.setByte(IPProtocol.esp.rawValue, at: 6)
      } else {
        movedIP.setBigEndian16(UInt16(outerIPLength), at: 2)
        movedIP.setByte(IPProtocol.esp.rawValue, at: 9)
        FrameLayout.fillIPv4Checksum(movedIP, headerLength: layout.ipHeaderLength)
      }
    }

    // RFC 4303 §2.1-2.3, RFC 4106 §3.1: SPI, low 32 bits of the sequence
    // number, then the sequence number again as the 8-byte explicit IV.
    esp.setBigEndian32(parameters.spi, at: 0)
    esp.setBigEndian32(UInt32(truncatingIfNeeded: sequence), at: 4)
    esp.setBigEndian64(sequence, at: 8)
    // §2.4-2.6: padding 1, 2, 3, ..., its length, next header.
    let trailer = text + protectedLength
    for i in 0..<padLength { trailer.setByte(UInt8(i + 1), at: i) }
    trailer.setByte(UInt8(padLength), at: padLength)
    trailer.setByte(nextHeader, at: padLength + 1)

    let nonce = scratch + Self.nonceOffset
    nonce.setBigEndian64(sequence, at: 4)
    do throws(CryptoError) {
      try cipher.seal(
        nonce: UnsafeRawBufferPointer(start: nonce, count: AESGCM.nonceByteCount),
        aad: additionalData(esp: esp, sequence: sequence),
        inPlace: UnsafeMutableRawBufferPointer(start: text, count: textLength),
        tag: UnsafeMutableRawBufferPointer(start: text + textLength, count: CipherSuite.icvByteCount))
    } catch {
      // Only a broken OpenSSL gets here (sizes were checked); the frame is
      // already rewritten, so the caller must drop it.
      throw .cryptoFailure
    }
    _ = buffer.prepend(inserted)
    _ = buffer.setLength(
      movedHeaders + outerHeaderLength + Self.espHeaderAndIV + textLength + CipherSuite.icvByteCount)
    counters.countPacket(bytes: protectedLength)
  }

  /// RFC 4106 §5: the AAD is SPI || sequence number, 32-bit, or with ESN
  /// SPI || high 32 || low 32 (the high half never goes on the wire,
  /// RFC 4303 §2.2.1). Without ESN it is the ESP header as sent.
  func additionalData(esp: UnsafeMutableRawPointer, sequence: UInt64) -> UnsafeRawBufferPointer {
    guard parameters.extendedSequenceNumbers else {
      return UnsafeRawBufferPointer(start: esp, count: ESPPacket.Field.headerLength)
    }
    let aad = scratch + Self.aadOffset
    aad.setBigEndian64(sequence, at: 4)
    return UnsafeRawBufferPointer(start: aad, count: 12)
  }

  /// Tunnel mode's outer header from the template: RFC 4301 §5.1.2.1 copies
  /// DSCP, RFC 6040 §4.1 (normal mode) copies ECN, and DF is copied from an
  /// IPv4 inner header (RFC 4301 §8.1).
  private func writeOuterHeader(
    at outer: UnsafeMutableRawPointer, inner: UnsafeMutableRawPointer, innerIsIPv6: Bool, length: Int
  ) {
    outer.copyMemory(from: scratch + Self.templateOffset, byteCount: outerHeaderLength)
    let trafficClass =
      innerIsIPv6 ? UInt8(truncatingIfNeeded: inner.bigEndian32(at: 0) >> 20) : inner.byte(at: 1)
    if outerIsIPv6 {
      outer.setBigEndian32(6 << 28 | UInt32(trafficClass) << 20, at: 0)
      outer.setBigEndian16(UInt16(length - FrameLayout.ipv6Header), at: 4)
    } else {
      outer.setByte(trafficClass, at: 1)
      outer.setBigEndian16(UInt16(length), at: 2)
      outer.setBigEndian16(UInt16(truncatingIfNeeded: lastSequenceNumber), at: 4)
      let dontFragment: UInt16 = !innerIsIPv6 && inner.bigEndian16(at: 6) & 0x4000 != 0 ? 0x4000 : 0
      outer.setBigEndian16(dontFragment, at: 6)
      FrameLayout.fillIPv4Checksum(outer, headerLength: FrameLayout.ipv4MinimumHeader)
    }
  }
}
