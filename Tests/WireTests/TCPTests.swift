import Testing
import Wire

@Suite struct TCPTests {
  @Test func synRoundTrip() throws {
    let bytes = SampleFrames.ipv6TCP(payload: [1, 2, 3])
    try withMutableBytes(bytes) { b in
      let ip = try IPv6Packet(checking: b)
      let tcp = try TCPSegment(checking: ip.payload)
      #expect(
        tcp.isChecksumValid(pseudoHeaderSum: ip.pseudoHeaderSum(protocol: .tcp, length: ip.payloadLength)))
      #expect(tcp.sourcePort == 33000 && tcp.destinationPort == 443 && tcp.sequenceNumber == 0x0102_0304)
      #expect(tcp.flags == .syn && tcp.window == 64240 && tcp.headerLength == 40)
      #expect(Array(tcp.payload) == [1, 2, 3])
      // Linux's SYN layout: MSS, SACK-permitted, timestamps, NOP, window scale.
      #expect(Array(tcp.bytes[20..<24]) == [2, 4, 0x05, 0xa0])
      #expect(Array(tcp.bytes[24..<28]) == [4, 2, 8, 10])
      #expect(Array(tcp.bytes[36..<40]) == [1, 3, 3, 7])
      let header = try TCPHeader(tcp)
      #expect(header.maximumSegmentSize == 1440 && header.windowScale == 7 && header.sackPermitted)
      #expect(header.timestamps == TCPTimestamps(value: 11, echoReply: 0))
      let rebuilt = buildBytes(count: header.headerLength) { header.emit(into: $0) }
      #expect(Array(rebuilt[0..<16]) == Array(tcp.bytes[0..<16]))
      #expect(Array(rebuilt[18...]) == Array(tcp.bytes[18..<40]))
    }
    #expect(
      prefixesAccepted(Array(bytes[40..<80])) { b throws(WireError) in _ = try TCPSegment(checking: b) }
        .isEmpty)
  }

  @Test func optionLayouts() throws {
    for header in [
      TCPHeader(
        sourcePort: 1, destinationPort: 2, sequenceNumber: 3, flags: [.syn, .ack], window: 4,
        sackPermitted: true),
      TCPHeader(
        sourcePort: 1, destinationPort: 2, sequenceNumber: 3, flags: .ack, window: 4,
        timestamps: TCPTimestamps(value: 1, echoReply: 2)),
      TCPHeader(
        sourcePort: 1, destinationPort: 2, sequenceNumber: 3, flags: .ack, window: 4, windowScale: 14),
      TCPHeader(
        sourcePort: 1, destinationPort: 2, sequenceNumber: 3, flags: [.fin, .psh, .urg], window: 4,
        urgentPointer: 9),
    ] {
      #expect(header.headerLength % 4 == 0)
      let bytes = buildBytes(count: header.headerLength) { header.emit(into: $0) }
      try withMutableBytes(bytes) { b in
        let parsed = try TCPHeader(try TCPSegment(checking: b))
        #expect(parsed == header)
      }
    }
  }

  /// Options laid out by hand: NOP, NOP, SACK with two blocks, unknown
  /// kind 30 with 2 data bytes, EOL, padding.
  @Test func sackAndUnknownOptions() throws {
    var p = PacketBytes()
    p.append(20) {
      TCPHeader(sourcePort: 1, destinationPort: 2, sequenceNumber: 3, flags: .ack, window: 4).emit(into: $0)
    }
    p.append([1, 1, 5, 18, 0, 0, 0, 10, 0, 0, 0, 20, 0, 0, 0, 30, 0, 0, 0, 40, 30, 4, 0xaa, 0xbb, 0, 0, 0, 0])
    p.bytes[12] = UInt8((20 + 28) / 4) << 4
    try withMutableBytes(p.bytes) { b in
      var options = try TCPSegment(checking: b).options
      var kinds: [String] = []
      while let option = try options.next() {
        switch option {
        case .noOperation: kinds.append("nop")
        case .sack(let blocks):
          #expect(blocks.count == 2)
          #expect(blocks.block(0) == (10, 20) && blocks.block(1) == (30, 40))
          kinds.append("sack")
        case .unknown(let kind, let data):
          #expect(kind == 30 && Array(data) == [0xaa, 0xbb])
          kinds.append("unknown")
        default: kinds.append("other")
        }
      }
      #expect(kinds == ["nop", "nop", "sack", "unknown"])
    }
  }

  @Test func malformedOptions() {
    let cases: [[UInt8]] = [
      [2, 3, 0, 0],  // MSS with length 3
      [3, 4, 7, 0],  // window scale with length 4
      [8, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],  // timestamps length 9
      [5, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],  // SACK not a whole block
      [30, 1, 0, 0],  // length below 2
      [30, 8, 0, 0],  // past the header
      [4, 3, 0, 0],  // SACK-permitted with length 3
    ]
    for options in cases {
      var p = PacketBytes()
      p.append(20) {
        TCPHeader(sourcePort: 1, destinationPort: 2, sequenceNumber: 3, flags: .ack, window: 4).emit(into: $0)
      }
      p.append(options)
      p.bytes[12] = UInt8((20 + options.count) / 4) << 4
      let e = wireError(p.bytes) { b throws(WireError) in
        var walk = try TCPSegment(checking: b).options
        while try walk.next() != nil {}
      }
      #expect(e == .badOption, "\(options)")
    }
    var short = buildBytes(count: 20) {
      TCPHeader(sourcePort: 1, destinationPort: 2, sequenceNumber: 3, flags: .ack, window: 4).emit(into: $0)
    }
    short[12] = 0x40
    #expect(wireError(short) { b throws(WireError) in _ = try TCPSegment(checking: b) } == .badHeaderLength)
    short[12] = 0x60
    #expect(wireError(short) { b throws(WireError) in _ = try TCPSegment(checking: b) } == .truncated)
  }
}
