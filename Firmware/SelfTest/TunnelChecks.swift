import Wire

// Tunnels, IPsec and TLS framing. Expected bytes were recorded from the
// host build.

/// Ethernet/IPv4/UDP/VXLAN around an inner Ethernet/IPv4/UDP.
func vxlanCheck() -> Bool {
  let expected: [UInt8] = [
    0x02, 0x00, 0x00, 0x00, 0x00, 0x0b, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x08, 0x00, 0x45, 0x00,
    0x00, 0x4e, 0x00, 0x00, 0x00, 0x00, 0x40, 0x11, 0x66, 0x9d, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00,
    0x00, 0x02, 0xc0, 0x00, 0x12, 0xb5, 0x00, 0x3a, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x12, 0x34,
    0x56, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0b, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x00, 0x00, 0x40, 0x11, 0xf9, 0x7d, 0xc0, 0xa8, 0x00, 0x01,
    0xc0, 0xa8, 0x00, 0x02, 0x00, 0x07, 0x00, 0x08, 0x00, 0x08, 0x00, 0x00,
  ]
  let innerLength = 14 + 20 + 8
  let ok = built(14 + 20 + 8 + 8 + innerLength, equals: expected) { b in
    EthernetHeader(destination: macB, source: macA, etherType: .ipv4).emit(into: b)
    IPv4Header(source: v4A, destination: v4B, protocol: .udp, payloadLength: 16 + innerLength).emit(
      into: region(b, from: 14))
    UDPHeader(sourcePort: 49152, destinationPort: VXLANPacket.udpPort, payloadLength: 8 + innerLength).emit(
      into: region(b, from: 34))
    VXLANHeader(vni: 0x123456).emit(into: region(b, from: 42))
    EthernetHeader(destination: macA, source: macB, etherType: .ipv4).emit(into: region(b, from: 50))
    IPv4Header(
      source: IPv4Address(192, 168, 0, 1), destination: IPv4Address(192, 168, 0, 2), protocol: .udp,
      payloadLength: 8
    )
    .emit(into: region(b, from: 64))
    UDPHeader(sourcePort: 7, destinationPort: 8, payloadLength: 0).emit(into: region(b, from: 84))
  }
  return ok
    && parsing(expected) { b throws(WireError) in
      let p = try PacketParser.parse(UnsafeRawBufferPointer(b))
      return p.tunnel == .vxlan && p.vni == 0x123456 && p.hasInnerFrame && p.inner.destinationPort == 8
        && p.inner.source == .v4(IPv4Address(192, 168, 0, 1))
    }
}

func geneveCheck() -> Bool {
  let expected: [UInt8] = [
    0x02, 0x40, 0x65, 0x58, 0xab, 0xcd, 0xef, 0x00, 0x01, 0x02, 0x80, 0x01, 0x09, 0x00, 0x00, 0x00,
  ]
  let option = GeneveOptionHeader(optionClass: 0x0102, type: 0x80, dataLength: 4)
  let ok = built(8 + option.length, equals: expected) { b in
    GeneveHeader(vni: 0xabcdef, optionsLength: option.length, hasCriticalOptions: true).emit(into: b)
    option.emit(into: region(b, from: 8))
    b[12] = 9
  }
  return ok
    && parsing(expected) { b throws(WireError) in
      let g = try GenevePacket(checking: b)
      var options = g.options
      guard let first = try options.next() else { return false }
      let second = try options.next()
      return g.vni == 0xabcdef && g.hasCriticalOptions && first.optionClass == 0x0102 && first.isCritical
        && first.data.count == 4 && first.data[0] == 9 && second == nil
    }
}

func espCheck() -> Bool {
  let expected: [UInt8] = [
    0x10, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x2a, 0xee, 0xee, 0xee, 0xee, 0xee, 0x01, 0x01, 0x04,
  ]
  let trailer = ESPTrailerBuilder(nextHeader: .ipv4, payloadLength: 5)
  let ok = built(8 + 5 + trailer.length, equals: expected) { b in
    ESPHeader(spi: 0x1000_0001, sequenceNumber: 42).emit(into: b)
    for i in 8..<13 { b[i] = 0xee }
    trailer.emit(into: region(b, from: 13))
  }
  return ok
    && parsing(expected) { b throws(WireError) in
      let esp = try ESPPacket(checking: b)
      let t = try ESPTrailer(checking: esp.payload)
      return esp.spi == 0x1000_0001 && esp.sequenceNumber == 42 && t.nextHeader == .ipv4
        && t.payload.count == 5
        && t.padLength == 1
    }
}

func tlsCheck() -> Bool {
  let expected: [UInt8] = [
    0x16, 0x03, 0x01, 0x02, 0x00,
  ]
  let ok = built(5, equals: expected) {
    TLSRecordHeader(contentType: .handshake, length: 512, legacyVersion: 0x0301).emit(into: $0)
  }
  let tooLong: [UInt8] = [23, 3, 3, 0x48, 0x01]
  var copy = tooLong
  let rejected = copy.withUnsafeMutableBytes { b -> Bool in
    do throws(WireError) {
      _ = try TLSRecord(checking: b)
      return false
    } catch { return error == .badLength }
  }
  return ok && rejected
    && parsing(expected) { b throws(WireError) in
      let r = try TLSRecord(checking: b)
      return r.contentType == .handshake && r.length == 512 && r.legacyVersion == 0x0301 && !r.isComplete
    }
}
