/// The receiver's anti-replay state for one inbound SA (RFC 4303 §3.4.3),
/// with 64-bit extended sequence numbers inferred from the 32 bits on the
/// wire (RFC 4303 Appendix A2).
///
/// Layout after RFC 6479: the window is a ring of 64-bit words indexed by
/// `sequence >> 6`, with one word more than the window needs, so that moving
/// the window forward clears whole words instead of shifting bits. A check
/// or an update touches one word; sliding forward clears as many words as
/// the window moved by 64-packet blocks, at most the ring's size, never one
/// step per packet in the window.
///
/// `check` runs before the integrity check and `accept` only after it
/// (§3.4.3: the window must not move on a forged packet).
public struct ReplayWindow: ~Copyable {
  /// Packets at most this far behind the highest accepted one are checked
  /// against the bitmap; anything older is outside the window.
  public let size: UInt64
  /// Words in the ring (a power of two, at least size / 64 + 1).
  let wordCount: Int
  let words: UnsafeMutablePointer<UInt64>
  /// The highest sequence number accepted so far (0: none yet).
  public private(set) var highest: UInt64 = 0
  public let extendedSequenceNumbers: Bool

  /// The smallest and largest windows accepted; the SA refuses others.
  public static let minimumSize: UInt64 = 64
  public static let maximumSize: UInt64 = 1 << 20

  /// `size` is rounded up to a multiple of 64. `highest` resumes a window
  /// (an SA handed over from another core or restored after a restart):
  /// everything at or below it counts as seen.
  public init(size: UInt64, extendedSequenceNumbers: Bool, highest: UInt64 = 0) {
    precondition(size >= Self.minimumSize && size <= Self.maximumSize, "window size checked by the SA")
    let blocks = Int((size + 63) / 64)
    var count = 1
    while count < blocks + 1 { count <<= 1 }
    self.size = UInt64(blocks) * 64
    self.wordCount = count
    self.extendedSequenceNumbers = extendedSequenceNumbers
    words = UnsafeMutablePointer<UInt64>.allocate(capacity: count)
    words.initialize(repeating: highest == 0 ? 0 : ~0, count: count)
    if highest != 0 {
      // Later numbers in the top block are still unseen; later blocks are
      // cleared as the window reaches them.
      let bit = highest & 63
      words[Int(truncatingIfNeeded: highest >> 6) & (count - 1)] = bit == 63 ? ~0 : (1 << (bit + 1)) - 1
    }
    self.highest = highest
  }

  deinit { words.deallocate() }

  /// Why `check` refused a sequence number.
  public enum Refusal: Error, Equatable {
    case replayed
    case outsideWindow
  }

  /// Per packet. The full 64-bit sequence number for the low 32 bits seen on
  /// the wire, and whether it may be new. RFC 4303 Appendix A2.2: with ESN
  /// the high half is the window top's, or the next one if the low half is
  /// below the window's bottom (wrapped forward), or the previous one if the
  /// window straddles a 2^32 boundary and the low half sits in its older
  /// part.
  public func check(low: UInt32) throws(Refusal) -> UInt64 {
    let sequence: UInt64
    if extendedSequenceNumbers {
      let topHigh = highest >> 32
      let topLow = highest & 0xffff_ffff
      let bottomLow = (topLow &- size &+ 1) & 0xffff_ffff
      let received = UInt64(low)
      if topLow >= size - 1 {
        // Case A: the window lies inside one 2^32 subspace.
        sequence = received >= bottomLow ? (topHigh << 32 | received) : ((topHigh + 1) << 32 | received)
      } else if received >= bottomLow {
        // Case B, older part: the previous subspace (none before the first).
        guard topHigh > 0 else { throw .outsideWindow }
        sequence = (topHigh - 1) << 32 | received
      } else {
        sequence = topHigh << 32 | received
      }
    } else {
      sequence = UInt64(low)
    }
    // §3.3.3: the first packet carries 1; 0 is never sent.
    guard sequence != 0 else { throw .outsideWindow }
    if sequence > highest { return sequence }
    guard highest - sequence < size else { throw .outsideWindow }
    let word = words[Int(truncatingIfNeeded: sequence >> 6) & (wordCount - 1)]
    guard word & (1 << (sequence & 63)) == 0 else { throw .replayed }
    return sequence
  }

  /// Per packet, after the ICV checked out: marks `sequence` (from `check`)
  /// as seen and slides the window if it is the new highest.
  public mutating func accept(_ sequence: UInt64) {
    if sequence > highest {
      let newBlock = sequence >> 6
      let oldBlock = highest >> 6
      // Clear the words the window moves over; a jump past the whole ring
      // clears it once.
      let moved = min(newBlock - oldBlock, UInt64(wordCount))
      var block = newBlock
      for _ in 0..<Int(moved) {
        words[Int(truncatingIfNeeded: block) & (wordCount - 1)] = 0
        block &-= 1
      }
      highest = sequence
    }
    words[Int(truncatingIfNeeded: sequence >> 6) & (wordCount - 1)] |= 1 << (sequence & 63)
  }
}
