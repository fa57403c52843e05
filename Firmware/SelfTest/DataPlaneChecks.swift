import DataPlane
import Wire

// The data plane on the card: one guest→underlay Geneve encapsulation and
// one underlay→guest decapsulation through the whole pipeline.

private let dpCard = IPv4Address(10, 255, 0, 1)
private let dpPeerCard = IPv4Address(10, 255, 0, 2)
private let dpGuestMAC = MACAddress(0x02, 0, 0, 0, 0, 0x0a)
private let dpPeerMAC = MACAddress(0x02, 0, 0, 0, 0, 0x0b)
private let dpCardMAC = MACAddress(0x02, 0xca, 0, 0, 0, 1)
private let dpGatewayMAC = MACAddress(0x02, 0, 0x5e, 0, 0, 1)
private let dpGuestIP = IPv4Address(172, 16, 1, 10)
private let dpPeerIP = IPv4Address(172, 16, 1, 20)

private func dpConfiguration() -> NetworkConfiguration {
  let subnet = IPv4Prefix(address: IPv4Address(172, 16, 1, 0), length: 24)!
  return NetworkConfiguration(
    card: CardSettings(
      underlayAddress: .v4(dpCard), underlayMAC: dpCardMAC,
      underlayRouterMAC: MACAddress(0x02, 0xee, 0, 0, 0, 1),
      gatewayMAC: dpGatewayMAC),
    vpcs: [
      VPC(
        id: 1, tenant: 1, ipv4CIDRs: [IPv4Prefix(address: IPv4Address(172, 16, 0, 0), length: 16)!],
        vni: 0x1234)
    ],
    subnets: [Subnet(id: 1, vpc: 1, ipv4: subnet, gatewayIPv4: IPv4Address(172, 16, 1, 1))],
    nics: [
      NIC(
        id: 1, subnet: 1, mac: dpGuestMAC, primaryIPv4: dpGuestIP, securityGroups: [1], card: .v4(dpCard),
        port: 1),
      NIC(
        id: 2, subnet: 1, mac: dpPeerMAC, primaryIPv4: dpPeerIP, securityGroups: [1], card: .v4(dpPeerCard),
        port: 0),
    ],
    securityGroups: [SecurityGroup(id: 1, inbound: [SecurityRule(.any, .securityGroup(1))])])
}

/// An Ethernet/IPv4/UDP frame with 16 payload bytes.
private func dpUDPFrame(
  into b: UnsafeMutableRawBufferPointer, from srcMAC: MACAddress, to dstMAC: MACAddress, _ src: IPv4Address,
  _ dst: IPv4Address
) -> Int {
  EthernetHeader(destination: dstMAC, source: srcMAC, etherType: .ipv4).emit(into: b)
  IPv4Header(source: src, destination: dst, protocol: .udp, payloadLength: 24)
    .emit(into: UnsafeMutableRawBufferPointer(rebasing: b[14...]))
  UDPHeader(sourcePort: 4000, destinationPort: 5000, payloadLength: 16)
    .emit(into: UnsafeMutableRawBufferPointer(rebasing: b[34...]))
  return 14 + 20 + 8 + 16
}

private func dpRun(
  _ plane: DataPlane, _ pool: PacketPool, port: UInt16, _ fill: (UnsafeMutableRawBufferPointer) -> Int
)
  -> (PacketBuffer, ParsedPacket?)?
{
  guard var buffer = pool.take() else { return nil }
  var scratch = [UInt8](repeating: 0, count: 256)
  let length = scratch.withUnsafeMutableBytes { fill($0) }
  _ = scratch.withUnsafeBytes {
    buffer.load(UnsafeRawBufferPointer(rebasing: $0[0..<length]), headroom: pool.headroom)
  }
  buffer.inputPort = port
  var batch = PacketBatch()
  batch.append(buffer)
  plane.process(&batch, now: 1_000_000_000)
  let out = batch[0]
  pool.give(out)
  let parsed = try? PacketParser.parse(UnsafeRawBufferPointer(out.data))
  return (out, parsed)
}

func runDataPlaneChecks() -> Int {
  var failures = 0
  func check(_ name: String, _ ok: Bool) {
    print((ok ? "ok   " : "FAIL ") + "dataplane " + name)
    if !ok { failures += 1 }
  }
  let plane: DataPlane
  do throws(ConfigurationError) {
    plane = try DataPlane(
      configuration: dpConfiguration(), portCount: 8, flowCapacity: 64, connectionCapacity: 64)
  } catch {
    check("configuration: " + error.description, false)
    return failures
  }
  let pool = PacketPool(bufferCount: 4)

  let egress = dpRun(plane, pool, port: 1) {
    dpUDPFrame(into: $0, from: dpGuestMAC, to: dpGatewayMAC, dpGuestIP, dpPeerIP)
  }
  var encapOK = false
  if let (buffer, parsed) = egress, let p = parsed {
    encapOK =
      buffer.verdict == .forward && buffer.outputPort == 0 && p.tunnel == .geneve && p.vni == 0x1234
      && p.outer.destination == .v4(dpPeerCard) && p.inner.destinationMAC == dpPeerMAC
      && p.inner.destination == .v4(dpPeerIP) && p.outer.sourcePort >= 49152
  }
  check("guest to underlay: Geneve encapsulation", encapOK)

  let ingress = dpRun(plane, pool, port: 0) { b in
    let innerLength = dpUDPFrame(
      into: UnsafeMutableRawBufferPointer(rebasing: b[50...]), from: dpPeerMAC, to: dpGuestMAC, dpPeerIP,
      dpGuestIP)
    let udpLength = 8 + 8 + innerLength
    EthernetHeader(destination: dpCardMAC, source: MACAddress(0x02, 0xee, 0, 0, 0, 1), etherType: .ipv4).emit(
      into: b)
    IPv4Header(source: dpPeerCard, destination: dpCard, protocol: .udp, payloadLength: udpLength)
      .emit(into: UnsafeMutableRawBufferPointer(rebasing: b[14...]))
    UDPHeader(sourcePort: 50000, destinationPort: GenevePacket.udpPort, payloadLength: udpLength - 8)
      .emit(into: UnsafeMutableRawBufferPointer(rebasing: b[34...]))
    GeneveHeader(vni: 0x1234).emit(into: UnsafeMutableRawBufferPointer(rebasing: b[42...]))
    return 14 + 20 + udpLength
  }
  var decapOK = false
  if let (buffer, parsed) = ingress, let p = parsed {
    decapOK =
      buffer.verdict == .forward && buffer.outputPort == 1 && p.tunnel == .none && buffer.length == 58
      && p.outer.destinationMAC == dpGuestMAC && p.outer.source == .v4(dpPeerIP)
  }
  check("underlay to guest: Geneve decapsulation", decapOK)
  return failures
}
