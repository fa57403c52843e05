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
  /// the caller has checked headroom and MTU, so lengths stay far below
  /// 2^16 and the arithmetic wraps instead of checking.
  @inline(__always)
  func encapsulate(
    _ buffer: inout PacketBuffer, template index: Int, store: TemplateStore, sourcePort: UInt16
  ) {
    let shape = store.shape(index)
    let innerLength = buffer.length
    buffer.extendFront(uncheckedBy: shape.length)
    // Sound: the template's bytes lie inside the store's allocation and the
    // buffer has `shape.length` bytes of room (checked before). Templates
    // are 50 to 70 bytes (Ethernet, IPv4 or IPv6, UDP, an 8-byte tunnel
    // header): 16-byte vectors at 0, 16 and 32, one more at 48 past 64
    // bytes, and the last 16 bytes (overlapping) cover them without a
    // loop or a call to memmove.
    let target = buffer.storage + buffer.dataOffset
    let source = store.bytes(index)
    let last = shape.length &- 16
    copy16(from: source, to: target, at: 0)
    copy16(from: source, to: target, at: 16)
    copy16(from: source, to: target, at: 32)
    if last > 48 { copy16(from: source, to: target, at: 48) }
    copy16(from: source, to: target, at: last)
    let udpLength = shape.length &- shape.udpOffset &+ innerLength
    let udp = target + shape.udpOffset
    udp.storeBytes(of: sourcePort.bigEndian, toByteOffset: OuterOffset.udpSourcePort, as: UInt16.self)
    udp.storeBytes(
      of: UInt16(truncatingIfNeeded: udpLength).bigEndian, toByteOffset: OuterOffset.udpLength,
      as: UInt16.self)
    if shape.isIPv6 {
      fillIPv6Lengths(buffer.data, shape: shape, udpLength: udpLength)
    } else {
      let ip = target + shape.ipOffset
      let total = UInt32(truncatingIfNeeded: OuterOffset.ipv4HeaderLength &+ udpLength)
      // RFC 1624 eqn. 3 from a total length of 0: HC' = ~(~HC + ~0 + m');
      // the first two terms are the template's `checksumBase`. Both
      // terms are below 2^16, so one fold carries the sum back in.
      var sum = shape.checksumBase &+ total
      sum = (sum & 0xffff) &+ (sum >> 16)
      ip.storeBytes(
        of: (~UInt16(truncatingIfNeeded: sum)).bigEndian, toByteOffset: OuterOffset.ipv4Checksum,
        as: UInt16.self)
      ip.storeBytes(
        of: UInt16(truncatingIfNeeded: total).bigEndian, toByteOffset: OuterOffset.ipv4TotalLength,
        as: UInt16.self)
    }
  }

  @inline(__always)
  func copy16(from source: UnsafeRawPointer, to target: UnsafeMutableRawPointer, at offset: Int) {
    target.storeBytes(
      of: source.loadUnaligned(fromByteOffset: offset, as: SIMD16<UInt8>.self), toByteOffset: offset,
      as: SIMD16<UInt8>.self)
  }

  /// IPv6 outer header: payload length and the UDP checksum, which IPv6
  /// requires (RFC 8200 §8.1). Out of line: the IPv4 path is the common one.
  @inline(never)
  func fillIPv6Lengths(_ data: UnsafeMutableRawBufferPointer, shape: TemplateShape, udpLength: Int) {
    let udp = UDPDatagram(unchecked: data.region(from: shape.udpOffset, count: udpLength))
    let ip = IPv6Packet(
      unchecked: data.region(from: shape.ipOffset, count: IPv6Header.headerLength + udpLength))
    ip.payloadLength = udpLength
    udp.fillChecksum(pseudoHeaderSum: ip.pseudoHeaderSum(protocol: .udp, length: udpLength))
  }
}

/// Offsets of the outer header fields the fast path writes (RFC 791 §3.1,
/// RFC 768), as plain constants: Wire's `Field` constants are another
/// module's globals, reached through an accessor per use.
enum OuterOffset {
  static let ipv4HeaderLength = 20
  static let ipv4TotalLength = 2
  static let ipv4Checksum = 10
  static let udpSourcePort = 0
  static let udpLength = 4
}
