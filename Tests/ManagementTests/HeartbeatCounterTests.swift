import Management
import Testing

@Suite("Heartbeat counters")
struct HeartbeatCounterTests {
  @Test("every counter and an id from a newer card survive a frame round trip")
  func roundTripKeepsUnknownIDs() throws {
    var counters = CardCounter.allCases.map {
      Heartbeat.Counter(id: $0.rawValue, value: UInt64($0.rawValue) << 33 | 7)
    }
    counters.append(.init(id: 0xBEEF, value: 12))
    let heartbeat = Heartbeat(sequence: 3, appliedGeneration: 9, counters: counters)
    let frame = try ManagementMessage.heartbeat(heartbeat).encodeFrame()
    var decoder = FrameStreamDecoder()
    decoder.append(frame[...])
    let decoded = try #require(try decoder.nextMessage())
    guard case .heartbeat(let back) = decoded else {
      Issue.record("decoded \(decoded), not a heartbeat")
      return
    }
    #expect(back == heartbeat)
    #expect(back.value(of: .rxPackets) == 1 << 33 | 7)
    #expect(back.value(of: .volumeErrors) == 9 << 33 | 7)
    #expect(back.counters.last == .init(id: 0xBEEF, value: 12))
  }

  @Test("a heartbeat without counters has none, and names are stable")
  func namesAndAbsence() {
    #expect(Heartbeat(sequence: 1, appliedGeneration: 0).value(of: .txPackets) == nil)
    #expect(CardCounter.name(of: 1) == "rx-packets")
    #expect(CardCounter.name(of: 6) == "port-drops")
    #expect(CardCounter.name(of: 0xBEEF) == "counter-48879")
    #expect(Set(CardCounter.allCases.map(\.name)).count == CardCounter.allCases.count)
  }
}
