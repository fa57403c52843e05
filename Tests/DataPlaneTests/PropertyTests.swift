import Testing
import Wire

@testable import DataPlane

@Suite struct PropertyTests {
  /// The same random traffic through the slow path only and through the
  /// flow cache gives the same output, packet for packet.
  @Test func fastPathMatchesSlowPath() throws {
    for seed: UInt64 in [1, 2, 3, 4] {
      let (mismatches, fast) = try differential(seed: seed, batches: 400)
      #expect(mismatches == 0, "seed \(seed)")
      #expect(fast.plane.flows.count > 0)
    }
  }

  /// The same with a flow table too small for the traffic (64 slots, most
  /// of them full): lookups run past the two slots pass 1 prefetches and
  /// finish after the rest of their batch, and misses walk long runs; the
  /// output is still the slow path's, packet for packet.
  @Test func fastPathMatchesSlowPathWithLongProbeRuns() throws {
    for seed: UInt64 in [5, 6] {
      let (mismatches, fast) = try differential(seed: seed, batches: 300, flowCapacity: 64)
      #expect(mismatches == 0, "seed \(seed)")
      #expect(fast.plane.flows.count > 32, "seed \(seed): the small table fills")
      #expect(fast.plane.resumedLookups > 0, "seed \(seed): some lookups went past the prefetched slots")
    }
  }

  /// Random traffic of a random world (from `seed`), `batches` batches of
  /// 32, through a plane with the flow cache off and one with it on: the
  /// packets whose outputs differ, and the cached plane.
  func differential(seed: UInt64, batches: Int, flowCapacity: Int = 4096) throws -> (Int, Harness) {
    var rng = SplitMix64(seed: seed)
    let world = RandomWorld(rng: &rng)
    let slow = try Harness(world.config, cache: false)
    let fast = try Harness(world.config, cache: true, flowCapacity: flowCapacity)
    var mismatches = 0
    for _ in 0..<batches {
      var frames: [(UInt16, [UInt8])] = []
      for _ in 0..<32 { frames.append(world.frame(&rng)) }
      let a = slow.run(frames)
      let b = fast.run(frames)
      for i in 0..<a.count where a[i] != b[i] { mismatches += 1 }
      slow.now += 10_000_000
      fast.now += 10_000_000
    }
    return (mismatches, fast)
  }

  /// Isolation: whatever arrives, no packet reaches a NIC of another VPC
  /// and none leaves with a VNI other than its VPC's.
  @Test func noPacketCrossesTenants() throws {
    let total = 1_000_000
    var sent = 0
    var seed: UInt64 = 0xbadc_0ffe
    while sent < total {
      seed &+= 1
      var rng = SplitMix64(seed: seed)
      let world = RandomWorld(rng: &rng)
      let h = try Harness(world.config)
      let byPort = Dictionary(uniqueKeysWithValues: world.localEndpoints.map { ($0.nic.port, $0) })
      let vniOfVPC = Dictionary(uniqueKeysWithValues: world.config.vpcs.map { ($0.id, $0.vni) })
      var violations = 0
      var forwarded = 0
      // Frames are made once per world and replayed in random order (the
      // pipeline, not frame building, is what this test spends time on).
      let made = (0..<512).map { _ in world.frame(&rng) }
      for _ in 0..<(16_384 / 32) {
        var frames: [(UInt16, [UInt8])] = []
        for _ in 0..<32 { frames.append(made[Int(rng.next() % UInt64(made.count))]) }
        let outputs = h.run(frames)
        for (i, out) in outputs.enumerated() where out.verdict == .forward {
          forwarded += 1
          let (inPort, inBytes) = frames[i]
          if out.port == inPort { continue }  // a local-service reply
          guard let p = parse(out.bytes) else {
            violations += 1
            continue
          }
          if inPort != 0 {
            let sender = byPort[inPort]!
            if out.port == 0 {
              if p.vni != vniOfVPC[sender.vpc.id] { violations += 1 }
              let reachable = world.endpoints.filter { $0.vpc.id == sender.vpc.id }.map { $0.nic.card }
              if !reachable.contains(p.outer.destination!) { violations += 1 }
            } else if byPort[out.port]?.vpc.id != sender.vpc.id {
              violations += 1
            }
          } else {
            let q = try #require(parse(inBytes))
            guard let receiver = byPort[out.port] else {
              violations += 1
              continue
            }
            if receiver.vpc.vni != q.vni { violations += 1 }
            // The VTEP must host the inner source in that VPC.
            let host = world.endpoints.first {
              $0.vpc.vni == q.vni && .v4($0.nic.primaryIPv4) == q.inner.source
            }
            if host?.nic.card != q.outer.source { violations += 1 }
          }
        }
        sent += frames.count
        h.now += 1_000_000
      }
      #expect(violations == 0, "seed \(seed)")
      #expect(forwarded > 0, "seed \(seed)")
      if violations != 0 { return }
    }
  }

  /// Configuration swapped while flows are cached: the next packet follows
  /// the new tables, and no packet in between is lost.
  @Test func tableUpdateMidStream() throws {
    let h = try Harness()
    let frame = Frames.udp(srcMAC: Fixture.macA1, src: Fixture.ipA1, dst: Fixture.ipB1)
    #expect(h.run(port: 1, frame).port == 0)
    #expect(h.run(port: 1, frame).port == 0)
    // b1 moves to another card.
    var config = Fixture.configuration()
    config.nics[2].card = .v4(IPv4Address(10, 255, 0, 3))
    try h.plane.apply(config)
    #expect(parse(h.run(port: 1, frame).bytes)?.outer.destination == .v4(IPv4Address(10, 255, 0, 3)))
    // Then a blackhole route for its subnet.
    config.vpcs[0].routeTable = RouteTable(ipv4: [IPv4Route(IPv4Prefix("172.16.2.0/24")!, .blackhole)])
    try h.plane.apply(config)
    #expect(h.run(port: 1, frame).verdict == .drop(.blackholeRoute))
    // A refused configuration leaves the running one in place.
    var bad = config
    bad.vpcs[1].vni = bad.vpcs[0].vni
    #expect(throws: ConfigurationError.duplicateVNI(1001)) { try h.plane.apply(bad) }
    #expect(h.run(port: 1, frame).verdict == .drop(.blackholeRoute))
  }
}
