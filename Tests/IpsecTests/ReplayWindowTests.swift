import DataPlane
import Ipsec
import Testing

/// The anti-replay window (RFC 4303 §3.4.3, RFC 6479 layout) and 64-bit
/// sequence numbers inferred across 2^32 (RFC 4303 Appendix A2).
@Suite struct ReplayWindowTests {
  let buffers = Buffers()

  private func accept(_ window: inout ReplayWindow, _ low: UInt32) throws(ReplayWindow.Refusal) -> UInt64 {
    let sequence = try window.check(low: low)
    window.accept(sequence)
    return sequence
  }

  /// A 1024-packet window: everything up to 1023 behind the highest is
  /// still accepted once, out of order; 1024 behind is outside.
  @Test func windowOf1024AcceptsLateAndRefusesDuplicates() throws {
    var window = ReplayWindow(size: 1024, extendedSequenceNumbers: false)
    #expect(window.size == 1024)
    #expect(throws: ReplayWindow.Refusal.outsideWindow) { _ = try window.check(low: 0) }
    _ = try accept(&window, 5000)
    for late in stride(from: UInt32(4999), through: 5000 - 1023, by: -7) {
      #expect(try accept(&window, late) == UInt64(late))
      #expect(throws: ReplayWindow.Refusal.replayed) { _ = try window.check(low: late) }
    }
    #expect(throws: ReplayWindow.Refusal.outsideWindow) { _ = try window.check(low: 5000 - 1024) }
    #expect(throws: ReplayWindow.Refusal.replayed) { _ = try window.check(low: 5000) }
    // A jump far ahead clears the ring: the new neighbourhood is unseen.
    _ = try accept(&window, 1_000_000)
    #expect(try window.check(low: 999_999) == 999_999)
    #expect(try window.check(low: 1_000_000 - 1023) == 1_000_000 - 1023)
  }

  /// Bigger windows for fast links; each bit is its own packet.
  @Test(arguments: [UInt64(64), 1024, 4096, 65536])
  func everyPositionInTheWindowIsTrackedOnce(size: UInt64) throws {
    var window = ReplayWindow(size: size, extendedSequenceNumbers: true)
    let top = size * 3
    _ = try accept(&window, UInt32(top))
    for s in stride(from: top - 1, to: top - size, by: -1) where s % 3 == 0 {
      _ = try accept(&window, UInt32(s))
    }
    for s in stride(from: top - 1, to: top - size, by: -1) {
      if s % 3 == 0 {
        #expect(throws: ReplayWindow.Refusal.replayed) { _ = try window.check(low: UInt32(s)) }
      } else {
        #expect(try window.check(low: UInt32(s)) == s)
      }
    }
  }

  /// RFC 4303 Appendix A2: the high half follows the low half across 2^32,
  /// forwards and (for late packets) backwards.
  @Test func extendedSequenceNumbersCrossTheBoundary() throws {
    var window = ReplayWindow(size: 1024, extendedSequenceNumbers: true, highest: 0xffff_fff0)
    #expect(try accept(&window, 0xffff_fffe) == 0xffff_fffe)
    #expect(try accept(&window, 3) == 0x1_0000_0003)
    // A late packet from the previous subspace (case B).
    #expect(try accept(&window, 0xffff_ffff) == 0xffff_ffff)
    #expect(throws: ReplayWindow.Refusal.replayed) { _ = try window.check(low: 0xffff_fffe) }
    #expect(try accept(&window, 2000) == 0x1_0000_07d0)
    // Now the window lies inside the second subspace (case A): a low half
    // below its bottom means the next subspace.
    #expect(try window.check(low: 1) == 0x2_0000_0001)
  }

  /// Without ESN a sequence number is 32 bits: the sender stops at 2^32 - 1
  /// (§3.3.3) rather than reuse a number, and so an IV.
  @Test func withoutESNTheSenderStopsBeforeWrapping() throws {
    let (sender, receiver) = try saPair(esn: false)
    sender.setLastSequenceNumberForTesting(UInt64(UInt32.max) - 1)
    receiver.replayWindow = ReplayWindow(
      size: 1024, extendedSequenceNumbers: false, highest: UInt64(UInt32.max) - 2)
    var b = buffers.buffer(ipv4Frame(payload: 8))
    defer { buffers.give(b) }
    try sender.seal(&b, now: 0)
    try receiver.open(&b, now: 0)
    var c = buffers.buffer(ipv4Frame(payload: 8))
    defer { buffers.give(c) }
    #expect(throws: IpsecDrop.sequenceExhausted) { try sender.seal(&c, now: 0) }
    #expect(sender.lifetimeState == .expired)
    #expect(sender.counters.dropped(.sequenceExhausted) == 1)
  }

  /// With ESN, a flow crosses 2^32 packets: sealing and opening go on, the
  /// AAD carrying the implicit high half (RFC 4106 §5).
  @Test func extendedSequenceNumbersWrapEndToEnd() throws {
    let (sender, receiver) = try saPair(esn: true)
    let start: UInt64 = 0xffff_ffe0
    sender.setLastSequenceNumberForTesting(start)
    receiver.replayWindow = ReplayWindow(size: 1024, extendedSequenceNumbers: true, highest: start)
    var held: [PacketBuffer] = []
    for i in 0..<64 {
      var b = buffers.buffer(ipv4Frame(payload: i))
      try sender.seal(&b, now: 0)
      // Hold every fourth packet back and deliver it late, across the wrap.
      if i % 4 == 1 {
        held.append(b)
        continue
      }
      try receiver.open(&b, now: 0)
      #expect(b.bytes == ipv4Frame(payload: i))
      buffers.give(b)
    }
    for var b in held {
      try receiver.open(&b, now: 0)
      buffers.give(b)
    }
    #expect(sender.lastSequenceNumber == start + 64)
    #expect(receiver.replayWindow.highest == start + 64)
    #expect(receiver.counters.packets == 64)
    #expect(receiver.counters.totalDrops == 0)
  }
}
