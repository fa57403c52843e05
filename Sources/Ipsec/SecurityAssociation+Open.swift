import CardCrypto
import DataPlane
import Wire

extension SecurityAssociation {
  /// The smallest ESP packet: header, IV, a 4-byte aligned trailer (at
  /// least pad length and next header, padded to 4) and the ICV.
  static let minimumPacketLength = espHeaderAndIV + 4 + CipherSuite.icvByteCount

  /// Per packet. Opens an ESP frame addressed to this SA (the data path
  /// finds the SA by SPI first; this entry point is for one known SA).
  public func open(_ buffer: inout PacketBuffer, now: UInt64) throws(IpsecDrop) {
    let layout: FrameLayout
    do throws(IpsecDrop) {
      layout = try FrameLayout.parse(buffer.storage + buffer.dataOffset, length: buffer.length)
      guard layout.nextProtocol == IPProtocol.esp.rawValue, !layout.needsHeaderWalk else {
        throw .unsupportedPacket
      }
      guard layout.payloadLength >= ESPPacket.Field.headerLength else { throw .truncated }
      let spi = (buffer.storage + buffer.dataOffset + layout.payloadOffset).bigEndian32(at: 0)
      guard spi == parameters.spi else { throw .unknownSPI }
    } catch {
      counters.count(error)
      throw error
    }
    try open(&buffer, layout: layout, now: now)
  }

  /// Per packet. Verifies and decrypts the ESP packet in `buffer` in place
  /// (RFC 4303 §3.4) and leaves the inner frame: tunnel mode, Ethernet +
  /// inner IP packet; transport mode, Ethernet + IP header + payload.
  /// `layout` is the frame's outer IP layout, already checked to carry ESP
  /// for this SA's SPI. On a thrown reason the packet must be dropped; the
  /// reason is counted.
  func open(_ buffer: inout PacketBuffer, layout: FrameLayout, now: UInt64) throws(IpsecDrop) {
    do throws(IpsecDrop) {
      try openCounted(&buffer, layout: layout, now: now)
    } catch {
      counters.count(error)
      throw error
    }
  }

  private func openCounted(_ buffer: inout PacketBuffer, layout: FrameLayout, now: UInt64) throws(IpsecDrop) {
    refreshLifetime(now: now)
    guard lifetimeState != .expired else { throw .expired }
    let espLength = layout.payloadLength
    // §2.4: the ciphertext ends on a 4-byte boundary.
    guard espLength >= Self.minimumPacketLength, (espLength - Self.espHeaderAndIV) % 4 == 0 else {
      throw .truncated
    }
    let frame = buffer.storage + buffer.dataOffset
    let esp = frame + layout.payloadOffset
    let sequence: UInt64
    do throws(ReplayWindow.Refusal) {
      sequence = try replayWindow.check(low: esp.bigEndian32(at: 4))
    } catch {
      throw error == .replayed ? .replayed : .outsideWindow
    }

    let text = esp + Self.espHeaderAndIV
    let textLength = espLength - Self.espHeaderAndIV - CipherSuite.icvByteCount
    let nonce = scratch + Self.nonceOffset
    nonce.setBigEndian64(esp.bigEndian64(at: ESPPacket.Field.headerLength), at: 4)
    do throws(CryptoError) {
      try cipher.open(
        nonce: UnsafeRawBufferPointer(start: nonce, count: AESGCM.nonceByteCount),
        aad: additionalData(esp: esp, sequence: sequence),
        inPlace: UnsafeMutableRawBufferPointer(start: text, count: textLength),
        tag: UnsafeRawBufferPointer(start: text + textLength, count: CipherSuite.icvByteCount))
    } catch {
      throw .authenticationFailed
    }
    // §3.4.3: the window moves only for authenticated packets.
    replayWindow.accept(sequence)

    // §2.4: the receiver checks the default padding 1, 2, 3, ...
    let padLength = Int(text.byte(at: textLength - 2))
    let nextHeader = text.byte(at: textLength - 1)
    guard padLength + 2 <= textLength else { throw .badPadding }
    let innerLength = textLength - 2 - padLength
    for i in 0..<padLength where text.byte(at: innerLength + i) != UInt8(truncatingIfNeeded: i + 1) {
      throw .badPadding
    }
    // §2.6: dummy packets are discarded.
    guard nextHeader != IPProtocol.noNextHeader.rawValue else { throw .dummyPacket }

    switch parameters.mode {
    case .tunnel:
      try checkInnerPacket(at: text, length: innerLength, nextHeader: nextHeader)
      // Sound: the Ethernet header moves forward inside the frame, to just
      // before the inner packet (text - 14 >= frame, as the outer IP and
      // ESP headers in between are longer than 14 bytes).
      let start = text - FrameLayout.ethernetLength
      start.copyMemory(from: frame, byteCount: FrameLayout.ethernetLength)
      let etherType = nextHeader == IPProtocol.ipv6.rawValue ? EtherType.ipv6 : EtherType.ipv4
      start.setBigEndian16(etherType.rawValue, at: FrameLayout.etherTypeOffset)
      _ = buffer.removeFront(start - frame)
      _ = buffer.setLength(FrameLayout.ethernetLength + innerLength)
    case .transport:
      // Sound: the Ethernet and IP headers move 16 bytes towards the
      // payload, over the ESP header and IV, inside the frame.
      let headers = layout.payloadOffset
      let start = frame + Self.espHeaderAndIV
      start.copyMemory(from: frame, byteCount: headers)
      let ip = start + layout.ipOffset
      if layout.isIPv6 {
        ip.setBigEndian16(UInt16(innerLength), at: 4)
        ip.setByte(nextHeader, at: 6)
      } else {
        ip.setBigEndian16(UInt16(layout.ipHeaderLength + innerLength), at: 2)
        ip.setByte(nextHeader, at: 9)
        FrameLayout.fillIPv4Checksum(ip, headerLength: layout.ipHeaderLength)
      }
      _ = buffer.removeFront(Self.espHeaderAndIV)
      _ = buffer.setLength(headers + innerLength)
    }
    counters.countPacket(bytes: innerLength)
    refreshLifetime(now: now)
  }

  /// Tunnel mode: the decrypted packet is IPv4 or IPv6 as next header says,
  /// and its addresses are inside the SA's selector (RFC 4301 §5.2).
  private func checkInnerPacket(at inner: UnsafeMutableRawPointer, length: Int, nextHeader: UInt8)
    throws(IpsecDrop)
  {
    let isIPv6: Bool
    switch nextHeader {
    case IPProtocol.ipv4.rawValue:
      guard length >= FrameLayout.ipv4MinimumHeader, inner.byte(at: 0) >> 4 == 4 else {
        throw .selectorMismatch
      }
      isIPv6 = false
    case IPProtocol.ipv6.rawValue:
      guard length >= FrameLayout.ipv6Header, inner.byte(at: 0) >> 4 == 6 else { throw .selectorMismatch }
      isIPv6 = true
    default:
      throw .selectorMismatch
    }
    guard let selector = parameters.innerSelector else { return }
    let source = inner + (isIPv6 ? 8 : 12)
    let destination = inner + (isIPv6 ? 24 : 16)
    guard selector.matches(source: source, destination: destination, isIPv6: isIPv6, outbound: false) else {
      throw .selectorMismatch
    }
  }
}
