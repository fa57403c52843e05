import Wire

/// Reads a frame with Wire's views and names every field the way the
/// oracle scripts do ("ip.ttl", "inner.tcp.opt.mss", ...), values as
/// decimal text. What Wire cannot parse is reported under "error".
struct WireFields {
  private(set) var values: [String: String] = [:]

  init(frame: [UInt8]) {
    var copy = frame
    copy.withUnsafeMutableBytes { bytes in
      do throws(WireError) {
        try describeFrame(bytes, prefix: "")
        // The parser must agree that the frame is well formed.
        _ = try PacketParser.parse(UnsafeRawBufferPointer(bytes))
      } catch {
        values["error"] = error.description
      }
    }
  }

  private mutating func put(_ key: String, _ value: some CustomStringConvertible) {
    values[key] = value.description
  }

  private mutating func put(_ key: String, _ flag: Bool) {
    values[key] = flag ? "1" : "0"
  }

  private mutating func describeFrame(_ bytes: UnsafeMutableRawBufferPointer, prefix p: String)
    throws(WireError)
  {
    let eth = try EthernetFrame(checking: bytes)
    put(p + "eth.dst", eth.destination)
    put(p + "eth.src", eth.source)
    var type = eth.etherType
    var rest = eth.payload
    var tags = 0
    while type.isVLANTag {
      let tag = try VLANTag(checking: rest)
      put(p + "vlan\(tags).id", tag.vlanID)
      put(p + "vlan\(tags).prio", tag.priority)
      put(p + "vlan\(tags).dei", tag.dropEligible)
      type = tag.etherType
      rest = tag.payload
      tags += 1
    }
    put(p + "eth.type", type.rawValue)
    switch type {
    case .arp:
      let arp = try ARPPacket(checking: rest)
      put(p + "arp.op", arp.operation)
      put(p + "arp.hwsrc", arp.senderHardwareAddress)
      put(p + "arp.psrc", arp.senderProtocolAddress)
      put(p + "arp.hwdst", arp.targetHardwareAddress)
      put(p + "arp.pdst", arp.targetProtocolAddress)
    case .ipv4:
      let ip = try IPv4Packet(checking: rest)
      put(p + "ip.ihl", ip.headerLength)
      put(p + "ip.tos", ip.dscp << 2 | ip.ecn)
      put(p + "ip.len", ip.totalLength)
      put(p + "ip.id", ip.identification)
      put(p + "ip.df", ip.dontFragment)
      put(p + "ip.mf", ip.moreFragments)
      put(p + "ip.frag", ip.fragmentOffset)
      put(p + "ip.ttl", ip.timeToLive)
      put(p + "ip.proto", ip.protocol.rawValue)
      put(p + "ip.chksum_ok", ip.isChecksumValid)
      put(p + "ip.src", ip.source)
      put(p + "ip.dst", ip.destination)
      if ip.fragmentOffset == 0 {
        try describeUpperLayer(
          ip.payload, protocol: ip.protocol, pseudoHeaderSum: ip.pseudoHeaderSum, prefix: p)
      }
    case .ipv6:
      let ip = try IPv6Packet(checking: rest)
      put(p + "ipv6.tc", ip.trafficClass)
      put(p + "ipv6.fl", ip.flowLabel)
      put(p + "ipv6.plen", ip.payloadLength)
      put(p + "ipv6.nh", ip.nextHeader.rawValue)
      put(p + "ipv6.hlim", ip.hopLimit)
      put(p + "ipv6.src", ip.source)
      put(p + "ipv6.dst", ip.destination)
      let upper = try ip.upperLayer()
      put(p + "ipv6.exthdrs", upper.extensionHeaderCount)
      put(p + "ipv6.upper", upper.protocol.rawValue)
      put(p + "ipv6.upper_offset", upper.offset)
      if upper.isFragment {
        put(p + "ipv6.frag.offset", upper.fragmentByteOffset)
        put(p + "ipv6.frag.m", upper.moreFragments)
        put(p + "ipv6.frag.id", upper.fragmentIdentification)
      }
      if upper.fragmentByteOffset == 0 {
        let payload = ip.payload
        let bytes = UnsafeMutableRawBufferPointer(rebasing: payload[upper.offset...])
        // RFC 8200 §8.1: the checksummed length excludes extension headers
        // (and a routing header's final destination would replace the
        // destination; the oracle packets end their routing headers with
        // segments left 0, so the destination is final).
        let sum = ip.pseudoHeaderSum(protocol: upper.protocol, length: bytes.count)
        try describeUpperLayer(bytes, protocol: upper.protocol, pseudoHeaderSum: sum, prefix: p)
      }
    default:
      break
    }
  }

  private mutating func describeUpperLayer(
    _ bytes: UnsafeMutableRawBufferPointer, protocol proto: IPProtocol, pseudoHeaderSum: UInt32,
    prefix p: String
  ) throws(WireError) {
    switch proto {
    case .udp:
      let udp = try UDPDatagram(checking: bytes)
      put(p + "udp.sport", udp.sourcePort)
      put(p + "udp.dport", udp.destinationPort)
      put(p + "udp.len", udp.length)
      put(p + "udp.chksum_ok", udp.isChecksumValid(pseudoHeaderSum: pseudoHeaderSum))
      if udp.destinationPort == VXLANPacket.udpPort {
        let vxlan = try VXLANPacket(checking: udp.payload)
        put(p + "vxlan.flags", vxlan.flags)
        put(p + "vxlan.vni", vxlan.vni)
        try describeFrame(vxlan.payload, prefix: "inner.")
      } else if udp.destinationPort == GenevePacket.udpPort {
        let geneve = try GenevePacket(checking: udp.payload)
        put(p + "geneve.ver", geneve.version)
        put(p + "geneve.optlen", geneve.optionsLength)
        put(p + "geneve.oam", geneve.isOAM)
        put(p + "geneve.critical", geneve.hasCriticalOptions)
        put(p + "geneve.proto", geneve.protocolType.rawValue)
        put(p + "geneve.vni", geneve.vni)
        var options = geneve.options
        var list: [String] = []
        while let option = try options.next() {
          list.append("\(option.optionClass):\(option.type):" + hex(option.data))
        }
        put(p + "geneve.options", list.joined(separator: ";"))
        if geneve.protocolType == .transparentEthernetBridging {
          try describeFrame(geneve.payload, prefix: "inner.")
        }
      }
    case .tcp:
      let tcp = try TCPSegment(checking: bytes)
      put(p + "tcp.sport", tcp.sourcePort)
      put(p + "tcp.dport", tcp.destinationPort)
      put(p + "tcp.seq", tcp.sequenceNumber)
      put(p + "tcp.ack", tcp.acknowledgmentNumber)
      put(p + "tcp.dataofs", tcp.headerLength)
      put(p + "tcp.flags", tcp.flags.rawValue)
      put(p + "tcp.window", tcp.window)
      put(p + "tcp.urgptr", tcp.urgentPointer)
      put(p + "tcp.chksum_ok", tcp.isChecksumValid(pseudoHeaderSum: pseudoHeaderSum))
      var options = tcp.options
      while let option = try options.next() {
        switch option {
        case .maximumSegmentSize(let mss): put(p + "tcp.opt.mss", mss)
        case .windowScale(let shift): put(p + "tcp.opt.wscale", shift)
        case .sackPermitted: put(p + "tcp.opt.sackok", true)
        case .timestamps(let ts):
          put(p + "tcp.opt.ts_val", ts.value)
          put(p + "tcp.opt.ts_ecr", ts.echoReply)
        case .sack(let blocks):
          put(
            p + "tcp.opt.sack",
            (0..<blocks.count).map { "\(blocks.block($0).left)-\(blocks.block($0).right)" }.joined(
              separator: ","))
        case .noOperation, .unknown: break
        }
      }
      if !tcp.payload.isEmpty, let record = try? TLSRecord(checking: tcp.payload) {
        put(p + "tls.type", record.contentType.rawValue)
        put(p + "tls.version", record.legacyVersion)
        put(p + "tls.len", record.length)
      }
    case .icmp:
      let icmp = try ICMPv4Message(checking: bytes)
      put(p + "icmp.type", icmp.type)
      put(p + "icmp.code", icmp.code)
      put(p + "icmp.chksum_ok", icmp.isChecksumValid)
      if icmp.isEcho {
        put(p + "icmp.id", icmp.identifier)
        put(p + "icmp.seq", icmp.sequenceNumber)
      }
      if icmp.type == ICMPv4Message.MessageType.destinationUnreachable
        && icmp.code == ICMPv4Message.fragmentationNeededCode
      {
        put(p + "icmp.nexthopmtu", icmp.nextHopMTU)
      }
      if icmp.isError {
        let quoted = try icmp.invokingPacketHeader()
        put(p + "icmp.quoted.src", quoted.source)
        put(p + "icmp.quoted.dst", quoted.destination)
        put(p + "icmp.quoted.proto", quoted.protocol.rawValue)
      }
    case .icmpv6:
      let icmp = try ICMPv6Message(checking: bytes)
      typealias T = ICMPv6Message.MessageType
      put(p + "icmpv6.type", icmp.type)
      put(p + "icmpv6.code", icmp.code)
      put(p + "icmpv6.chksum_ok", icmp.isChecksumValid(pseudoHeaderSum: pseudoHeaderSum))
      switch icmp.type {
      case T.echoRequest, T.echoReply:
        put(p + "icmpv6.id", icmp.identifier)
        put(p + "icmpv6.seq", icmp.sequenceNumber)
      case T.packetTooBig:
        put(p + "icmpv6.mtu", icmp.mtu)
      case T.neighborSolicitation:
        put(p + "icmpv6.tgt", icmp.targetAddress)
      case T.neighborAdvertisement:
        put(p + "icmpv6.tgt", icmp.targetAddress)
        put(p + "icmpv6.na.flags", icmp.neighborFlags)
      case T.routerAdvertisement:
        put(p + "icmpv6.ra.chlim", icmp.currentHopLimit)
        put(p + "icmpv6.ra.routerlifetime", icmp.routerLifetime)
        put(p + "icmpv6.ra.reachabletime", icmp.reachableTime)
        put(p + "icmpv6.ra.retranstimer", icmp.retransmitTimer)
      default: break
      }
      if let mac = try icmp.options.linkLayerAddress(ofType: NDPOptions.OptionType.sourceLinkLayerAddress) {
        put(p + "icmpv6.opt.src_lladdr", mac)
      }
      if let mac = try icmp.options.linkLayerAddress(ofType: NDPOptions.OptionType.targetLinkLayerAddress) {
        put(p + "icmpv6.opt.tgt_lladdr", mac)
      }
    case .esp:
      let esp = try ESPPacket(checking: bytes)
      put(p + "esp.spi", esp.spi)
      put(p + "esp.seq", esp.sequenceNumber)
      // NULL encryption, no ICV: the ESP payload is the plaintext.
      if let trailer = try? ESPTrailer(checking: esp.payload) {
        put(p + "esp.trailer.padlen", trailer.padLength)
        put(p + "esp.trailer.nh", trailer.nextHeader.rawValue)
      }
    default:
      break
    }
  }

  private func hex(_ bytes: UnsafeRawBufferPointer) -> String {
    let digits = Array("0123456789abcdef")
    return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xf)]] })
  }
}
