import Wire

/// Frames built with Wire's builders, each with the fields tshark must
/// decode from it: (tshark field, occurrence, value Wire was asked for).
/// Quoted headers inside ICMP errors nest inside the ICMP layer, where
/// tshark's JSON keeps no order: they use `anyOccurrence`.
struct WireBuiltFrame {
  let name: String
  let bytes: [UInt8]
  let expected: [(field: String, occurrence: Int, value: String)]
}

let anyOccurrence = -1

enum WireBuiltFrames {
  static let macA = MACAddress(0x02, 0, 0, 0, 0, 0x0a)
  static let macB = MACAddress(0x02, 0, 0, 0, 0, 0x0b)
  static let v4A = IPv4Address(10, 1, 0, 1)
  static let v4B = IPv4Address(10, 1, 0, 2)
  static let v6A = IPv6Address("2001:db8::a")!
  static let v6B = IPv6Address("2001:db8::b")!

  static func ethernet(
    _ f: inout FrameComposer, _ type: EtherType, destination: MACAddress = macB, source: MACAddress = macA
  ) {
    f.append(14) { EthernetHeader(destination: destination, source: source, etherType: type).emit(into: $0) }
  }

  /// IPv4 header at `offset` with the upper layer's checksum filled.
  static func finishIPv4(_ f: inout FrameComposer, at offset: Int) {
    f.edit(from: offset) { b in
      let ip = IPv4Packet(unchecked: b)
      switch ip.protocol {
      case .udp: UDPDatagram(unchecked: ip.payload).fillChecksum(pseudoHeaderSum: ip.pseudoHeaderSum)
      case .tcp: TCPSegment(unchecked: ip.payload).fillChecksum(pseudoHeaderSum: ip.pseudoHeaderSum)
      case .icmp: ICMPv4Message(unchecked: ip.payload).fillChecksum()
      default: break
      }
    }
  }

  static func finishIPv6(_ f: inout FrameComposer, at offset: Int, upperOffset: Int = 0) {
    f.edit(from: offset) { b in
      let ip = IPv6Packet(unchecked: b)
      let payload = ip.payload
      let upper = UnsafeMutableRawBufferPointer(rebasing: payload[upperOffset...])
      let walk = try! ip.upperLayer()
      let sum = ip.pseudoHeaderSum(protocol: walk.protocol, length: upper.count)
      switch walk.protocol {
      case .udp: UDPDatagram(unchecked: upper).fillChecksum(pseudoHeaderSum: sum)
      case .tcp: TCPSegment(unchecked: upper).fillChecksum(pseudoHeaderSum: sum)
      case .icmpv6: ICMPv6Message(unchecked: upper).fillChecksum(pseudoHeaderSum: sum)
      default: break
      }
    }
  }

  static var all: [WireBuiltFrame] {
    [
      vxlanTCP(), geneveUDP(), qinqARP(), fragmentationNeeded(), neighborSolicitation(), ipv6Fragment(),
      esp(), tls(),
      packetTooBig(),
    ]
  }

  static func vxlanTCP() -> WireBuiltFrame {
    let tcp = TCPHeader(
      sourcePort: 40000, destinationPort: 22, sequenceNumber: 123_456_789, flags: .syn, window: 29200,
      maximumSegmentSize: 1400, windowScale: 7, sackPermitted: true,
      timestamps: TCPTimestamps(value: 3, echoReply: 4))
    var inner = FrameComposer()
    ethernet(&inner, .ipv6, destination: MACAddress(2, 0, 0, 0, 1, 2), source: MACAddress(2, 0, 0, 0, 1, 1))
    inner.append(40) {
      IPv6Header(
        source: v6A, destination: v6B, nextHeader: .tcp, payloadLength: tcp.headerLength, hopLimit: 33
      ).emit(into: $0)
    }
    inner.append(tcp.headerLength) { tcp.emit(into: $0) }
    finishIPv6(&inner, at: 14)
    var f = FrameComposer()
    ethernet(&f, .vlan)
    f.append(4) { VLANTagHeader(priority: 5, vlanID: 42, etherType: .ipv4).emit(into: $0) }
    let udpLength = 8 + 8 + inner.bytes.count
    f.append(20) {
      IPv4Header(
        source: v4A, destination: v4B, protocol: .udp, payloadLength: udpLength, timeToLive: 31,
        identification: 99
      ).emit(into: $0)
    }
    f.append(8) {
      UDPHeader(sourcePort: 49152, destinationPort: VXLANPacket.udpPort, payloadLength: udpLength - 8).emit(
        into: $0)
    }
    f.append(8) { VXLANHeader(vni: 0x123456).emit(into: $0) }
    f.append(inner.bytes)
    finishIPv4(&f, at: 18)
    return WireBuiltFrame(
      name: "vxlan/ipv6/tcp", bytes: f.bytes,
      expected: [
        ("eth.dst", 0, "02:00:00:00:00:0b"), ("eth.src", 0, "02:00:00:00:00:0a"), ("vlan.id", 0, "42"),
        ("vlan.priority", 0, "5"), ("ip.src", 0, "10.1.0.1"), ("ip.dst", 0, "10.1.0.2"), ("ip.ttl", 0, "31"),
        ("ip.id", 0, "99"), ("ip.len", 0, "\(20 + udpLength)"), ("ip.checksum.status", 0, "1"),
        ("udp.srcport", 0, "49152"),
        ("udp.dstport", 0, "4789"), ("udp.length", 0, "\(udpLength)"), ("udp.checksum.status", 0, "1"),
        ("vxlan.vni", 0, "1193046"), ("vxlan.flag_i", 0, "1"), ("eth.dst", 1, "02:00:00:00:01:02"),
        ("ipv6.src", 0, "2001:db8::a"), ("ipv6.dst", 0, "2001:db8::b"), ("ipv6.hlim", 0, "33"),
        ("tcp.srcport", 0, "40000"),
        ("tcp.dstport", 0, "22"), ("tcp.seq_raw", 0, "123456789"), ("tcp.flags.syn", 0, "1"),
        ("tcp.flags.ack", 0, "0"),
        ("tcp.window_size_value", 0, "29200"), ("tcp.hdr_len", 0, "\(tcp.headerLength)"),
        ("tcp.options.mss_val", 0, "1400"),
        ("tcp.options.wscale.shift", 0, "7"), ("tcp.options.sack_perm", 0, "04:02"),
        ("tcp.options.timestamp.tsval", 0, "3"),
        ("tcp.options.timestamp.tsecr", 0, "4"), ("tcp.checksum.status", 0, "1"),
      ])
  }

  static func geneveUDP() -> WireBuiltFrame {
    var inner = FrameComposer()
    ethernet(&inner, .ipv4)
    inner.append(20) {
      IPv4Header(
        source: IPv4Address(192, 168, 1, 1), destination: IPv4Address(192, 168, 1, 2), protocol: .udp,
        payloadLength: 11
      ).emit(into: $0)
    }
    inner.append(8) { UDPHeader(sourcePort: 1234, destinationPort: 80, payloadLength: 3).emit(into: $0) }
    inner.append([1, 2, 3])
    finishIPv4(&inner, at: 14)
    let option = GeneveOptionHeader(optionClass: 0x0102, type: 0x80, dataLength: 4)
    let geneve = GeneveHeader(vni: 0xabcdef, optionsLength: option.length, hasCriticalOptions: true)
    var f = FrameComposer()
    ethernet(&f, .ipv4)
    let udpLength = 8 + geneve.headerLength + inner.bytes.count
    f.append(20) {
      IPv4Header(source: v4A, destination: v4B, protocol: .udp, payloadLength: udpLength).emit(into: $0)
    }
    f.append(8) {
      UDPHeader(sourcePort: 49153, destinationPort: GenevePacket.udpPort, payloadLength: udpLength - 8).emit(
        into: $0)
    }
    f.append(8) { geneve.emit(into: $0) }
    f.append(option.length) { option.emit(into: $0) }
    f.bytes[(f.bytes.count - 4)...] = [9, 8, 7, 6]
    f.append(inner.bytes)
    finishIPv4(&f, at: 14)
    return WireBuiltFrame(
      name: "geneve/ipv4/udp", bytes: f.bytes,
      expected: [
        ("udp.dstport", 0, "6081"), ("udp.checksum.status", 0, "1"), ("geneve.version", 0, "0"),
        ("geneve.vni", 0, "0xabcdef"),
        ("geneve.flags.critical", 0, "1"), ("geneve.flags.oam", 0, "0"), ("geneve.proto_type", 0, "0x6558"),
        ("geneve.option.class", 0, "0x0102"), ("geneve.option.type", 0, "0x80"),
        ("geneve.option.length", 0, "8"),
        ("geneve.option.unknown.data", 0, "09:08:07:06"), ("ip.src", 1, "192.168.1.1"),
        ("ip.checksum.status", 1, "1"),
        ("udp.dstport", 1, "80"), ("udp.checksum.status", 1, "1"),
      ])
  }

  static func qinqARP() -> WireBuiltFrame {
    var f = FrameComposer()
    ethernet(&f, .qinq, destination: .broadcast)
    f.append(4) { VLANTagHeader(vlanID: 100, etherType: .vlan).emit(into: $0) }
    f.append(4) {
      VLANTagHeader(priority: 3, dropEligible: true, vlanID: 200, etherType: .arp).emit(into: $0)
    }
    f.append(28) {
      ARPHeader(
        operation: .reply, senderHardwareAddress: macA, senderProtocolAddress: v4A,
        targetHardwareAddress: macB, targetProtocolAddress: v4B
      )
      .emit(into: $0)
    }
    return WireBuiltFrame(
      name: "qinq/arp", bytes: f.bytes,
      expected: [
        ("eth.type", 0, "0x88a8"), ("ieee8021ad.id", 0, "100"), ("vlan.id", 0, "200"),
        ("vlan.priority", 0, "3"), ("vlan.dei", 0, "1"),
        ("arp.opcode", 0, "2"), ("arp.src.hw_mac", 0, "02:00:00:00:00:0a"),
        ("arp.src.proto_ipv4", 0, "10.1.0.1"),
        ("arp.dst.hw_mac", 0, "02:00:00:00:00:0b"), ("arp.dst.proto_ipv4", 0, "10.1.0.2"),
      ])
  }

  static func fragmentationNeeded() -> WireBuiltFrame {
    var quoted = FrameComposer()
    quoted.append(20) {
      IPv4Header(
        source: v4B, destination: IPv4Address(10, 9, 9, 9), protocol: .udp, payloadLength: 1472,
        dontFragment: true
      ).emit(into: $0)
    }
    quoted.append(8) {
      UDPHeader(sourcePort: 1000, destinationPort: 2000, payloadLength: 1464).emit(into: $0)
    }
    var f = FrameComposer()
    ethernet(&f, .ipv4)
    f.append(20) {
      IPv4Header(source: v4A, destination: v4B, protocol: .icmp, payloadLength: 8 + quoted.bytes.count).emit(
        into: $0)
    }
    f.append(8) { _ in }
    f.append(quoted.bytes)
    f.edit(from: 34) { ICMPv4Header.fragmentationNeeded(nextHopMTU: 1400).emit(into: $0) }
    return WireBuiltFrame(
      name: "icmp/frag-needed", bytes: f.bytes,
      expected: [
        ("icmp.type", 0, "3"), ("icmp.code", 0, "4"), ("icmp.mtu", 0, "1400"),
        ("icmp.checksum.status", 0, "1"),
        ("ip.dst", anyOccurrence, "10.9.9.9"), ("ip.flags.df", anyOccurrence, "1"),
        ("udp.dstport", 0, "2000"),
      ])
  }

  static func neighborSolicitation() -> WireBuiltFrame {
    let target = IPv6Address("2001:db8::b")!
    var f = FrameComposer()
    ethernet(&f, .ipv6, destination: MACAddress(0x33, 0x33, 0xff, 0, 0, 0x0b))
    f.append(40) {
      IPv6Header(
        source: v6A, destination: target.solicitedNodeMulticast, nextHeader: .icmpv6, payloadLength: 32,
        hopLimit: 255
      ).emit(into: $0)
    }
    f.append(24) { ICMPv6Header.neighborSolicitation(target: target).emit(into: $0) }
    f.append(8) {
      NDPLinkLayerAddressOption(type: NDPOptions.OptionType.sourceLinkLayerAddress, address: macA).emit(
        into: $0)
    }
    finishIPv6(&f, at: 14)
    return WireBuiltFrame(
      name: "icmpv6/ns", bytes: f.bytes,
      expected: [
        ("ipv6.dst", 0, "ff02::1:ff00:b"), ("icmpv6.type", 0, "135"),
        ("icmpv6.nd.ns.target_address", 0, "2001:db8::b"),
        ("icmpv6.opt.src_linkaddr", 0, "02:00:00:00:00:0a"), ("icmpv6.checksum.status", 0, "1"),
      ])
  }

  static func packetTooBig() -> WireBuiltFrame {
    var f = FrameComposer()
    ethernet(&f, .ipv6)
    f.append(40) {
      IPv6Header(source: v6A, destination: v6B, nextHeader: .icmpv6, payloadLength: 8 + 48).emit(into: $0)
    }
    f.append(8) { ICMPv6Header.packetTooBig(mtu: 1280).emit(into: $0) }
    f.append(40) {
      IPv6Header(
        source: v6B, destination: IPv6Address("2001:db8::99")!, nextHeader: .udp, payloadLength: 1400
      ).emit(into: $0)
    }
    f.append(8) { UDPHeader(sourcePort: 7, destinationPort: 8, payloadLength: 1392).emit(into: $0) }
    finishIPv6(&f, at: 14)
    return WireBuiltFrame(
      name: "icmpv6/packet-too-big", bytes: f.bytes,
      expected: [
        ("icmpv6.type", 0, "2"), ("icmpv6.mtu", 0, "1280"), ("icmpv6.checksum.status", 0, "1"),
        ("ipv6.dst", anyOccurrence, "2001:db8::99"),
      ])
  }

  static func ipv6Fragment() -> WireBuiltFrame {
    var f = FrameComposer()
    ethernet(&f, .ipv6)
    f.append(40) {
      IPv6Header(source: v6A, destination: v6B, nextHeader: .hopByHop, payloadLength: 8 + 8 + 8 + 4).emit(
        into: $0)
    }
    f.append(8) { IPv6OptionsHeader(nextHeader: .fragment).emit(into: $0) }
    f.append(8) {
      IPv6FragmentHeader(nextHeader: .udp, fragmentByteOffset: 0, moreFragments: true, identification: 0xfeed)
        .emit(into: $0)
    }
    f.append(8) { UDPHeader(sourcePort: 53, destinationPort: 5353, payloadLength: 100).emit(into: $0) }
    f.append([0, 0, 0, 0])
    return WireBuiltFrame(
      name: "ipv6/hbh/fragment", bytes: f.bytes,
      expected: [
        ("ipv6.nxt", 0, "0"), ("ipv6.fraghdr.ident", 0, "0x0000feed"), ("ipv6.fraghdr.more", 0, "1"),
        ("ipv6.fraghdr.offset", 0, "0"), ("ipv6.fraghdr.nxt", 0, "17"),
      ])
  }

  static func esp() -> WireBuiltFrame {
    var f = FrameComposer()
    ethernet(&f, .ipv4)
    f.append(20) {
      IPv4Header(source: v4A, destination: v4B, protocol: .esp, payloadLength: 8 + 32).emit(into: $0)
    }
    f.append(8) { ESPHeader(spi: 0x1000_0001, sequenceNumber: 42).emit(into: $0) }
    f.append([UInt8](repeating: 0xa5, count: 32))
    return WireBuiltFrame(
      name: "esp", bytes: f.bytes,
      expected: [
        ("ip.proto", 0, "50"), ("esp.spi", 0, "0x10000001"), ("esp.sequence", 0, "42"),
      ])
  }

  static func tls() -> WireBuiltFrame {
    let body = [UInt8](repeating: 0x77, count: 37)
    let tcp = TCPHeader(
      sourcePort: 50000, destinationPort: 443, sequenceNumber: 1, acknowledgmentNumber: 1,
      flags: [.psh, .ack], window: 512)
    var f = FrameComposer()
    ethernet(&f, .ipv4)
    f.append(20) {
      IPv4Header(
        source: v4A, destination: v4B, protocol: .tcp, payloadLength: tcp.headerLength + 5 + body.count
      ).emit(into: $0)
    }
    f.append(tcp.headerLength) { tcp.emit(into: $0) }
    f.append(5) { TLSRecordHeader(contentType: .applicationData, length: body.count).emit(into: $0) }
    f.append(body)
    finishIPv4(&f, at: 14)
    return WireBuiltFrame(
      name: "tls record", bytes: f.bytes,
      expected: [
        ("tcp.flags.push", 0, "1"), ("tcp.checksum.status", 0, "1"), ("tls.record.content_type", 0, "23"),
        ("tls.record.version", 0, "0x0303"), ("tls.record.length", 0, "37"),
      ])
  }
}
