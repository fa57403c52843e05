import Testing
import Wire

@Suite struct PacketParserTests {
  static func parse(_ bytes: [UInt8]) throws(WireError) -> ParsedPacket {
    var result: Result<ParsedPacket, WireError> = .failure(.truncated)
    bytes.withUnsafeBytes { b in
      do throws(WireError) { result = .success(try PacketParser.parse(b)) } catch { result = .failure(error) }
    }
    return try result.get()
  }

  @Test func vxlanOuterAndInner() throws {
    let bytes = SampleFrames.vxlan()
    let p = try Self.parse(bytes)
    #expect(p.outer.destinationMAC == SampleFrames.macB && p.outer.sourceMAC == SampleFrames.macA)
    #expect(p.outer.vlanCount == 1 && p.outer.outerVLANID == 42 && p.outer.etherType == .ipv4)
    #expect(p.outer.networkOffset == 18 && p.outer.isIPv4)
    #expect(p.outer.source == .v4(SampleFrames.v4A) && p.outer.destination == .v4(SampleFrames.v4B))
    #expect(p.outer.ipProtocol == .udp && p.outer.destinationPort == 4789 && p.outer.transportOffset == 38)
    #expect(p.tunnel == .vxlan && p.vni == 0x12_3456 && p.tunnelOffset == 46 && p.hasInnerFrame)
    #expect(p.inner.networkOffset == 46 + 8 + 14 && p.inner.isIPv6)
    #expect(p.inner.source == .v6(SampleFrames.v6A) && p.inner.ipProtocol == .tcp)
    #expect(p.inner.sourcePort == 33000 && p.inner.destinationPort == 443 && p.inner.tcpFlags == .syn)
    #expect(p.inner.payloadLength == 2 && Array(bytes[p.inner.payloadOffset...]) == [0xde, 0xad])
    #expect(p.inner.networkEndOffset == bytes.count && p.outer.networkEndOffset == bytes.count)
  }

  @Test func geneveOuterAndInner() throws {
    let bytes = SampleFrames.geneve()
    let p = try Self.parse(bytes)
    #expect(p.tunnel == .geneve && p.vni == 0xabcdef && !p.isTunnelOAM && p.hasInnerFrame)
    #expect(p.inner.source == .v4(IPv4Address(192, 168, 0, 1)) && p.inner.destinationPort == 80)
    #expect(p.inner.networkOffset == p.tunnelOffset + 8 + 20 + 14)
    #expect(
      Array(bytes[p.inner.payloadOffset..<(p.inner.payloadOffset + p.inner.payloadLength)]) == [1, 2, 3])
  }

  @Test func qinqAndArp() throws {
    var p = PacketBytes()
    p.append(14) {
      EthernetHeader(destination: .broadcast, source: SampleFrames.macA, etherType: .qinq).emit(into: $0)
    }
    p.append(4) { VLANTagHeader(vlanID: 100, etherType: .vlan).emit(into: $0) }
    p.append(4) { VLANTagHeader(vlanID: 200, etherType: .arp).emit(into: $0) }
    p.append(28) {
      ARPHeader(
        operation: .request, senderHardwareAddress: SampleFrames.macA,
        senderProtocolAddress: SampleFrames.v4A,
        targetHardwareAddress: .zero, targetProtocolAddress: SampleFrames.v4B
      ).emit(into: $0)
    }
    let parsed = try Self.parse(p.bytes)
    #expect(parsed.outer.vlanCount == 2 && parsed.outer.outerVLANID == 100 && parsed.outer.innerVLANID == 200)
    #expect(parsed.outer.etherType == .arp && parsed.outer.arpOperation == 1)
    #expect(
      parsed.outer.arpSenderHardwareAddress == SampleFrames.macA
        && parsed.outer.destination == .v4(SampleFrames.v4B))
    // A third tag is refused.
    var triple = PacketBytes()
    triple.append(14) {
      EthernetHeader(destination: .broadcast, source: SampleFrames.macA, etherType: .qinq).emit(into: $0)
    }
    for _ in 0..<3 { triple.append(4) { VLANTagHeader(vlanID: 1, etherType: .vlan).emit(into: $0) } }
    #expect(throws: WireError.unsupported) { _ = try Self.parse(triple.bytes) }
  }

  @Test func fragmentsAndPadding() throws {
    var ip = SampleFrames.ipv4UDP(destinationPort: 4789, payload: [UInt8](repeating: 0, count: 30))
    ip[6] = 0x20  // MF: a first fragment; the tunnel is not entered
    let first = try Self.parse(SampleFrames.ethernet(.ipv4, ip))
    #expect(first.outer.isFragment && !first.outer.isLaterFragment && first.outer.destinationPort == 4789)
    #expect(first.tunnel == .none)
    ip[7] = 3  // offset 24 bytes: no upper-layer header
    let later = try Self.parse(SampleFrames.ethernet(.ipv4, ip))
    #expect(
      later.outer.isLaterFragment && later.outer.transportOffset == 0 && later.outer.destinationPort == 0)
    // Ethernet padding after the IP packet is not payload.
    let padded =
      SampleFrames.ethernet(.ipv4, SampleFrames.ipv4UDP(destinationPort: 9, payload: [1])) + [0, 0, 0]
    let p = try Self.parse(padded)
    #expect(p.outer.payloadLength == 1 && p.outer.networkEndOffset == padded.count - 3)
    // IPv6 later fragment.
    let v6 = try Self.parse(
      SampleFrames.ethernet(.ipv6, IPv6Tests.withExtensionHeaders(fragmentByteOffset: 8)))
    #expect(v6.outer.isLaterFragment && v6.outer.ipProtocol == .udp && v6.outer.transportOffset == 0)
  }

  @Test func icmpAndEsp() throws {
    var icmp = PacketBytes()
    icmp.append(20) {
      IPv4Header(source: SampleFrames.v4A, destination: SampleFrames.v4B, protocol: .icmp, payloadLength: 8)
        .emit(into: $0)
    }
    icmp.append(8) { _ in }
    icmp.edit(from: 20) { ICMPv4Header.echoRequest(identifier: 77, sequenceNumber: 1).emit(into: $0) }
    let p = try Self.parse(SampleFrames.ethernet(.ipv4, icmp.bytes))
    #expect(p.outer.icmpType == 8 && p.outer.icmpIdentifier == 77)
    var esp = PacketBytes()
    esp.append(20) {
      IPv4Header(source: SampleFrames.v4A, destination: SampleFrames.v4B, protocol: .esp, payloadLength: 24)
        .emit(into: $0)
    }
    esp.append(8) { ESPHeader(spi: 0xc0ffee, sequenceNumber: 5).emit(into: $0) }
    esp.append([UInt8](repeating: 0x5a, count: 16))
    let e = try Self.parse(SampleFrames.ethernet(.ipv4, esp.bytes))
    #expect(e.outer.ipProtocol == .esp && e.outer.espSPI == 0xc0ffee && e.outer.payloadLength == 16)
  }

  /// Every proper prefix of a valid tunnelled frame is a typed error: the
  /// outer IPv4 total length covers the whole frame.
  @Test func everyTruncationIsATypedError() {
    for frame in [SampleFrames.vxlan(), SampleFrames.geneve()] {
      let accepted = prefixesAccepted(frame) { b throws(WireError) in
        _ = try PacketParser.parse(UnsafeRawBufferPointer(b))
      }
      #expect(accepted.isEmpty)
    }
  }

  /// Random mutations of valid frames never trap (the fuzz target does this
  /// at scale; here a deterministic sample runs with every test).
  @Test func mutatedFramesNeverTrap() {
    var rng = SplitMix64(seed: 7)
    let seeds = [
      SampleFrames.vxlan(), SampleFrames.geneve(),
      SampleFrames.ethernet(.ipv6, IPv6Tests.withExtensionHeaders()),
    ]
    var parsed = 0
    for _ in 0..<3000 {
      var frame = seeds.randomElement(using: &rng)!
      for _ in 0..<Int.random(in: 1...4, using: &rng) {
        frame[Int.random(in: 0..<frame.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
      }
      frame = Array(frame[0..<Int.random(in: 0...frame.count, using: &rng)])
      if (try? Self.parse(frame)) != nil { parsed += 1 }
    }
    #expect(parsed > 0)
  }
}
