import Testing
import Wire

@Suite struct ARPAndTunnelTests {
  @Test func arpRoundTrip() throws {
    let header = ARPHeader(
      operation: .request, senderHardwareAddress: SampleFrames.macA, senderProtocolAddress: SampleFrames.v4A,
      targetHardwareAddress: .zero, targetProtocolAddress: SampleFrames.v4B)
    let bytes = buildBytes(count: 28) { header.emit(into: $0) }
    #expect(Array(bytes[0..<8]) == [0, 1, 8, 0, 6, 4, 0, 1])
    try withMutableBytes(bytes) { b in
      let arp = try ARPPacket(checking: b)
      #expect(ARPHeader(arp) == header)
      #expect(arp.operation == ARPPacket.Operation.request.rawValue)
      #expect(buildBytes(count: 28) { ARPHeader(arp).emit(into: $0) } == bytes)
    }
    #expect(prefixesAccepted(bytes) { b throws(WireError) in _ = try ARPPacket(checking: b) }.isEmpty)
    var other = bytes
    other[1] = 6  // IEEE 802 hardware type, not Ethernet
    #expect(wireError(other) { b throws(WireError) in _ = try ARPPacket(checking: b) } == .unsupported)
  }

  @Test func vxlanRoundTrip() throws {
    let bytes = buildBytes(count: 8) { VXLANHeader(vni: 0xabcdef).emit(into: $0) }
    #expect(bytes == [0x08, 0, 0, 0, 0xab, 0xcd, 0xef, 0])
    try withMutableBytes(bytes) { b in
      let v = try VXLANPacket(checking: b)
      #expect(v.vni == 0xabcdef && VXLANHeader(v) == VXLANHeader(vni: 0xabcdef))
      v.vni = 7
      #expect(v.vni == 7 && b[7] == 0)
    }
    #expect(prefixesAccepted(bytes) { b throws(WireError) in _ = try VXLANPacket(checking: b) }.isEmpty)
    var noI = bytes
    noI[0] = 0
    #expect(wireError(noI) { b throws(WireError) in _ = try VXLANPacket(checking: b) } == .badFlags)
  }

  @Test func geneveOptions() throws {
    var p = PacketBytes()
    let o1 = GeneveOptionHeader(optionClass: 0x0102, type: 0x83, dataLength: 4)
    let o2 = GeneveOptionHeader(optionClass: 0x0103, type: 0x04, dataLength: 0)
    let header = GeneveHeader(
      vni: 0x10_2030, optionsLength: o1.length + o2.length, isOAM: true, hasCriticalOptions: true)
    p.append(8) { header.emit(into: $0) }
    p.append(o1.length) { o1.emit(into: $0) }
    p.bytes[(p.bytes.count - 4)...] = [1, 2, 3, 4]
    p.append(o2.length) { o2.emit(into: $0) }
    p.append([0xaa])
    #expect(Array(p.bytes[0..<8]) == [0x03, 0xc0, 0x65, 0x58, 0x10, 0x20, 0x30, 0x00])
    try withMutableBytes(p.bytes) { b in
      let g = try GenevePacket(checking: b)
      #expect(GeneveHeader(g) == header)
      #expect(g.headerLength == 20 && Array(g.payload) == [0xaa])
      var options = g.options
      let first = try #require(try options.next())
      #expect(
        first.optionClass == 0x0102 && first.type == 0x83 && first.isCritical
          && Array(first.data) == [1, 2, 3, 4])
      let second = try #require(try options.next())
      #expect(second.optionClass == 0x0103 && !second.isCritical && second.data.isEmpty)
      #expect(try options.next() == nil)
    }
    #expect(
      prefixesAccepted(Array(p.bytes[0..<20])) { b throws(WireError) in _ = try GenevePacket(checking: b) }
        .isEmpty)
    // An option whose length runs past Opt Len.
    var bad = p.bytes
    bad[8 + 3] = 3
    let error = wireError(bad) { b throws(WireError) in
      var options = try GenevePacket(checking: b).options
      while try options.next() != nil {}
    }
    #expect(error == .badOption)
    var v1 = p.bytes
    v1[0] |= 0x40
    #expect(wireError(v1) { b throws(WireError) in _ = try GenevePacket(checking: b) } == .badVersion)
  }

  @Test func espHeaderAndTrailer() throws {
    let header = ESPHeader(spi: 0x1000_0001, sequenceNumber: 42)
    let bytes = buildBytes(count: 8) { header.emit(into: $0) }
    #expect(bytes == [0x10, 0, 0, 1, 0, 0, 0, 42])
    try withMutableBytes(bytes) {
      let esp = try ESPPacket(checking: $0)
      #expect(ESPHeader(esp) == header)
    }
    #expect(prefixesAccepted(bytes) { b throws(WireError) in _ = try ESPPacket(checking: b) }.isEmpty)

    for payloadLength in 0..<40 {
      for alignment in [4, 16] {
        let trailer = ESPTrailerBuilder(nextHeader: .ipv4, payloadLength: payloadLength, alignment: alignment)
        #expect((payloadLength + trailer.length) % alignment == 0)
        var p = PacketBytes()
        p.append([UInt8](repeating: 0xee, count: payloadLength))
        p.append(trailer.length) { trailer.emit(into: $0) }
        try withMutableBytes(p.bytes) { b in
          let t = try ESPTrailer(checking: b)
          #expect(
            t.nextHeader == .ipv4 && t.padLength == trailer.padLength && t.payload.count == payloadLength)
          #expect(!t.isDummy)
        }
      }
    }
    func trailerError(_ bytes: [UInt8]) -> WireError? {
      wireError(bytes) { b throws(WireError) in _ = try ESPTrailer(checking: b) }
    }
    #expect(trailerError([0xee, 1, 2, 4, 3, 4]) == .badPadding)
    #expect(trailerError([1, 2, 3, 4]) == .badLength)
    #expect(trailerError([4]) == .truncated)
    #expect(trailerError([1, 2, 2, 59]) == nil)
    try withMutableBytes([0, 59]) {
      let dummy = try ESPTrailer(checking: $0)
      #expect(dummy.isDummy)
    }
  }

  @Test func tlsRecords() throws {
    let header = TLSRecordHeader(contentType: .applicationData, length: 300)
    let bytes = buildBytes(count: 5 + 100) { header.emit(into: $0) }
    #expect(Array(bytes[0..<5]) == [23, 3, 3, 1, 44])
    try withMutableBytes(bytes) { b in
      let r = try TLSRecord(checking: b)
      #expect(TLSRecordHeader(r) == header)
      #expect(!r.isComplete && r.fragment.count == 100 && r.recordLength == 305 && r.isWithinTLS13Limit)
    }
    #expect(
      prefixesAccepted(Array(bytes[0..<5])) { b throws(WireError) in _ = try TLSRecord(checking: b) }.isEmpty)
    func error(_ bytes: [UInt8]) -> WireError? {
      wireError(bytes) { b throws(WireError) in _ = try TLSRecord(checking: b) }
    }
    #expect(error([25, 3, 3, 0, 1]) == .unsupported)
    #expect(error([22, 2, 0, 0, 1]) == .badVersion)
    #expect(error([23, 3, 3, 0x48, 0x01]) == .badLength)  // 2^14 + 2049
    #expect(error([23, 3, 3, 0x48, 0x00]) == nil)  // 2^14 + 2048, TLS 1.2's limit
    #expect(error([22, 3, 1, 0, 0]) == .badLength)  // empty handshake
    #expect(error([23, 3, 3, 0, 0]) == nil)  // empty application data is allowed
    try withMutableBytes([23, 3, 3, 0x41, 0x01]) {
      let record = try TLSRecord(checking: $0)
      #expect(!record.isWithinTLS13Limit)
    }
  }
}
