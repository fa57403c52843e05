import Testing
import Wire

@Suite struct ICMPTests {
  @Test func icmpv4EchoRoundTrip() throws {
    var p = PacketBytes()
    p.append(8 + 4) { _ in }
    p.bytes[8...] = [1, 2, 3, 4]
    p.edit(from: 0) { ICMPv4Header.echoRequest(identifier: 0x1234, sequenceNumber: 7).emit(into: $0) }
    try withMutableBytes(p.bytes) { b in
      let m = try ICMPv4Message(checking: b)
      #expect(m.isChecksumValid && m.isEcho && !m.isError)
      #expect(
        m.type == 8 && m.identifier == 0x1234 && m.sequenceNumber == 7 && Array(m.payload) == [1, 2, 3, 4])
      #expect(ICMPv4Header(m) == .echoRequest(identifier: 0x1234, sequenceNumber: 7))
    }
    #expect(
      prefixesAccepted(Array(p.bytes[0..<8])) { b throws(WireError) in _ = try ICMPv4Message(checking: b) }
        .isEmpty)
  }

  @Test func icmpv4FragmentationNeededQuotesTheOriginal() throws {
    let original = SampleFrames.ipv4UDP(destinationPort: 53, payload: [UInt8](repeating: 0, count: 100))
    var p = PacketBytes()
    p.append(8) { _ in }
    p.append(Array(original[0..<28]))
    p.edit(from: 0) { ICMPv4Header.fragmentationNeeded(nextHopMTU: 1400).emit(into: $0) }
    try withMutableBytes(p.bytes) { b in
      let m = try ICMPv4Message(checking: b)
      #expect(m.isChecksumValid && m.isError)
      #expect(m.type == 3 && m.code == 4 && m.nextHopMTU == 1400)
      let quoted = try m.invokingPacketHeader()
      #expect(
        quoted.source == SampleFrames.v4A && quoted.destination == SampleFrames.v4B && quoted.protocol == .udp
      )
      #expect(quoted.totalLength == 128)
      #expect(quoted.payload.count == 8)
    }
    // Quoting less than a header is an error, not a trap.
    for cut in 8..<(8 + 20) {
      let e = wireError(Array(p.bytes[0..<cut])) { b throws(WireError) in
        _ = try ICMPv4Message(checking: b).invokingPacketHeader()
      }
      #expect(e == .truncated)
    }
    let echo = wireError(Array(p.bytes[0..<8])) { b throws(WireError) in
      let m = try ICMPv4Message(checking: b)
      _ = m
    }
    #expect(echo == nil)
  }

  @Test func icmpv4TimeExceeded() throws {
    var p = PacketBytes()
    p.append(36) { _ in }
    p.edit(from: 8) { b in
      IPv4Header(source: SampleFrames.v4A, destination: SampleFrames.v4B, protocol: .tcp, payloadLength: 40)
        .emit(into: b)
    }
    p.edit(from: 0) { ICMPv4Header.timeExceeded().emit(into: $0) }
    try withMutableBytes(p.bytes) { b in
      let m = try ICMPv4Message(checking: b)
      #expect(m.type == 11 && m.code == 0 && m.isChecksumValid)
      let found1 = try m.invokingPacketHeader().protocol
      #expect(found1 == .tcp)
    }
  }

  static func icmpv6(_ header: ICMPv6Header, body: [UInt8] = []) -> [UInt8] {
    var p = PacketBytes()
    p.append(40) {
      IPv6Header(
        source: SampleFrames.v6A, destination: SampleFrames.v6B, nextHeader: .icmpv6,
        payloadLength: header.headerLength + body.count, hopLimit: 255
      )
      .emit(into: $0)
    }
    p.append(header.headerLength) { header.emit(into: $0) }
    p.append(body)
    p.edit(from: 0) { b in
      let ip = IPv6Packet(unchecked: b)
      ICMPv6Message(unchecked: ip.payload).fillChecksum(
        pseudoHeaderSum: ip.pseudoHeaderSum(protocol: .icmpv6, length: ip.payloadLength))
    }
    return p.bytes
  }

  static func parse(_ bytes: [UInt8], _ body: (ICMPv6Message, UInt32) throws -> Void) throws {
    try withMutableBytes(bytes) { b in
      let ip = try IPv6Packet(checking: b)
      try body(
        try ICMPv6Message(checking: ip.payload),
        ip.pseudoHeaderSum(protocol: .icmpv6, length: ip.payloadLength))
    }
  }

  @Test func icmpv6EchoAndPacketTooBig() throws {
    try Self.parse(Self.icmpv6(.echoReply(identifier: 9, sequenceNumber: 10), body: [5, 6])) { m, sum in
      #expect(m.isChecksumValid(pseudoHeaderSum: sum))
      #expect(m.type == 129 && m.identifier == 9 && m.sequenceNumber == 10 && Array(m.payload) == [5, 6])
      #expect(ICMPv6Header(m) == .echoReply(identifier: 9, sequenceNumber: 10))
    }
    let quoted = Array(SampleFrames.ipv6TCP(payload: [])[0..<48])
    try Self.parse(Self.icmpv6(.packetTooBig(mtu: 1280), body: quoted)) { m, sum in
      #expect(m.isChecksumValid(pseudoHeaderSum: sum) && m.isError)
      #expect(m.type == 2 && m.mtu == 1280 && Array(m.payload) == quoted)
    }
  }

  @Test func neighborDiscovery() throws {
    let target = SampleFrames.v6B
    let lla = buildBytes(count: 8) {
      NDPLinkLayerAddressOption(
        type: NDPOptions.OptionType.sourceLinkLayerAddress, address: SampleFrames.macA
      ).emit(into: $0)
    }
    try Self.parse(Self.icmpv6(.neighborSolicitation(target: target), body: lla)) { m, sum in
      #expect(m.isChecksumValid(pseudoHeaderSum: sum))
      #expect(m.type == 135 && m.targetAddress == target)
      let found2 = try m.options.linkLayerAddress(ofType: NDPOptions.OptionType.sourceLinkLayerAddress)
      #expect(found2 == SampleFrames.macA)
      let found3 = try m.options.linkLayerAddress(ofType: NDPOptions.OptionType.targetLinkLayerAddress)
      #expect(found3 == nil)
      #expect(ICMPv6Header(m) == .neighborSolicitation(target: target))
    }
    let flags = ICMPv6Message.NeighborFlag.solicited | ICMPv6Message.NeighborFlag.override
    let tlla = buildBytes(count: 8) {
      NDPLinkLayerAddressOption(
        type: NDPOptions.OptionType.targetLinkLayerAddress, address: SampleFrames.macB
      ).emit(into: $0)
    }
    try Self.parse(Self.icmpv6(.neighborAdvertisement(target: target, flags: flags), body: tlla)) { m, sum in
      #expect(m.isChecksumValid(pseudoHeaderSum: sum))
      #expect(m.type == 136 && m.neighborFlags == flags && m.targetAddress == target)
      let found4 = try m.options.linkLayerAddress(ofType: NDPOptions.OptionType.targetLinkLayerAddress)
      #expect(found4 == SampleFrames.macB)
    }
    try Self.parse(Self.icmpv6(.routerSolicitation(), body: lla)) { m, _ in
      #expect(m.type == 133)
      let found5 = try m.options.linkLayerAddress(ofType: NDPOptions.OptionType.sourceLinkLayerAddress)
      #expect(found5 == SampleFrames.macA)
    }
    // A zero-length option must be rejected (RFC 4861 §4.6), as must one
    // that runs past the end.
    for bad: [UInt8] in [[1, 0, 0, 0, 0, 0, 0, 0], [1, 2, 0, 0, 0, 0, 0, 0], [1]] {
      try Self.parse(Self.icmpv6(.neighborSolicitation(target: target), body: bad)) { m, _ in
        #expect(throws: WireError.badOption) { _ = try m.options.linkLayerAddress(ofType: 1) }
      }
    }
  }

  /// A router advertisement laid out by hand from RFC 4861 §4.2.
  @Test func routerAdvertisement() throws {
    var body = PacketBytes()
    body.append([134, 0, 0, 0, 64, 0xc0, 0x07, 0x08, 0, 0, 0x75, 0x30, 0, 0, 0x03, 0xe8])
    body.append(8) { NDPLinkLayerAddressOption(type: 1, address: SampleFrames.macA).emit(into: $0) }
    try withMutableBytes(body.bytes) { b in
      let m = try ICMPv6Message(checking: b)
      #expect(m.currentHopLimit == 64 && m.routerFlags == 0xc0 && m.routerLifetime == 1800)
      #expect(m.reachableTime == 30000 && m.retransmitTimer == 1000)
      let found6 = try m.options.linkLayerAddress(ofType: 1)
      #expect(found6 == SampleFrames.macA)
    }
    #expect(
      prefixesAccepted(Array(body.bytes[0..<16])) { b throws(WireError) in _ = try ICMPv6Message(checking: b)
      }.isEmpty)
    let header = RouterAdvertisementHeader(
      flags: RouterAdvertisementHeader.managedFlag | RouterAdvertisementHeader.otherConfigurationFlag,
      routerLifetime: 1800, reachableTime: 30000, retransmitTimer: 1000)
    #expect(buildBytes(count: 16) { header.emit(into: $0) } == Array(body.bytes[0..<16]))
    try withMutableBytes(body.bytes) { b in
      let parsed = RouterAdvertisementHeader(try ICMPv6Message(checking: b))
      #expect(parsed == header)
    }
  }
}

@Suite struct ICMPv6FieldGuardTests {
  /// Type-specific accessors on an 8-byte message of another type read
  /// nothing past the 8 bytes the check covered.
  @Test func typeSpecificFieldsOfOtherTypesAreZero() throws {
    let echo = buildBytes(count: 8) {
      ICMPv6Header.echoRequest(identifier: 1, sequenceNumber: 2).emit(into: $0)
    }
    try withMutableBytes(echo) { b in
      let m = try ICMPv6Message(checking: b)
      #expect(m.targetAddress == .unspecified && m.neighborFlags == 0)
      #expect(m.routerLifetime == 0 && m.reachableTime == 0 && m.retransmitTimer == 0)
      var options = m.options
      #expect(try options.next() == nil)
    }
    // Every type needs its 8-byte header.
    #expect(
      wireError([200, 0, 0, 0]) { b throws(WireError) in _ = try ICMPv6Message(checking: b) } == .truncated)
  }
}
