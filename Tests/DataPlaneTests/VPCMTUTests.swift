import Testing
import Wire

@testable import DataPlane

/// A guest that ignores the VPC's MTU (1400 in the fixture, what DHCP
/// announces) and sends larger packets: each is dropped, counted as
/// `mtuExceeded` on its port, and answered so that the guest's path MTU
/// discovery settles on 1400 (RFC 1191 §4, RFC 8201 / RFC 4443 §3.2).
@Suite struct VPCMTUTests {
  /// IPv4 total length 20 + 8 + payload.
  static func udp(payload: Int, dontFragment: Bool = true, to dst: IPv4Address = Fixture.ipA2) -> [UInt8] {
    Frames.udp(
      srcMAC: Fixture.macA1, src: Fixture.ipA1, dst: dst, payload: payload, dontFragment: dontFragment)
  }

  static func udp6(payload: Int) -> [UInt8] {
    var b = [UInt8](repeating: 0, count: 14 + 40 + 8 + payload)
    b.withUnsafeMutableBytes { p in
      EthernetHeader(destination: Fixture.gatewayMAC, source: Fixture.macA1, etherType: .ipv6).emit(into: p)
      IPv6Header(
        source: Fixture.v6A1, destination: Fixture.v6B1, nextHeader: .udp, payloadLength: 8 + payload
      )
      .emit(into: UnsafeMutableRawBufferPointer(rebasing: p[14...]))
      let udp = UnsafeMutableRawBufferPointer(rebasing: p[54...])
      UDPHeader(sourcePort: 40000, destinationPort: 53, payloadLength: payload).emit(into: udp)
      UDPDatagram(unchecked: udp).fillChecksum(
        pseudoHeaderSum: InternetChecksum.pseudoHeaderSum(
          source: Fixture.v6A1, destination: Fixture.v6B1, protocol: .udp, length: 8 + payload))
    }
    return b
  }

  func tooBigDrops(_ h: Harness) -> UInt64 { h.plane.counters.drops(port: 1, reason: .mtuExceeded) }

  @Test func ipv4WithDFOverTheVPCMTUIsAnsweredWithFragmentationNeeded() throws {
    let h = try Harness()
    // Exactly the VPC's MTU passes (local delivery to A2).
    let fits = h.run(port: 1, Self.udp(payload: 1400 - 28))
    #expect(fits.verdict == .forward && fits.port == 2)

    let big = Self.udp(payload: 1500 - 28)
    let out = h.run(port: 1, big)
    #expect(out.verdict == .forward)
    #expect(out.port == 1)
    #expect(tooBigDrops(h) == 1)
    let p = try #require(parse(out.bytes))
    #expect(p.outer.ipProtocol == .icmp)
    #expect(p.outer.icmpType == 3 && p.outer.icmpCode == 4)
    #expect(p.outer.source == .v4(Fixture.gateway1))
    #expect(p.outer.destination == .v4(Fixture.ipA1))
    #expect(p.outer.destinationMAC == Fixture.macA1)
    // RFC 1191 §4: the next-hop MTU in the low 16 bits of the second word.
    #expect(UInt16(out.bytes[40]) << 8 | UInt16(out.bytes[41]) == 1400)
    // The quote starts with the offending IPv4 header, and fits 576 bytes.
    #expect(Array(out.bytes[42..<62]) == Array(big[14..<34]))
    #expect(out.bytes.count - 14 <= 576)
    out.bytes.withUnsafeBytes { raw in
      let m = UnsafeMutableRawBufferPointer(mutating: raw)
      #expect(IPv4Packet(unchecked: UnsafeMutableRawBufferPointer(rebasing: m[14...])).isChecksumValid)
      #expect(InternetChecksum.checksum(UnsafeRawBufferPointer(rebasing: raw[34...])) == 0)
    }
  }

  @Test func aCachedFlowStillSendsItsOversizedPacketsToTheSlowPath() throws {
    let h = try Harness()
    // A handshake-sized packet compiles the flow; full-size ones follow.
    #expect(h.run(port: 1, Self.udp(payload: 10)).port == 2)
    #expect(h.plane.flows.count == 1)
    for n in 1...3 {
      let out = h.run([(1, Self.udp(payload: 1472)), (1, Self.udp(payload: 20))])
      #expect(out[0].port == 1 && parse(out[0].bytes)?.outer.icmpType == 3)
      #expect(out[1].port == 2)
      #expect(tooBigDrops(h) == UInt64(n))
    }
  }

  @Test func ipv4WithoutDFIsDroppedAndCountedWithoutAnswer() throws {
    let h = try Harness()
    let out = h.run(port: 1, Self.udp(payload: 1472, dontFragment: false))
    #expect(out.verdict == .drop(.mtuExceeded))
    #expect(tooBigDrops(h) == 1)
  }

  @Test func remoteDestinationsGetTheVPCMTUNotTheUnderlays() throws {
    // Underlay 9000: encapsulation would fit; the VPC's 1400 still binds.
    let h = try Harness(Fixture.configuration(mtu: 9000))
    let out = h.run(port: 1, Self.udp(payload: 1472, to: Fixture.ipB1))
    #expect(out.port == 1)
    #expect(UInt16(out.bytes[40]) << 8 | UInt16(out.bytes[41]) == 1400)
    #expect(h.run(port: 1, Self.udp(payload: 1372, to: Fixture.ipB1)).port == DataPlane.uplinkPort)
  }

  @Test func ipv6OverTheVPCMTUIsAnsweredWithPacketTooBig() throws {
    let h = try Harness(Fixture.configuration(mtu: 9000))
    let big = Self.udp6(payload: 1500 - 48)
    let out = h.run(port: 1, big)
    #expect(out.verdict == .forward)
    #expect(out.port == 1)
    #expect(tooBigDrops(h) == 1)
    let p = try #require(parse(out.bytes))
    #expect(p.outer.ipProtocol == .icmpv6)
    #expect(p.outer.icmpType == 2 && p.outer.icmpCode == 0)
    #expect(p.outer.source == .v6(Fixture.gateway1v6))
    #expect(p.outer.destination == .v6(Fixture.v6A1))
    // RFC 4443 §3.2: the MTU is the whole second word.
    let mtu = out.bytes[58..<62].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    #expect(mtu == 1400)
    #expect(Array(out.bytes[62..<102]) == Array(big[14..<54]))
    #expect(out.bytes.count - 14 <= 1280)
    out.bytes.withUnsafeBytes { raw in
      let m = UnsafeMutableRawBufferPointer(mutating: raw)
      let icmp = UnsafeMutableRawBufferPointer(rebasing: m[54...])
      #expect(
        ICMPv6Message(unchecked: icmp).isChecksumValid(
          pseudoHeaderSum: InternetChecksum.pseudoHeaderSum(
            source: Fixture.gateway1v6, destination: Fixture.v6A1, protocol: .icmpv6, length: icmp.count)))
    }
    // At the VPC's MTU it goes out, encapsulated.
    #expect(h.run(port: 1, Self.udp6(payload: 1400 - 48)).port == DataPlane.uplinkPort)
  }
}
