// libFuzzer target: every Wire parser over arbitrary bytes. Nothing here may
// trap, read outside the input, or disagree with itself; the properties
// checked with `precondition` are the module's own invariants (a failure is
// our bug, which is what the fuzzer is for).
import Wire

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  // An exact-size copy, so that the address sanitizer sees any read or
  // write past the end of the input.
  let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 1)
  defer { buffer.deallocate() }
  if size > 0 { buffer.copyMemory(from: UnsafeRawBufferPointer(start: data, count: size)) }

  fuzzPacketParser(buffer)
  fuzzViews(buffer)
  fuzzChecksum(UnsafeRawBufferPointer(buffer))
  fuzzTextParsers(UnsafeRawBufferPointer(buffer))
  return 0
}

func fuzzPacketParser(_ buffer: UnsafeMutableRawBufferPointer) {
  guard let parsed = try? PacketParser.parse(UnsafeRawBufferPointer(buffer)) else { return }
  for headers in [parsed.outer, parsed.inner] {
    precondition(headers.networkOffset <= buffer.count && headers.networkEndOffset <= buffer.count)
    precondition(headers.payloadOffset + headers.payloadLength <= buffer.count)
    precondition(headers.transportOffset <= buffer.count)
  }
  precondition(
    parsed.tunnel == .none || parsed.tunnelOffset < buffer.count || parsed.tunnelOffset == buffer.count)
}

/// Each view at offset 0, its accessors and walks.
func fuzzViews(_ b: UnsafeMutableRawBufferPointer) {
  var sink: UInt64 = 0
  if let v = try? EthernetFrame(checking: b) {
    sink &+= v.destination.rawValue &+ UInt64(v.etherType.rawValue) &+ UInt64(v.payload.count)
  }
  if let v = try? VLANTag(checking: b) {
    sink &+= UInt64(v.vlanID) &+ UInt64(v.priority) &+ UInt64(v.payload.count)
  }
  if let v = try? ARPPacket(checking: b) {
    sink &+= UInt64(v.senderProtocolAddress.rawValue) &+ v.targetHardwareAddress.rawValue
  }
  if let v = try? IPv4Packet(checking: b) {
    sink &+=
      UInt64(v.options.count) &+ UInt64(v.payload.count) &+ (v.isChecksumValid ? 1 : 0)
      &+ UInt64(v.pseudoHeaderSum)
    precondition(v.headerLength + v.payload.count == v.totalLength && v.totalLength <= b.count)
    if let icmp = try? ICMPv4Message(checking: v.payload), let quoted = try? icmp.invokingPacketHeader() {
      sink &+= UInt64(quoted.source.rawValue) &+ UInt64(quoted.headerLength)
    }
  }
  if let v = try? IPv6Packet(checking: b) {
    sink &+= v.source.low &+ UInt64(v.flowLabel)
    if let upper = try? v.upperLayer() {
      precondition(upper.offset <= v.payloadLength)
      precondition(upper.extensionHeaderCount <= IPv6UpperLayer.maximumExtensionHeaders)
      sink &+= UInt64(upper.offset)
    }
  }
  if let v = try? ICMPv4Message(checking: b) {
    sink &+= UInt64(v.restOfHeader) &+ (v.isChecksumValid ? 1 : 0)
    if let quoted = try? v.invokingPacketHeader() {
      // The quoted header's payload must stay inside the message.
      sink &+=
        UInt64(quoted.destination.rawValue) &+ UInt64(quoted.payload.count)
        &+ (quoted.isChecksumValid ? 1 : 0)
      sink &+= UInt64(quoted.options.count)
    }
  }
  if let v = try? ICMPv6Message(checking: b) {
    sink &+= UInt64(v.restOfHeader) &+ UInt64(v.payload.count)
    if v.type == ICMPv6Message.MessageType.routerAdvertisement { sink &+= UInt64(v.reachableTime) }
    if v.type == ICMPv6Message.MessageType.neighborAdvertisement { sink &+= v.targetAddress.high }
    var options = v.options
    while let option = try? options.next() {
      sink &+= UInt64(option.data.count) &+ (option.linkLayerAddress?.rawValue ?? 0)
    }
  }
  if let v = try? UDPDatagram(checking: b) {
    precondition(v.headerLength + v.payload.count == v.length)
    sink &+= UInt64(v.payload.count) &+ (v.isChecksumValid(pseudoHeaderSum: 0) ? 1 : 0)
  }
  if let v = try? TCPSegment(checking: b) {
    sink &+= UInt64(v.sequenceNumber) &+ UInt64(v.payload.count) &+ UInt64(v.flags.rawValue)
    var options = v.options
    while let option = try? options.next() {
      switch option {
      case .sack(let blocks):
        for i in 0..<blocks.count { sink &+= UInt64(blocks.block(i).right) }
      case .unknown(_, let data): sink &+= UInt64(data.count)
      case .timestamps(let ts): sink &+= UInt64(ts.value)
      default: sink &+= 1
      }
    }
    if let header = try? TCPHeader(v) { sink &+= UInt64(header.headerLength) }
  }
  if let v = try? VXLANPacket(checking: b) { sink &+= UInt64(v.vni) &+ UInt64(v.payload.count) }
  if let v = try? GenevePacket(checking: b) {
    precondition(v.headerLength + v.payload.count == b.count)
    var options = v.options
    while let option = try? options.next() {
      sink &+= UInt64(option.optionClass) &+ UInt64(option.data.count)
    }
  }
  if let v = try? ESPPacket(checking: b) { sink &+= UInt64(v.spi) &+ UInt64(v.payload.count) }
  if let v = try? ESPTrailer(checking: b) {
    precondition(v.payload.count + v.padLength + ESPTrailer.fixedLength == b.count)
    sink &+= UInt64(v.nextHeader.rawValue)
  }
  if let v = try? TLSRecord(checking: b) {
    precondition(v.fragment.count <= v.length && v.length <= TLSRecord.maximumCiphertextLength)
    sink &+= UInt64(v.fragment.count) &+ (v.isComplete ? 1 : 0)
  }
  blackHole(sink)
}

/// The 64-bit unaligned checksum must equal a plain 16-bit word sum.
func fuzzChecksum(_ b: UnsafeRawBufferPointer) {
  var reference: UInt32 = 0
  var i = 0
  while i < b.count {
    let high = UInt32(b[i]) << 8
    let low = i + 1 < b.count ? UInt32(b[i + 1]) : 0
    reference = reference &+ (high | low)
    i += 2
  }
  while reference > 0xffff { reference = (reference & 0xffff) &+ (reference >> 16) }
  let fast = InternetChecksum.sum(b)
  // One's complement has two zeros.
  precondition(fast == reference || (fast == 0xffff && reference == 0) || (fast == 0 && reference == 0xffff))
}

/// Address and prefix text: whatever parses must print and parse back to
/// the same value.
func fuzzTextParsers(_ b: UnsafeRawBufferPointer) {
  guard b.count <= 64 else { return }
  let text = String(decoding: b, as: UTF8.self)
  if let a = IPv4Address(text) { precondition(IPv4Address(a.description) == a) }
  if let a = IPv6Address(text) { precondition(IPv6Address(a.description) == a) }
  if let a = MACAddress(text) { precondition(MACAddress(a.description) == a) }
  if let p = IPv4Prefix(text) { precondition(IPv4Prefix(p.description) == p && p.contains(p.address)) }
  if let p = IPv6Prefix(text) { precondition(IPv6Prefix(p.description) == p && p.contains(p.address)) }
}

@inline(never)
func blackHole(_ value: UInt64) {
  if value == 0x5eed_5eed_5eed_5eed { print("") }
}
