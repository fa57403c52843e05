import Wire

/// Test-side composition of builders into one packet (allocates; tests only).
struct PacketBytes {
  var bytes: [UInt8] = []

  /// Appends `count` zero bytes and lets `emit` write them.
  mutating func append(_ count: Int, _ emit: (UnsafeMutableRawBufferPointer) -> Void) {
    let start = bytes.count
    bytes += [UInt8](repeating: 0, count: count)
    bytes.withUnsafeMutableBytes { emit(UnsafeMutableRawBufferPointer(rebasing: $0[start...])) }
  }

  mutating func append(_ raw: [UInt8]) { bytes += raw }

  /// Runs `body` over the bytes from `offset` to the end, writable.
  mutating func edit(from offset: Int, _ body: (UnsafeMutableRawBufferPointer) -> Void) {
    bytes.withUnsafeMutableBytes { body(UnsafeMutableRawBufferPointer(rebasing: $0[offset...])) }
  }
}

/// Frames shared by several tests, built with this module's builders.
enum SampleFrames {
  static let macA = MACAddress(0x02, 0, 0, 0, 0, 0xa)
  static let macB = MACAddress(0x02, 0, 0, 0, 0, 0xb)
  static let v4A = IPv4Address(10, 0, 0, 1)
  static let v4B = IPv4Address(10, 0, 0, 2)
  static let v6A = IPv6Address("2001:db8::a")!
  static let v6B = IPv6Address("2001:db8::b")!

  /// IPv4 + UDP with `payload`, checksums filled.
  static func ipv4UDP(
    source: IPv4Address = v4A, destination: IPv4Address = v4B, sourcePort: UInt16 = 40000,
    destinationPort: UInt16, payload: [UInt8]
  ) -> [UInt8] {
    var p = PacketBytes()
    p.append(20) {
      IPv4Header(source: source, destination: destination, protocol: .udp, payloadLength: 8 + payload.count)
        .emit(into: $0)
    }
    p.append(8) {
      UDPHeader(sourcePort: sourcePort, destinationPort: destinationPort, payloadLength: payload.count).emit(
        into: $0)
    }
    p.append(payload)
    p.edit(from: 0) { b in
      let ip = IPv4Packet(unchecked: b)
      UDPDatagram(unchecked: ip.payload).fillChecksum(pseudoHeaderSum: ip.pseudoHeaderSum)
    }
    return p.bytes
  }

  /// IPv6 + TCP SYN with options and `payload`.
  static func ipv6TCP(payload: [UInt8]) -> [UInt8] {
    let tcp = TCPHeader(
      sourcePort: 33000, destinationPort: 443, sequenceNumber: 0x0102_0304, flags: [.syn], window: 64240,
      maximumSegmentSize: 1440, windowScale: 7, sackPermitted: true,
      timestamps: TCPTimestamps(value: 11, echoReply: 0))
    var p = PacketBytes()
    p.append(40) {
      IPv6Header(
        source: v6A, destination: v6B, nextHeader: .tcp, payloadLength: tcp.headerLength + payload.count
      )
      .emit(into: $0)
    }
    p.append(tcp.headerLength) { tcp.emit(into: $0) }
    p.append(payload)
    p.edit(from: 0) { b in
      let ip = IPv6Packet(unchecked: b)
      TCPSegment(unchecked: ip.payload).fillChecksum(
        pseudoHeaderSum: ip.pseudoHeaderSum(protocol: .tcp, length: ip.payloadLength))
    }
    return p.bytes
  }

  static func ethernet(_ etherType: EtherType, _ payload: [UInt8], vlan: UInt16? = nil) -> [UInt8] {
    var p = PacketBytes()
    if let vlan {
      p.append(14) { EthernetHeader(destination: macB, source: macA, etherType: .vlan).emit(into: $0) }
      p.append(4) { VLANTagHeader(vlanID: vlan, etherType: etherType).emit(into: $0) }
    } else {
      p.append(14) { EthernetHeader(destination: macB, source: macA, etherType: etherType).emit(into: $0) }
    }
    p.append(payload)
    return p.bytes
  }

  /// Outer Ethernet/VLAN/IPv4/UDP/VXLAN around an inner Ethernet/IPv6/TCP.
  static func vxlan() -> [UInt8] {
    let inner = ethernet(.ipv6, ipv6TCP(payload: [0xde, 0xad]))
    var tunnel = PacketBytes()
    tunnel.append(8) { VXLANHeader(vni: 0x12_3456).emit(into: $0) }
    tunnel.append(inner)
    return ethernet(.ipv4, ipv4UDP(destinationPort: VXLANPacket.udpPort, payload: tunnel.bytes), vlan: 42)
  }

  /// Outer Ethernet/IPv4/UDP/Geneve with two options around an inner
  /// Ethernet/IPv4/UDP.
  static func geneve() -> [UInt8] {
    let inner = ethernet(
      .ipv4,
      ipv4UDP(
        source: IPv4Address(192, 168, 0, 1), destination: IPv4Address(192, 168, 0, 2), sourcePort: 1234,
        destinationPort: 80, payload: [1, 2, 3]))
    var tunnel = PacketBytes()
    let first = GeneveOptionHeader(optionClass: 0x0102, type: 0x80, dataLength: 4)
    let second = GeneveOptionHeader(optionClass: 0xffff, type: 0x01, dataLength: 8)
    tunnel.append(8) {
      GeneveHeader(vni: 0xabcdef, optionsLength: first.length + second.length, hasCriticalOptions: true).emit(
        into: $0)
    }
    tunnel.append(first.length) { first.emit(into: $0) }
    tunnel.bytes[tunnel.bytes.count - 4..<tunnel.bytes.count] = [9, 9, 9, 9]
    tunnel.append(second.length) { second.emit(into: $0) }
    tunnel.append(inner)
    return ethernet(.ipv4, ipv4UDP(destinationPort: GenevePacket.udpPort, payload: tunnel.bytes))
  }
}
