import Wire

extension DataPlane {
  /// Runs a compiled action list on one packet. Returns false when the
  /// packet must go back to the slow path (its connection entry is gone,
  /// or it would exceed the underlay MTU after encapsulation), before any
  /// action has changed the packet or a counter. Per packet.
  func execute(
    _ actions: ActionList, on buffer: inout PacketBuffer, summary: PacketSummary, tables set: TableSet,
    now: UInt64
  ) -> Bool {
    // Checks first, so that a punt leaves no trace.
    for i in 0..<actions.count {
      switch actions[i] {
      case .trackConnection(let ref):
        let entry = connections.entry(at: Int(ref.slot))
        guard entry.pointee.isOccupied, entry.pointee.serial == ref.serial, !entry.pointee.isExpired(now: now)
        else { return false }
      case .encapsulate(let t, _):
        let length = set.templateStore.length(Int(t))
        // The outer IP packet is the template minus Ethernet plus the frame.
        if length - EthernetFrame.Field.headerLength + buffer.length > set.underlayMTU
          || buffer.headroom < length
        {
          return false
        }
      default:
        break
      }
    }
    for i in 0..<actions.count {
      switch actions[i] {
      case .none:
        break
      case .trackConnection(let ref):
        connections.entry(at: Int(ref.slot)).pointee.observe(
          flags: summary.tcpFlags, isReply: ref.isReply, now: now)
      case .meter(let port, let direction):
        if !counters.meter(port: port, direction: direction).pointee.admit(bytes: buffer.length, now: now) {
          drop(&buffer, .rateLimited, port: port)
          return true
        }
      case .decapsulate:
        _ = buffer.removeFront(summary.innerFrameOffset)
      case .encapsulate(let t, let sourcePort):
        encapsulate(&buffer, template: Int(t), store: set.templateStore, sourcePort: sourcePort)
      case .setDestinationMAC(let mac):
        EthernetFrame(unchecked: buffer.data).destination = mac
      case .setSourceMAC(let mac):
        EthernetFrame(unchecked: buffer.data).source = mac
      case .forward(let port):
        buffer.outputPort = port
        buffer.verdict = .forward
      case .drop(let reason):
        drop(&buffer, reason, port: buffer.inputPort)
        return true
      }
    }
    return true
  }

  /// Where the inner Ethernet frame starts: after the tunnel header (and
  /// Geneve options, RFC 8926 §3.4). Per packet.
  func innerFrameOffset(_ parsed: ParsedPacket, _ data: UnsafeMutableRawBufferPointer) -> Int {
    let tunnel = data.region(from: parsed.tunnelOffset, count: data.count - parsed.tunnelOffset)
    if parsed.tunnel == .geneve { return parsed.tunnelOffset + GenevePacket(unchecked: tunnel).headerLength }
    return parsed.tunnelOffset + VXLANPacket.Field.headerLength
  }

  /// Prepends the template and fills the per-packet fields: IP length and
  /// (IPv4) header checksum patched per RFC 1624, UDP source port and
  /// length; the UDP checksum is zero over IPv4 (RFC 7348 §5, RFC 8926
  /// §3.3 allow it) and computed over IPv6 (RFC 8200 §8.1). Per packet;
  /// the caller has checked headroom and MTU.
  @inline(__always)
  func encapsulate(
    _ buffer: inout PacketBuffer, template index: Int, store: TemplateStore, sourcePort: UInt16
  ) {
    let shape = store.shape(index)
    let innerLength = buffer.length
    _ = buffer.prepend(shape.length)
    let data = buffer.data
    // Sound: the template's bytes lie inside the store's allocation and the
    // buffer has `shape.length` bytes of room (checked before); templates
    // are at least 50 bytes, so 16-byte vectors (the last one overlapping
    // its predecessor) cover them without a call to memmove.
    let target = data.baseAddress.unsafelyUnwrapped
    let source = store.bytes(index)
    let last = shape.length &- 16
    var offset = 0
    while offset < last {
      target.storeBytes(
        of: source.loadUnaligned(fromByteOffset: offset, as: SIMD16<UInt8>.self), toByteOffset: offset,
        as: SIMD16<UInt8>.self)
      offset &+= 16
    }
    target.storeBytes(
      of: source.loadUnaligned(fromByteOffset: last, as: SIMD16<UInt8>.self), toByteOffset: last,
      as: SIMD16<UInt8>.self)
    let udpLength = shape.length - shape.udpOffset + innerLength
    let udp = UDPDatagram(unchecked: data.region(from: shape.udpOffset, count: udpLength))
    udp.sourcePort = sourcePort
    udp.length = udpLength
    if shape.isIPv6 {
      let ip = IPv6Packet(
        unchecked: data.region(from: shape.ipOffset, count: IPv6Header.headerLength + udpLength))
      ip.payloadLength = udpLength
      udp.fillChecksum(pseudoHeaderSum: ip.pseudoHeaderSum(protocol: .udp, length: udpLength))
    } else {
      let ip = IPv4Packet(unchecked: data.region(from: shape.ipOffset, count: IPv4Header.headerLength))
      let total = IPv4Header.headerLength + udpLength
      ip.headerChecksum = InternetChecksum.update(
        ip.headerChecksum, replacing: UInt16(0), with: UInt16(total))
      ip.totalLength = total
    }
  }
}
