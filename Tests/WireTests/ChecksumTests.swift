import Testing
import Wire

@Suite struct ChecksumTests {
  /// RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
  @Test func rfc1071Example() {
    let bytes: [UInt8] = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]
    bytes.withUnsafeBytes { buffer in
      #expect(InternetChecksum.sum(buffer) == 0xddf2)
      #expect(InternetChecksum.checksum(buffer) == 0x220d)
    }
  }

  /// A textbook IPv4 header whose checksum is b861.
  @Test func knownIPv4Header() {
    let header = hexBytes("4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7")
    header.withUnsafeBytes { #expect(InternetChecksum.checksum($0) == 0xb861) }
  }

  /// The 64-bit unaligned sum equals a plain 16-bit word sum at every
  /// length and start offset.
  @Test func matchesWordSum() {
    var rng = SplitMix64(seed: 1)
    let data = (0..<300).map { _ in UInt8.random(in: 0...255, using: &rng) }
    for start in 0..<8 {
      for length in 0...(data.count - start) {
        var reference: UInt32 = 0
        var i = start
        while i < start + length {
          let high = UInt32(data[i]) << 8
          let low = i + 1 < start + length ? UInt32(data[i + 1]) : 0
          reference += high | low
          i += 2
        }
        while reference > 0xffff { reference = (reference & 0xffff) + (reference >> 16) }
        let fast = data.withUnsafeBytes {
          InternetChecksum.sum(UnsafeRawBufferPointer(rebasing: $0[start..<(start + length)]))
        }
        #expect(
          fast == reference || (fast == 0xffff && reference == 0) || (fast == 0 && reference == 0xffff),
          "start \(start) length \(length)")
      }
    }
  }

  @Test func incrementalEqualsRecompute() {
    var rng = SplitMix64(seed: 2)
    for _ in 0..<2000 {
      var data = (0..<40).map { _ in UInt8.random(in: 0...255, using: &rng) }
      data[10] = 0
      data[11] = 0
      let original = data.withUnsafeBytes { InternetChecksum.checksum($0) }
      data[10] = UInt8(original >> 8)
      data[11] = UInt8(original & 0xff)
      // Change a 16-bit field at an even offset other than the checksum.
      let at16 = [0, 2, 4, 6, 8, 12, 14].randomElement(using: &rng)!
      let old16 = UInt16(data[at16]) << 8 | UInt16(data[at16 + 1])
      let new16 = UInt16.random(in: 0...0xffff, using: &rng)
      data[at16] = UInt8(new16 >> 8)
      data[at16 + 1] = UInt8(new16 & 0xff)
      let updated16 = InternetChecksum.update(original, replacing: old16, with: new16)
      // And a 32-bit field.
      let at32 = [16, 20, 24, 28].randomElement(using: &rng)!
      let old32 = data[at32..<(at32 + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
      let new32 = UInt32.random(in: 0...UInt32.max, using: &rng)
      for k in 0..<4 { data[at32 + k] = UInt8((new32 >> UInt32(24 - 8 * k)) & 0xff) }
      let updated = InternetChecksum.update(updated16, replacing: old32, with: new32)
      data[10] = 0
      data[11] = 0
      let recomputed = data.withUnsafeBytes { InternetChecksum.checksum($0) }
      // RFC 1624 §5: eqn. 3 never yields 0x0000 where recompute gives
      // 0xffff (both are "-0"/"+0" in one's complement).
      #expect(
        updated == recomputed || (updated == 0xffff && recomputed == 0)
          || (updated == 0 && recomputed == 0xffff))
      data[10] = UInt8(updated >> 8)
      data[11] = UInt8(updated & 0xff)
      #expect(data.withUnsafeBytes { InternetChecksum.isValid(partialSum: InternetChecksum.sum($0)) })
    }
  }

  @Test func pseudoHeaders() throws {
    // IPv4: sum of 0a00 0001 0a00 0002 0011 0010.
    let v4 = InternetChecksum.pseudoHeaderSum(
      source: IPv4Address(10, 0, 0, 1), destination: IPv4Address(10, 0, 0, 2), protocol: .udp, length: 16)
    #expect(v4 == 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 0x0011 + 0x0010)
    let s = try #require(IPv6Address("2001:db8::1"))
    let d = try #require(IPv6Address("2001:db8::2"))
    let v6 = InternetChecksum.pseudoHeaderSum(source: s, destination: d, protocol: .udp, length: 0x10008)
    let expected: UInt32 = 2 * (0x2001 + 0x0db8) + 1 + 2 + 0x0001 + 0x0008 + 17
    #expect(v6 == expected)
  }
}

@Suite struct TransportRewriteTests {
  /// NAT-style rewrites patched incrementally verify like a full recompute.
  @Test func udpAndTCPRewritesKeepChecksumsValid() throws {
    var rng = SplitMix64(seed: 3)
    for round in 0..<200 {
      let payload = (0..<Int.random(in: 0...40, using: &rng)).map { _ in
        UInt8.random(in: 0...255, using: &rng)
      }
      var v4 = SampleFrames.ipv4UDP(destinationPort: 53, payload: payload)
      try v4.withUnsafeMutableBytes { b in
        let ip = try IPv4Packet(checking: b)
        let udp = try UDPDatagram(checking: ip.payload)
        let newSource = IPv4Address(rawValue: UInt32.random(in: 0...UInt32.max, using: &rng))
        udp.adjustChecksum(replacing: ip.source, with: newSource)
        ip.replaceSource(with: newSource)
        udp.replaceSourcePort(with: UInt16.random(in: 0...0xffff, using: &rng))
        udp.replaceDestinationPort(with: UInt16.random(in: 0...0xffff, using: &rng))
        #expect(
          ip.isChecksumValid && udp.isChecksumValid(pseudoHeaderSum: ip.pseudoHeaderSum), "round \(round)")
        #expect(udp.checksum != 0)
      }
      var v6 = SampleFrames.ipv6TCP(payload: payload)
      try v6.withUnsafeMutableBytes { b in
        let ip = try IPv6Packet(checking: b)
        let tcp = try TCPSegment(checking: ip.payload)
        let newDestination = IPv6Address(high: rng.next(), low: rng.next())
        tcp.adjustChecksum(replacing: ip.destination, with: newDestination)
        ip.destination = newDestination
        tcp.replaceDestinationPort(with: UInt16.random(in: 0...0xffff, using: &rng))
        #expect(
          tcp.isChecksumValid(pseudoHeaderSum: ip.pseudoHeaderSum(protocol: .tcp, length: ip.payloadLength)))
      }
    }
  }

  /// RFC 768: a UDP datagram without a checksum keeps none.
  @Test func zeroUDPChecksumStaysZero() throws {
    var bytes = SampleFrames.ipv4UDP(destinationPort: 53, payload: [1])
    bytes[26] = 0
    bytes[27] = 0
    try bytes.withUnsafeMutableBytes { b in
      let udp = try UDPDatagram(checking: try IPv4Packet(checking: b).payload)
      udp.replaceSourcePort(with: 1)
      udp.adjustChecksum(replacing: IPv4Address(1, 2, 3, 4), with: IPv4Address(5, 6, 7, 8))
      #expect(udp.checksum == 0 && udp.sourcePort == 1)
    }
  }
}
