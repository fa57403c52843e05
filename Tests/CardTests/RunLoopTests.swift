import Card
import CardAgent
import DataPlane
import Management
import Ports
import Testing
import Wire

/// The run loop with in-memory ports: frames go through the real data
/// plane from the uplink ring to a NIC's ring and back.
@Suite struct RunLoopTests {
  static let cardMAC = MACAddress("02:ca:00:00:00:01")!
  static let routerMAC = MACAddress("02:ee:00:00:00:01")!
  static let gatewayMAC = MACAddress("02:00:5e:00:00:01")!
  static let macC = MACAddress("02:00:00:00:0c:01")!
  static let macD = MACAddress("02:00:00:00:0d:01")!

  static func udp(srcMAC: MACAddress, dstMAC: MACAddress, src: IPv4Address, dst: IPv4Address) -> [UInt8] {
    var b = [UInt8](repeating: 0, count: 42 + 8)
    b.withUnsafeMutableBytes { p in
      EthernetHeader(destination: dstMAC, source: srcMAC, etherType: .ipv4).emit(into: p)
      IPv4Header(source: src, destination: dst, protocol: .udp, payloadLength: 16)
        .emit(into: UnsafeMutableRawBufferPointer(rebasing: p[14...]))
      UDPHeader(sourcePort: 40000, destinationPort: 53, payloadLength: 8)
        .emit(into: UnsafeMutableRawBufferPointer(rebasing: p[34...]))
    }
    return b
  }

  @Test func aNICFrameLeavesEncapsulatedThroughTheUplink() throws {
    let config = try ConfigurationFileParser.parse(ConfigurationFileParserTests.example)
    let pool = PacketPool(bufferCount: 256)
    let uplink = RingPort(number: 0, pool: pool)
    let nic = RingPort(number: 2, pool: pool)
    let plane = try DataPlane(configuration: config.network)
    let loop = RunLoop(ports: [uplink, nic], pool: pool, processor: plane)
    let frame = Self.udp(
      srcMAC: Self.macC, dstMAC: Self.gatewayMAC, src: IPv4Address(172, 16, 1, 10),
      dst: IPv4Address(172, 16, 2, 20))
    for _ in 0..<3 { #expect(frame.withUnsafeBytes { nic.inject($0, pool: pool) }) }
    #expect(loop.pollOnce(now: 1_000_000_000) == 3)
    #expect(uplink.outbound.count == 3)
    let out = uplink.outbound.pop()!
    let bytes = out.bytes
    pool.give(out)
    // Ethernet + IPv4 + UDP + VXLAN (RFC 7348 §5) around the original frame.
    #expect(bytes.count == 14 + 20 + 8 + 8 + frame.count)
    #expect(Array(bytes[0..<6]) == [0x02, 0xee, 0, 0, 0, 1])
    #expect(bytes[36] == 0x12 && bytes[37] == 0xb5)  // UDP 4789
    #expect(Array(bytes[30..<34]) == [10, 255, 0, 2])
    #expect(Array(bytes[50...]).count == frame.count)
    uplink.drainOutbound(to: pool)
    #expect(pool.availableCount == 256)
    #expect(loop.statistics.packets == 3)
  }

  @Test func droppedFramesGoBackToThePool() throws {
    let config = try ConfigurationFileParser.parse(ConfigurationFileParserTests.example)
    let pool = PacketPool(bufferCount: 64)
    let uplink = RingPort(number: 0, pool: pool)
    let nic = RingPort(number: 5, pool: pool)
    let plane = try DataPlane(configuration: config.network)
    let loop = RunLoop(ports: [uplink, nic], pool: pool, processor: plane)
    let junk: [UInt8] = [1, 2, 3]
    #expect(junk.withUnsafeBytes { uplink.inject($0, pool: pool) })
    #expect(loop.pollOnce(now: 1) == 1)
    #expect(plane.counters.drops(port: 0, reason: .malformed) == 1)
    #expect(pool.availableCount == 64)
  }

  @Test func portPatchForwardsBothWays() {
    let pool = PacketPool(bufferCount: 128)
    let a = RingPort(number: 0, pool: pool)
    let b = RingPort(number: 1, pool: pool)
    let loop = RunLoop(ports: [a, b], pool: pool, processor: PortPatch(0, 1))
    let frame = [UInt8](repeating: 7, count: 64)
    for _ in 0..<40 { _ = frame.withUnsafeBytes { a.inject($0, pool: pool) } }
    _ = frame.withUnsafeBytes { b.inject($0, pool: pool) }
    #expect(loop.pollOnce(now: 0) == PacketBatch.capacity + 1)
    #expect(loop.pollOnce(now: 0) == 40 - PacketBatch.capacity)
    #expect(b.outbound.count == 40)
    #expect(a.outbound.count == 1)
    #expect(b.statistics.transmittedBytes == 40 * 64)
  }
}

/// The heartbeat's counters as the firmware publishes them: from the run
/// loop's `onControl` hook into the agent's board.
@Suite struct CardCounterBoardTests {
  @Test func theBoardHoldsTheRunLoopsTotals() throws {
    let config = try ConfigurationFileParser.parse(ConfigurationFileParserTests.example)
    let pool = PacketPool(bufferCount: 256)
    let uplink = RingPort(number: 0, pool: pool)
    let nic = RingPort(number: 2, pool: pool)
    let plane = try DataPlane(configuration: config.network)
    let loop = RunLoop(ports: [uplink, nic], pool: pool, processor: plane)
    let board = CardCounterBoard()
    #expect(board.heartbeatCounters().isEmpty)
    let frame = RunLoopTests.udp(
      srcMAC: RunLoopTests.macC, dstMAC: RunLoopTests.gatewayMAC, src: IPv4Address(172, 16, 1, 10),
      dst: IPv4Address(172, 16, 2, 20))
    for _ in 0..<5 { #expect(frame.withUnsafeBytes { nic.inject($0, pool: pool) }) }
    let junk: [UInt8] = [1, 2, 3]
    #expect(junk.withUnsafeBytes { uplink.inject($0, pool: pool) })
    // The loop stops itself once it has seen all six frames and published
    // after them; each publication must hold totals the loop has reached.
    try loop.run(
      signals: nil,
      onControl: {
        board.publish(ports: [uplink, nic], plane: plane, volumes: nil)
        if board.load(.rxPackets) == 6 { loop.stop() }
      },
      onReport: {})
    #expect(board.load(.rxPackets) == 6)
    #expect(board.load(.txPackets) == 5)
    #expect(board.load(.rxBytes) == UInt64(5 * frame.count + junk.count))
    // VXLAN: Ethernet, IPv4, UDP and VXLAN headers around each frame.
    #expect(board.load(.txBytes) == UInt64(5 * (50 + frame.count)))
    #expect(board.load(.pipelineDrops) == 1)
    #expect(board.load(.portDrops) == 0)
    #expect(board.load(.volumeReads) == 0)
    let sent = board.heartbeatCounters()
    #expect(sent.count == CardCounter.allCases.count)
    #expect(sent.first { $0.id == CardCounter.txPackets.rawValue }?.value == 5)
    uplink.drainOutbound(to: pool)
    #expect(pool.availableCount == 256)
  }
}
