import Testing
import Wire

@Suite struct EthernetIPv4UDPTests {
  static let ethernet = EthernetHeader(
    destination: MACAddress(0x02, 0, 0, 0, 0, 2), source: MACAddress(0x02, 0, 0, 0, 0, 1), etherType: .ipv4)

  /// Ethernet + IPv4 + UDP with a 5-byte payload, built by the builders.
  static func frame() -> [UInt8] {
    let payload: [UInt8] = [1, 2, 3, 4, 5]
    let ip = IPv4Header(
      source: IPv4Address(10, 0, 0, 1), destination: IPv4Address(10, 0, 0, 2), protocol: .udp,
      payloadLength: 8 + payload.count, timeToLive: 17, identification: 0x1234, dontFragment: true, dscp: 46,
      ecn: 1)
    let udp = UDPHeader(sourcePort: 5000, destinationPort: 53, payloadLength: payload.count)
    return buildBytes(count: 14 + 20 + 8 + payload.count) { b in
      ethernet.emit(into: b)
      ip.emit(into: UnsafeMutableRawBufferPointer(rebasing: b[14...]))
      udp.emit(into: UnsafeMutableRawBufferPointer(rebasing: b[34...]))
      for (i, v) in payload.enumerated() { b[42 + i] = v }
      let packet = IPv4Packet(unchecked: UnsafeMutableRawBufferPointer(rebasing: b[14...]))
      UDPDatagram(unchecked: packet.payload).fillChecksum(pseudoHeaderSum: packet.pseudoHeaderSum)
    }
  }

  @Test func roundTrip() throws {
    let bytes = Self.frame()
    try withMutableBytes(bytes) { b in
      let eth = try EthernetFrame(checking: b)
      #expect(EthernetHeader(eth) == Self.ethernet)
      let ip = try IPv4Packet(checking: eth.payload)
      #expect(ip.isChecksumValid)
      #expect(ip.headerLength == 20 && ip.totalLength == 33)
      #expect(ip.source == IPv4Address(10, 0, 0, 1) && ip.destination == IPv4Address(10, 0, 0, 2))
      #expect(ip.timeToLive == 17 && ip.identification == 0x1234 && ip.dontFragment && !ip.isFragment)
      #expect(ip.dscp == 46 && ip.ecn == 1)
      let udp = try UDPDatagram(checking: ip.payload)
      #expect(udp.sourcePort == 5000 && udp.destinationPort == 53 && udp.length == 13)
      #expect(udp.isChecksumValid(pseudoHeaderSum: ip.pseudoHeaderSum))
      #expect(Array(udp.payload) == [1, 2, 3, 4, 5])
      // Parse → emit gives the same bytes.
      let rebuilt = buildBytes(count: bytes.count) { r in
        EthernetHeader(eth).emit(into: r)
        IPv4Header(ip).emit(into: UnsafeMutableRawBufferPointer(rebasing: r[14...]))
        UDPHeader(udp).emit(into: UnsafeMutableRawBufferPointer(rebasing: r[34...]))
        for (i, v) in udp.payload.enumerated() { r[42 + i] = v }
        let p = IPv4Packet(unchecked: UnsafeMutableRawBufferPointer(rebasing: r[14...]))
        UDPDatagram(unchecked: p.payload).fillChecksum(pseudoHeaderSum: p.pseudoHeaderSum)
      }
      #expect(rebuilt == bytes)
    }
  }

  @Test func rewritesKeepChecksumsValid() throws {
    try withMutableBytes(Self.frame()) { b in
      let ip = try IPv4Packet(checking: try EthernetFrame(checking: b).payload)
      ip.decrementTimeToLive()
      #expect(ip.timeToLive == 16 && ip.isChecksumValid)
      ip.replaceSource(with: IPv4Address(192, 168, 7, 9))
      ip.replaceDestination(with: IPv4Address(172, 16, 0, 200))
      #expect(ip.isChecksumValid)
      let udp = UDPDatagram(unchecked: ip.payload)
      #expect(!udp.isChecksumValid(pseudoHeaderSum: ip.pseudoHeaderSum))
      udp.fillChecksum(pseudoHeaderSum: ip.pseudoHeaderSum)
      #expect(udp.isChecksumValid(pseudoHeaderSum: ip.pseudoHeaderSum))
    }
  }

  @Test func everyTruncationIsATypedError() {
    let bytes = Self.frame()
    let accepted = prefixesAccepted(bytes) { b throws(WireError) in
      let eth = try EthernetFrame(checking: b)
      let ip = try IPv4Packet(checking: eth.payload)
      _ = try UDPDatagram(checking: ip.payload)
    }
    #expect(accepted.isEmpty)
    #expect(
      prefixesAccepted(Array(bytes[14...])) { b throws(WireError) in _ = try IPv4Packet(checking: b) }.isEmpty
    )
  }

  @Test func rejectsBadIPv4Headers() {
    var bytes = Array(Self.frame()[14...])
    func parse(_ bytes: [UInt8]) -> WireError? {
      withMutableBytes(bytes) { b in
        do throws(WireError) {
          _ = try IPv4Packet(checking: b)
          return nil
        } catch { return error }
      }
    }
    bytes[0] = 0x65
    #expect(parse(bytes) == .badVersion)
    bytes[0] = 0x44
    #expect(parse(bytes) == .badHeaderLength)
    bytes[3] = 40
    bytes[0] = 0x45
    #expect(parse(bytes) == .truncated)
    bytes[0] = 0x45
    bytes[3] = 19
    #expect(parse(bytes) == .badTotalLength)
    bytes[3] = 33
    bytes[6] = 0x20  // MF
    #expect(withMutableBytes(bytes) { (try? IPv4Packet(checking: $0))?.isFragment } == true)
    bytes[6] = 0
    bytes[7] = 0x10  // offset 16 × 8
    #expect(withMutableBytes(bytes) { (try? IPv4Packet(checking: $0))?.fragmentByteOffset } == 128)
  }

  @Test func vlanTag() throws {
    let tag = VLANTagHeader(priority: 5, dropEligible: true, vlanID: 100, etherType: .ipv6)
    let bytes = buildBytes(count: 4) { tag.emit(into: $0) }
    #expect(bytes == [0xb0, 0x64, 0x86, 0xdd])
    try withMutableBytes(bytes) { b in
      let view = try VLANTag(checking: b)
      #expect(VLANTagHeader(view) == tag)
      view.vlanID = 4095
      #expect(view.vlanID == 4095 && view.priority == 5 && view.dropEligible)
    }
    #expect(prefixesAccepted(bytes) { b throws(WireError) in _ = try VLANTag(checking: b) }.isEmpty)
  }
}
