import Testing
import Wire

@testable import DataPlane

@Suite struct FastClassifierTests {
  /// Whenever the fast classifier gives a key, the full parser accepts the
  /// packet and derives the same key: random frames of the random world,
  /// each also with one byte flipped.
  @Test func agreesWithThePacketParser() {
    let seed: UInt64 = 0x5eed_0004
    var rng = SplitMix64(seed: seed)
    let world = RandomWorld(rng: &rng)
    let card = FlowAddress(RandomWorld.cardA)
    var classified = 0
    for n in 0..<20_000 {
      var (port, bytes) = world.frame(&rng)
      if n % 2 == 1 {
        bytes[Int(rng.next() % UInt64(bytes.count))] ^= UInt8(truncatingIfNeeded: 1 << (rng.next() % 8))
      }
      bytes.withUnsafeMutableBytes { data in
        guard
          let (fastKey, summary) = FastClassifier.classify(
            data, inputPort: port, cardUnderlay: card, cardMAC: Fixture.cardMAC)
        else { return }
        classified += 1
        let parsed = try? PacketParser.parse(UnsafeRawBufferPointer(data))
        #expect(parsed != nil, "seed \(seed) frame \(n)")
        guard let parsed else { return }
        let key = FlowKey(parsed, in: data, inputPort: port, cardUnderlay: card, cardMAC: Fixture.cardMAC)
        #expect(key == fastKey, "seed \(seed) frame \(n)")
        let flags = parsed.hasInnerFrame ? parsed.inner.tcpFlags : parsed.outer.tcpFlags
        #expect(summary.tcpFlags == flags, "seed \(seed) frame \(n)")
        if port == 0 {
          #expect(summary.innerFrameOffset == parsed.inner.networkOffset - 14, "seed \(seed) frame \(n)")
        }
      }
      port = 0
    }
    #expect(classified > 10_000)
  }

  /// Whatever the raw IPv4 classifier accepts, the view-based one accepts
  /// with the same key and summary (and so, by the test above, the full
  /// parser): the same random frames, bit flips included.
  @Test func rawIPv4ClassifierAgreesWithTheViews() {
    let seed: UInt64 = 0x5eed_0005
    var rng = SplitMix64(seed: seed)
    let world = RandomWorld(rng: &rng)
    let card = FlowAddress(RandomWorld.cardA)
    var lane = FastLane.idle
    var accepted = 0
    for n in 0..<20_000 {
      var (port, bytes) = world.frame(&rng)
      if n % 2 == 1 {
        bytes[Int(rng.next() % UInt64(bytes.count))] ^= UInt8(truncatingIfNeeded: 1 << (rng.next() % 8))
      }
      bytes.withUnsafeMutableBytes { data in
        let raw = IPv4FastClassifier.classify(
          data.baseAddress!, count: data.count, inputPort: port, cardUnderlay: card, cardMAC: Fixture.cardMAC,
          into: &lane)
        guard raw else { return }
        accepted += 1
        let viewed = FastClassifier.classify(
          data, inputPort: port, cardUnderlay: card, cardMAC: Fixture.cardMAC)
        #expect(viewed?.0 == lane.key, "seed \(seed) frame \(n)")
        #expect(viewed?.1 == lane.summary, "seed \(seed) frame \(n)")
        #expect(lane.hash == lane.key.hashValue64, "seed \(seed) frame \(n)")
      }
      port = 0
    }
    #expect(accepted > 5_000)
  }
}
