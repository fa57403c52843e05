import Wire

// One check per format. Expected bytes were recorded from the host build.

func ipv4UDPCheck() -> Bool {
  let expected: [UInt8] = [
    0x02, 0x00, 0x00, 0x00, 0x00, 0x0b, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x08, 0x00, 0x45, 0x00,
    0x00, 0x20, 0x00, 0x07, 0x40, 0x00, 0x40, 0x11, 0x26, 0xc4, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00,
    0x00, 0x02, 0x13, 0x88, 0x00, 0x35, 0x00, 0x0c, 0xd4, 0x10, 0x01, 0x02, 0x03, 0x04,
  ]
  let ok = built(14 + 20 + 8 + 4, equals: expected) { b in
    EthernetHeader(destination: macB, source: macA, etherType: .ipv4).emit(into: b)
    IPv4Header(
      source: v4A, destination: v4B, protocol: .udp, payloadLength: 12, timeToLive: 64, identification: 7,
      dontFragment: true
    )
    .emit(into: region(b, from: 14))
    UDPHeader(sourcePort: 5000, destinationPort: 53, payloadLength: 4).emit(into: region(b, from: 34))
    b[42] = 1
    b[43] = 2
    b[44] = 3
    b[45] = 4
    let ip = IPv4Packet(unchecked: region(b, from: 14))
    UDPDatagram(unchecked: ip.payload).fillChecksum(pseudoHeaderSum: ip.pseudoHeaderSum)
  }
  return ok
    && parsing(expected) { b throws(WireError) in
      let p = try PacketParser.parse(UnsafeRawBufferPointer(b))
      let ip = try IPv4Packet(checking: try EthernetFrame(checking: b).payload)
      let udp = try UDPDatagram(checking: ip.payload)
      ip.decrementTimeToLive()
      return p.outer.source == .v4(v4A) && p.outer.destinationPort == 53 && ip.timeToLive == 63
        && ip.isChecksumValid
        && udp.isChecksumValid(pseudoHeaderSum: ip.pseudoHeaderSum) && ip.dontFragment && !ip.isFragment
    }
}

func arpCheck() -> Bool {
  let expected: [UInt8] = [
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x0a, 0x00,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x02,
  ]
  let header = ARPHeader(
    operation: .request, senderHardwareAddress: macA, senderProtocolAddress: v4A,
    targetHardwareAddress: .zero, targetProtocolAddress: v4B)
  let ok = built(28, equals: expected) { header.emit(into: $0) }
  return ok && parsing(expected) { b throws(WireError) in ARPHeader(try ARPPacket(checking: b)) == header }
}

func ipv6TCPCheck() -> Bool {
  let expected: [UInt8] = [
    0x60, 0x00, 0x00, 0x00, 0x00, 0x28, 0x06, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0b, 0x80, 0xe8, 0x01, 0xbb, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0, 0x6e, 0xed, 0x00, 0x00, 0x02, 0x04, 0x05, 0xa0,
    0x04, 0x02, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
  ]
  let tcp = TCPHeader(
    sourcePort: 33000, destinationPort: 443, sequenceNumber: 1, flags: .syn, window: 64240,
    maximumSegmentSize: 1440,
    windowScale: 7, sackPermitted: true, timestamps: TCPTimestamps(value: 11, echoReply: 0))
  let ok = built(40 + tcp.headerLength, equals: expected) { b in
    IPv6Header(source: v6A, destination: v6B, nextHeader: .tcp, payloadLength: tcp.headerLength).emit(into: b)
    tcp.emit(into: region(b, from: 40))
    let ip = IPv6Packet(unchecked: b)
    TCPSegment(unchecked: ip.payload).fillChecksum(
      pseudoHeaderSum: ip.pseudoHeaderSum(protocol: .tcp, length: ip.payloadLength))
  }
  return ok
    && parsing(expected) { b throws(WireError) in
      let ip = try IPv6Packet(checking: b)
      let segment = try TCPSegment(checking: ip.payload)
      let parsed = try TCPHeader(segment)
      return parsed == tcp
        && segment.isChecksumValid(
          pseudoHeaderSum: ip.pseudoHeaderSum(protocol: .tcp, length: ip.payloadLength))
    }
}

func ipv6ExtensionCheck() -> Bool {
  let expected: [UInt8] = [
    0x60, 0x00, 0x00, 0x00, 0x00, 0x18, 0x00, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0b, 0x2c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
    0x11, 0x00, 0x00, 0x01, 0x00, 0x00, 0xfe, 0xed, 0x00, 0x01, 0x00, 0x02, 0x00, 0x08, 0x00, 0x00,
  ]
  let ok = built(40 + 8 + 8 + 8, equals: expected) { b in
    IPv6Header(source: v6A, destination: v6B, nextHeader: .hopByHop, payloadLength: 24).emit(into: b)
    IPv6OptionsHeader(nextHeader: .fragment).emit(into: region(b, from: 40))
    IPv6FragmentHeader(nextHeader: .udp, fragmentByteOffset: 0, moreFragments: true, identification: 0xfeed)
      .emit(into: region(b, from: 48))
    UDPHeader(sourcePort: 1, destinationPort: 2, payloadLength: 0).emit(into: region(b, from: 56))
  }
  return ok
    && parsing(expected) { b throws(WireError) in
      let upper = try IPv6Packet(checking: b).upperLayer()
      return upper.protocol == .udp && upper.offset == 16 && upper.isFragment
        && upper.fragmentIdentification == 0xfeed
    }
}

func icmpv4Check() -> Bool {
  let expected: [UInt8] = [
    0x03, 0x04, 0xf1, 0xc0, 0x00, 0x00, 0x05, 0x78, 0x45, 0x00, 0x05, 0xd4, 0x00, 0x00, 0x40, 0x00,
    0x40, 0x11, 0x21, 0x17, 0x0a, 0x00, 0x00, 0x02, 0x0a, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x02,
    0x05, 0xc0, 0x00, 0x00,
  ]
  let ok = built(8 + 28, equals: expected) { b in
    IPv4Header(source: v4B, destination: v4A, protocol: .udp, payloadLength: 1472, dontFragment: true).emit(
      into: region(b, from: 8))
    UDPHeader(sourcePort: 1, destinationPort: 2, payloadLength: 1464).emit(into: region(b, from: 28))
    ICMPv4Header.fragmentationNeeded(nextHopMTU: 1400).emit(into: b)
  }
  return ok
    && parsing(expected) { b throws(WireError) in
      let m = try ICMPv4Message(checking: b)
      let quoted = try m.invokingPacketHeader()
      return m.isChecksumValid && m.nextHopMTU == 1400 && quoted.destination == v4A
        && quoted.totalLength == 1492
    }
}

func icmpv6Check() -> Bool {
  let expected: [UInt8] = [
    0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01, 0xff, 0x00, 0x00, 0x0b, 0x87, 0x00, 0x1c, 0x03, 0x00, 0x00, 0x00, 0x00,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0b,
    0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,
  ]
  let ok = built(40 + 24 + 8, equals: expected) { b in
    IPv6Header(
      source: v6A, destination: v6B.solicitedNodeMulticast, nextHeader: .icmpv6, payloadLength: 32,
      hopLimit: 255
    ).emit(into: b)
    ICMPv6Header.neighborSolicitation(target: v6B).emit(into: region(b, from: 40))
    NDPLinkLayerAddressOption(type: NDPOptions.OptionType.sourceLinkLayerAddress, address: macA).emit(
      into: region(b, from: 64))
    let ip = IPv6Packet(unchecked: b)
    ICMPv6Message(unchecked: ip.payload).fillChecksum(
      pseudoHeaderSum: ip.pseudoHeaderSum(protocol: .icmpv6, length: 32))
  }
  return ok
    && parsing(expected) { b throws(WireError) in
      let ip = try IPv6Packet(checking: b)
      let m = try ICMPv6Message(checking: ip.payload)
      let lla = try m.options.linkLayerAddress(ofType: NDPOptions.OptionType.sourceLinkLayerAddress)
      return m.targetAddress == v6B && lla == macA
        && m.isChecksumValid(pseudoHeaderSum: ip.pseudoHeaderSum(protocol: .icmpv6, length: 32))
    }
}
