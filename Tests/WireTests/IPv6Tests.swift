import Testing
import Wire

@Suite struct IPv6Tests {
  /// IPv6 / hop-by-hop (8) / destination options (16) / fragment / UDP.
  static func withExtensionHeaders(fragmentByteOffset: Int = 0) -> [UInt8] {
    let udpPayload: [UInt8] = [7, 7, 7]
    var p = PacketBytes()
    let extensionLength = 8 + 16 + 8
    p.append(40) {
      IPv6Header(
        source: SampleFrames.v6A, destination: SampleFrames.v6B, nextHeader: .hopByHop,
        payloadLength: extensionLength + 8 + udpPayload.count, hopLimit: 9, trafficClass: 0xb8,
        flowLabel: 0xabcde
      ).emit(into: $0)
    }
    p.append(8) { IPv6OptionsHeader(nextHeader: .destinationOptions).emit(into: $0) }
    p.append(16) { IPv6OptionsHeader(nextHeader: .fragment, length: 16).emit(into: $0) }
    p.append(8) {
      IPv6FragmentHeader(
        nextHeader: .udp, fragmentByteOffset: fragmentByteOffset, moreFragments: true,
        identification: 0xfeed_f00d
      )
      .emit(into: $0)
    }
    p.append(8) {
      UDPHeader(sourcePort: 1, destinationPort: 2, payloadLength: udpPayload.count).emit(into: $0)
    }
    p.append(udpPayload)
    return p.bytes
  }

  @Test func roundTripWithExtensionHeaders() throws {
    let bytes = Self.withExtensionHeaders()
    try withMutableBytes(bytes) { b in
      let ip = try IPv6Packet(checking: b)
      #expect(ip.version == 6 && ip.trafficClass == 0xb8 && ip.flowLabel == 0xabcde && ip.hopLimit == 9)
      #expect(ip.source == SampleFrames.v6A && ip.destination == SampleFrames.v6B)
      let upper = try ip.upperLayer()
      #expect(upper.protocol == .udp && upper.offset == 32 && upper.extensionHeaderCount == 3)
      #expect(upper.isFragment && upper.moreFragments && upper.fragmentByteOffset == 0)
      #expect(upper.fragmentIdentification == 0xfeed_f00d)
      var rebuilt = PacketBytes()
      rebuilt.append(40) { IPv6Header(ip).emit(into: $0) }
      rebuilt.append(Array(ip.payload))
      #expect(rebuilt.bytes == bytes)
    }
    // Every prefix fails either the fixed header or the walk.
    let accepted = prefixesAccepted(bytes) { b throws(WireError) in
      _ = try IPv6Packet(checking: b).upperLayer()
    }
    #expect(accepted.isEmpty)
  }

  @Test func laterFragmentStopsTheWalk() throws {
    try withMutableBytes(Self.withExtensionHeaders(fragmentByteOffset: 1448)) { b in
      let upper = try IPv6Packet(checking: b).upperLayer()
      #expect(upper.isFragment && upper.fragmentByteOffset == 1448 && upper.protocol == .udp)
    }
  }

  /// Builds IPv6 with `count` destination-options headers then no next header.
  static func chain(_ kinds: [IPProtocol]) -> [UInt8] {
    var p = PacketBytes()
    p.append(40) {
      IPv6Header(
        source: SampleFrames.v6A, destination: SampleFrames.v6B, nextHeader: kinds.first ?? .noNextHeader,
        payloadLength: 8 * kinds.count
      )
      .emit(into: $0)
    }
    for (i, _) in kinds.enumerated() {
      let next = i + 1 < kinds.count ? kinds[i + 1] : .noNextHeader
      p.append(8) { IPv6OptionsHeader(nextHeader: next).emit(into: $0) }
    }
    return p.bytes
  }

  @Test func boundedAndOrderedChains() {
    let walk: (UnsafeMutableRawBufferPointer) throws(WireError) -> Void = { b throws(WireError) in
      _ = try IPv6Packet(checking: b).upperLayer()
    }
    #expect(wireError(Self.chain(Array(repeating: .destinationOptions, count: 8)), walk) == nil)
    #expect(
      wireError(Self.chain(Array(repeating: .destinationOptions, count: 9)), walk) == .tooManyExtensionHeaders
    )
    #expect(wireError(Self.chain([.destinationOptions, .hopByHop]), walk) == .badOption)
    #expect(wireError(Self.chain([.hopByHop, .routing, .destinationOptions]), walk) == nil)
  }

  /// RFC 4302 §2.2: an AH's Payload Len counts 4-octet units minus 2.
  @Test func authenticationHeaderLength() throws {
    var p = PacketBytes()
    // AH with a 12-byte ICV: 24 bytes, Payload Len 4.
    p.append(40) {
      IPv6Header(
        source: SampleFrames.v6A, destination: SampleFrames.v6B, nextHeader: .authentication,
        payloadLength: 24 + 8
      )
      .emit(into: $0)
    }
    p.append([IPProtocol.udp.rawValue, 4, 0, 0] + [UInt8](repeating: 0x11, count: 20))
    p.append(8) { UDPHeader(sourcePort: 1, destinationPort: 2, payloadLength: 0).emit(into: $0) }
    try withMutableBytes(p.bytes) { b in
      let upper = try IPv6Packet(checking: b).upperLayer()
      #expect(upper.protocol == .udp && upper.offset == 24)
    }
  }

  @Test func rejectsBadFixedHeaders() {
    var bytes = Self.withExtensionHeaders()
    let parse: (UnsafeMutableRawBufferPointer) throws(WireError) -> Void = { b throws(WireError) in
      _ = try IPv6Packet(checking: b)
    }
    bytes[0] = 0x40
    #expect(wireError(bytes, parse) == .badVersion)
    bytes[0] = 0x60
    bytes[5] = 200
    #expect(wireError(bytes, parse) == .truncated)
  }
}
