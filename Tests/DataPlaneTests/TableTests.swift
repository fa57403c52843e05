import Testing
import Wire

@testable import DataPlane

@Suite struct PrefixTrieTests {
  @Test func ipv4MatchesLongestPrefixLikeALinearScan() {
    let seed: UInt64 = 0x5eed_0001
    var rng = SplitMix64(seed: seed)
    var routes: [IPv4Route] = []
    for i in 0..<300 {
      let length = Int(rng.next() % 33)
      let prefix = IPv4Prefix(
        address: IPv4Address(rawValue: UInt32(truncatingIfNeeded: rng.next()) & 0x0f0f_ffff), length: length)!
      if !routes.contains(where: { $0.prefix == prefix }) {
        routes.append(IPv4Route(prefix, .nic(id: UInt32(i))))
      }
    }
    let table = CompiledRouteTable(RouteTable(ipv4: routes), implicitIPv4: [], implicitIPv6: [])
    for _ in 0..<20_000 {
      let address = IPv4Address(rawValue: UInt32(truncatingIfNeeded: rng.next()) & 0x0f0f_ffff)
      let expected = routes.filter { $0.prefix.contains(address) }.max {
        $0.prefix.length < $1.prefix.length
      }?.target
      let got = table.route(FlowAddress(address))
      #expect(got == expected, "seed \(seed) address \(address)")
      if got != expected { return }
    }
  }

  @Test func ipv6MatchesLongestPrefixLikeALinearScan() {
    let seed: UInt64 = 0x5eed_0002
    var rng = SplitMix64(seed: seed)
    var routes: [IPv6Route] = []
    for i in 0..<200 {
      let length = Int(rng.next() % 129)
      let a = IPv6Address(high: 0xfd00_0000_0000_0000 | (rng.next() & 0xff_00ff), low: rng.next() & 0xff)
      let prefix = IPv6Prefix(address: a, length: length)!
      if !routes.contains(where: { $0.prefix == prefix }) {
        routes.append(IPv6Route(prefix, .nic(id: UInt32(i))))
      }
    }
    let table = CompiledRouteTable(RouteTable(ipv6: routes), implicitIPv4: [], implicitIPv6: [])
    for _ in 0..<10_000 {
      let a = IPv6Address(high: 0xfd00_0000_0000_0000 | (rng.next() & 0xff_00ff), low: rng.next() & 0xff)
      let expected = routes.filter { $0.prefix.contains(a) }.max { $0.prefix.length < $1.prefix.length }?
        .target
      let got = table.route(FlowAddress(a))
      #expect(got == expected, "seed \(seed) address \(a)")
      if got != expected { return }
    }
  }
}

@Suite struct OpenAddressingTableTests {
  @Test func behavesLikeADictionaryUnderInsertAndRemove() {
    let seed: UInt64 = 0x5eed_0003
    var rng = SplitMix64(seed: seed)
    let table = FlowTable(capacity: 256)
    var model: [FlowKey: UInt32] = [:]
    func key(_ n: UInt64) -> FlowKey {
      FlowKey(
        source: FlowAddress(IPv4Address(rawValue: UInt32(n))), destination: .zero, sourcePort: 1,
        destinationPort: 2,
        protocol: .udp, direction: .egress, portOrVNI: 1, mac: .zero)
    }
    for step in 0..<20_000 {
      let k = key(rng.next() % 300)
      let h = k.hashValue64
      if rng.next() % 3 == 0 {
        if let slot = table.find(k, hash: h) { table.remove(slot: slot) }
        model[k] = nil
      } else if model.count < 180 {
        let slot = table.slotForInsert(k, hash: h)!
        // Generation 0 marks a free slot.
        table.store(
          FlowEntry(key: k, actions: ActionList(), generation: UInt32(step + 1), lastUsed: 0)!, at: slot)
        model[k] = UInt32(step + 1)
      }
      #expect(table.count == model.count, "seed \(seed)")
    }
    for (k, generation) in model {
      let slot = table.find(k, hash: k.hashValue64)
      #expect(slot.map { table.entry(at: $0).pointee.generation } == generation, "seed \(seed)")
    }
  }
}

@Suite struct TokenBucketTests {
  @Test func refillsAtTheRateUpToTheBurst() {
    var bucket = TokenBucket(rate: 10, burst: 5)
    let t0: UInt64 = 1_000_000_000
    var passed = 0
    for _ in 0..<20 where bucket.take(1, now: t0) { passed += 1 }
    #expect(passed == 5)
    let halfToken = bucket.take(1, now: t0 + 50_000_000)  // 0.05 s: half a token
    #expect(!halfToken)
    let oneToken = bucket.take(1, now: t0 + 100_000_000)  // 0.1 s: one token
    #expect(oneToken)
    passed = 0
    for _ in 0..<20 where bucket.take(1, now: t0 + 100_000_000_000) { passed += 1 }
    #expect(passed == 5)  // capped by the burst after a long pause
  }

  @Test func nicPacketRateIsEnforcedOnTheFastPath() throws {
    var config = Fixture.configuration()
    config.nics[0].rateLimit = RateLimit(packetsPerSecond: 100, bitsPerSecond: 0)
    let h = try Harness(config)
    let frame = Frames.udp(srcMAC: Fixture.macA1, src: Fixture.ipA1, dst: Fixture.ipB1)
    let outputs = h.run([(UInt16, [UInt8])](repeating: (1, frame), count: 32))
    // Burst of rate/10 = 10 packets.
    #expect(outputs.filter { $0.verdict == .forward }.count == 10)
    #expect(h.plane.counters.drops(port: 1, reason: .rateLimited) == 22)
    h.now += 100_000_000  // 0.1 s: 10 more
    #expect(
      h.run([(UInt16, [UInt8])](repeating: (1, frame), count: 32)).filter { $0.verdict == .forward }.count
        == 10)
  }
}

@Suite struct ConnectionTrackingTests {
  func entry(_ proto: IPProtocol = .tcp) -> ConnectionEntry {
    ConnectionEntry(
      key: ConnectionKey(
        source: .zero, destination: .zero, sourcePort: 1, destinationPort: 2, protocol: proto, zone: 1),
      state: ConnectionState.initial(protocol: proto, flags: .syn), finSeen: 0, isOccupied: true, serial: 1,
      lastSeen: 0)
  }

  @Test func tcpHandshakeAndClose() {
    var e = entry()
    #expect(e.state == .tcpSynSent)
    e.observe(flags: [.syn, .ack], isReply: true, now: 1)
    #expect(e.state == .tcpSynReceived)
    e.observe(flags: .ack, isReply: false, now: 2)
    #expect(e.state == .tcpEstablished)
    e.observe(flags: [.fin, .ack], isReply: false, now: 3)
    #expect(e.state == .tcpFinWait)
    e.observe(flags: [.fin, .ack], isReply: true, now: 4)
    #expect(e.state == .tcpLastAck)
    e.observe(flags: .ack, isReply: false, now: 5)
    #expect(e.state == .tcpTimeWait)
    #expect(!e.isExpired(now: 5 + 119_000_000_000))
    #expect(e.isExpired(now: 5 + 121_000_000_000))
  }

  @Test func resetClosesAndUDPBecomesReplied() {
    var e = entry()
    e.observe(flags: .rst, isReply: true, now: 1)
    #expect(e.state == .tcpClose)
    #expect(e.isExpired(now: 1 + 11_000_000_000))
    var u = entry(.udp)
    #expect(u.state == .unreplied)
    u.observe(flags: [], isReply: true, now: 1)
    #expect(u.state == .replied)
  }

  @Test func fastPathTracksFinAndRstOfACachedFlow() throws {
    let h = try Harness()
    let syn = Frames.tcp(
      srcMAC: Fixture.macA1, src: Fixture.ipA1, dst: Fixture.ipB1, sport: 1234, dport: 80, flags: .syn)
    _ = h.run(port: 1, syn)
    let ack = Frames.tcp(
      srcMAC: Fixture.macA1, src: Fixture.ipA1, dst: Fixture.ipB1, sport: 1234, dport: 80, flags: .ack)
    _ = h.run(port: 1, ack)
    let rst = Frames.tcp(
      srcMAC: Fixture.macA1, src: Fixture.ipA1, dst: Fixture.ipB1, sport: 1234, dport: 80, flags: .rst)
    #expect(h.run(port: 1, rst).verdict == .forward)
    let key = ConnectionKey(
      source: FlowAddress(Fixture.ipA1), destination: FlowAddress(Fixture.ipB1), sourcePort: 1234,
      destinationPort: 80, protocol: .tcp, zone: 1)
    let slot = try #require(h.plane.connections.find(key, hash: key.hashValue64))
    #expect(h.plane.connections.entry(at: slot).pointee.state == .tcpClose)
    // After the CLOSE timeout the connection is gone and the cached flow
    // punts to the slow path, which opens a new one (outbound is allowed).
    h.now += 11_000_000_000
    #expect(h.run(port: 1, syn).verdict == .forward)
    let again = try #require(h.plane.connections.find(key, hash: key.hashValue64))
    #expect(h.plane.connections.entry(at: again).pointee.state == .tcpSynSent)
  }

  @Test func relatedICMPErrorPassesUnrelatedDoesNot() throws {
    var config = Fixture.configuration()
    config.securityGroups[0] = SecurityGroup(id: 100, inbound: [])
    let h = try Harness(config)
    let sent = Frames.udp(
      srcMAC: Fixture.macA1, src: Fixture.ipA1, dst: Fixture.ipB1, sport: 40000, dport: 53)
    func icmpError(quoting original: [UInt8]) -> [UInt8] {
      let quote = Array(original[14..<(14 + 28)])
      var b = [UInt8](repeating: 0, count: 14 + 20 + 8 + quote.count)
      b.withUnsafeMutableBytes { p in
        EthernetHeader(destination: Fixture.macA1, source: Fixture.macB1, etherType: .ipv4).emit(into: p)
        IPv4Header(
          source: Fixture.ipB1, destination: Fixture.ipA1, protocol: .icmp, payloadLength: 8 + quote.count
        )
        .emit(into: UnsafeMutableRawBufferPointer(rebasing: p[14...]))
        for (i, x) in quote.enumerated() { p[42 + i] = x }
        ICMPv4Header.destinationUnreachable(code: 3).emit(
          into: UnsafeMutableRawBufferPointer(rebasing: p[34...]))
      }
      return Frames.encapsulated(b, vni: 1001, kind: .geneve, from: IPv4Address(10, 255, 0, 2))
    }
    let error = icmpError(quoting: sent)
    #expect(h.run(port: 0, error).verdict == .drop(.securityGroupDenied))
    _ = h.run(port: 1, sent)
    #expect(h.run(port: 0, error).verdict == .forward)
  }
}
