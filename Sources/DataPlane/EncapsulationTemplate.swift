import Wire

/// The outer headers for one (VPC, remote VTEP): Ethernet, IPv4 or IPv6,
/// UDP and the Geneve or VXLAN header with the VNI, built once at
/// configuration time. Per packet only lengths, the UDP source port and
/// checksums change (see `FlowActionExecutor`).
public struct EncapsulationTemplate: Hashable, Sendable {
  public var bytes: [UInt8]
  public var isIPv6: Bool
  public var vni: UInt32
  /// Where the outer IP header and the UDP header start.
  public var ipOffset: Int { EthernetFrame.Field.headerLength }
  public var udpOffset: Int { ipOffset + (isIPv6 ? IPv6Header.headerLength : IPv4Header.headerLength) }
  public var length: Int { bytes.count }

  public init(card: CardSettings, vtep: IPAddress, vni: UInt32, encapsulation: Encapsulation) {
    self.vni = vni
    let tunnelLength = encapsulation.headerLength
    switch (card.underlayAddress, vtep) {
    case (.v6(let source), .v6(let destination)):
      isIPv6 = true
      bytes = [UInt8](repeating: 0, count: 14 + 40 + 8 + tunnelLength)
      bytes.withUnsafeMutableBytes { b in
        EthernetHeader(destination: card.underlayRouterMAC, source: card.underlayMAC, etherType: .ipv6)
          .emit(into: b)
        IPv6Header(source: source, destination: destination, nextHeader: .udp, payloadLength: 0)
          .emit(into: b.region(from: 14, count: 40))
      }
    default:
      // A v4 card with a v6 VTEP (or the reverse) is refused earlier; use v4.
      isIPv6 = false
      var source = IPv4Address.any
      if case .v4(let a) = card.underlayAddress { source = a }
      var destination = IPv4Address.any
      if case .v4(let a) = vtep { destination = a }
      bytes = [UInt8](repeating: 0, count: 14 + 20 + 8 + tunnelLength)
      bytes.withUnsafeMutableBytes { b in
        EthernetHeader(destination: card.underlayRouterMAC, source: card.underlayMAC, etherType: .ipv4)
          .emit(into: b)
        // DF: the card never fragments the underlay; oversized inner packets
        // get ICMP back instead. Checksum over total length 0, patched per
        // packet (RFC 1624).
        IPv4Header(
          source: source, destination: destination, protocol: .udp, payloadLength: 0, dontFragment: true
        )
        .emit(into: b.region(from: 14, count: 20))
        let ip = IPv4Packet(unchecked: b.region(from: 14, count: 20))
        ip.totalLength = 0
        ip.fillChecksum()
      }
    }
    let udp = udpOffset
    bytes.withUnsafeMutableBytes { b in
      UDPHeader(sourcePort: 0, destinationPort: encapsulation.udpPort, payloadLength: 0)
        .emit(into: b.region(from: udp, count: 8))
      let tunnel = b.region(from: udp + 8, count: tunnelLength)
      if encapsulation == .geneve {
        GeneveHeader(vni: vni).emit(into: tunnel)
      } else {
        VXLANHeader(vni: vni).emit(into: tunnel)
      }
    }
  }
}

extension UnsafeMutableRawBufferPointer {
  @usableFromInline
  func region(from start: Int, count: Int) -> UnsafeMutableRawBufferPointer {
    UnsafeMutableRawBufferPointer(start: baseAddress.map { $0 + start }, count: count)
  }
}

/// Where a template's fields are, without its bytes.
public struct TemplateShape: Hashable, Sendable {
  public var length: Int
  public var ipOffset: Int
  public var udpOffset: Int
  public var isIPv6: Bool
  /// IPv4: the first half of RFC 1624 eqn. 3 for the total length's
  /// update from 0, ~HC + ~0 folded, so that a packet adds only its
  /// length (`FlowActionExecutor.encapsulate`). 0 for IPv6.
  public var checksumBase: UInt32
}

/// All templates of one table set in one allocation, so that the fast path
/// copies a template without touching a reference count. Immutable after
/// init; freed with the table set.
public final class TemplateStore {
  @usableFromInline let storage: UnsafeMutableRawPointer
  @usableFromInline let shapes: UnsafeMutablePointer<TemplateShape>
  @usableFromInline let offsets: UnsafeMutablePointer<Int>
  public let count: Int

  init(_ templates: [EncapsulationTemplate]) {
    count = templates.count
    let total = templates.reduce(0) { $0 + $1.length }
    storage = UnsafeMutableRawPointer.allocate(byteCount: max(total, 1), alignment: 64)
    shapes = UnsafeMutablePointer<TemplateShape>.allocate(capacity: max(count, 1))
    offsets = UnsafeMutablePointer<Int>.allocate(capacity: max(count, 1))
    var offset = 0
    for (i, t) in templates.enumerated() {
      // `DataPlane.encapsulate` copies with 16-byte vectors up to 80 bytes.
      precondition(t.length >= 32 && t.length <= 80, "an encapsulation template is 32 to 80 bytes")
      t.bytes.withUnsafeBytes { (storage + offset).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
      var checksumBase: UInt32 = 0
      if !t.isIPv6 {
        let at = t.ipOffset + IPv4Packet.Field.headerChecksum
        let checksum = UInt16(t.bytes[at]) << 8 | UInt16(t.bytes[at + 1])
        checksumBase = InternetChecksum.combine(UInt32(~checksum), UInt32(~UInt16(0)))
      }
      (shapes + i).initialize(
        to: TemplateShape(
          length: t.length, ipOffset: t.ipOffset, udpOffset: t.udpOffset, isIPv6: t.isIPv6,
          checksumBase: checksumBase))
      offsets[i] = offset
      offset += t.length
    }
  }

  deinit {
    storage.deallocate()
    shapes.deinitialize(count: count)
    shapes.deallocate()
    offsets.deallocate()
  }

  /// Indices come from action lists compiled against this store: in range.
  @inlinable public func shape(_ index: Int) -> TemplateShape { shapes[index] }
  @inlinable public func length(_ index: Int) -> Int { shapes[index].length }
  @inlinable public func bytes(_ index: Int) -> UnsafeRawPointer {
    UnsafeRawPointer(storage + offsets[index])
  }
}
