/// The Internet checksum (RFC 1071): the 16-bit one's complement of the one's
/// complement sum of the data taken as big-endian 16-bit words.
///
/// Sums are carried as `UInt32` "partial sums" (not yet folded, not yet
/// complemented) so that a pseudo-header and a payload can be summed apart
/// and combined with `combine`. All functions here are per packet.
public enum InternetChecksum {
  /// The one's complement sum of `count` bytes at `start`, folded to 16 bits
  /// and returned as a partial sum. An odd last byte is padded with zero on
  /// the right (RFC 1071 §1).
  ///
  /// RFC 1071 §2(B): the sum is independent of byte order, so the bytes are
  /// added as native 64-bit words (unaligned loads) and the folded result is
  /// swapped once at the end.
  @inlinable
  public static func sum(_ start: UnsafeRawPointer, count: Int, initial: UInt32 = 0) -> UInt32 {
    var accumulator: UInt64 = 0
    var offset = 0
    var remaining = count
    // Two independent accumulators hide the carry chain's latency.
    var second: UInt64 = 0
    while remaining >= 16 {
      let a = start.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
      let b = start.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)
      let (s1, c1) = accumulator.addingReportingOverflow(a)
      accumulator = s1 &+ (c1 ? 1 : 0)
      let (s2, c2) = second.addingReportingOverflow(b)
      second = s2 &+ (c2 ? 1 : 0)
      offset += 16
      remaining -= 16
    }
    let (merged, carry) = accumulator.addingReportingOverflow(second)
    accumulator = merged &+ (carry ? 1 : 0)
    if remaining >= 8 {
      let a = start.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
      let (s, c) = accumulator.addingReportingOverflow(a)
      accumulator = s &+ (c ? 1 : 0)
      offset += 8
      remaining -= 8
    }
    // The tail is below 2^32, so adding it cannot overflow after a fold.
    var tail: UInt64 = 0
    if remaining >= 4 {
      tail &+= UInt64(start.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
      offset += 4
      remaining -= 4
    }
    if remaining >= 2 {
      tail &+= UInt64(start.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
      offset += 2
      remaining -= 2
    }
    if remaining == 1 {
      // In memory order the odd byte comes first within its 16-bit word.
      let byte = UInt16(start.load(fromByteOffset: offset, as: UInt8.self))
      tail &+= UInt64(UInt16(bigEndian: byte << 8))
    }
    var folded = (accumulator & 0xffff_ffff) &+ (accumulator >> 32) &+ tail
    folded = (folded & 0xffff_ffff) &+ (folded >> 32)
    folded = (folded & 0xffff) &+ (folded >> 16)
    folded = (folded & 0xffff) &+ (folded >> 16)
    folded = (folded & 0xffff) &+ (folded >> 16)
    let native = UInt16(truncatingIfNeeded: folded)
    return combine(initial, UInt32(UInt16(bigEndian: native)))
  }

  /// The partial sum of a buffer.
  @inlinable
  public static func sum(_ buffer: UnsafeRawBufferPointer, initial: UInt32 = 0) -> UInt32 {
    guard let base = buffer.baseAddress else { return initial }
    return sum(base, count: buffer.count, initial: initial)
  }

  /// Adds two partial sums (one's complement addition), folded to 16 bits.
  @inlinable @inline(__always)
  public static func combine(_ a: UInt32, _ b: UInt32) -> UInt32 {
    var s = UInt64(a) &+ UInt64(b)
    s = (s & 0xffff) &+ (s >> 16)
    s = (s & 0xffff) &+ (s >> 16)
    s = (s & 0xffff) &+ (s >> 16)
    return UInt32(s)
  }

  /// The checksum field value for a partial sum: its one's complement.
  @inlinable @inline(__always)
  public static func finish(_ partialSum: UInt32) -> UInt16 {
    ~UInt16(truncatingIfNeeded: combine(partialSum, 0))
  }

  /// The checksum of a buffer (RFC 1071), ready to store in a header.
  @inlinable
  public static func checksum(_ buffer: UnsafeRawBufferPointer) -> UInt16 {
    finish(sum(buffer))
  }

  /// Whether data that includes its own checksum field sums to all ones
  /// (RFC 1071 §1: the receiver's check).
  @inlinable @inline(__always)
  public static func isValid(partialSum: UInt32) -> Bool {
    combine(partialSum, 0) == 0xffff
  }

  /// The checksum after one 16-bit field changes from `old` to `new`, without
  /// summing the data again: RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m').
  @inlinable @inline(__always)
  public static func update(_ checksum: UInt16, replacing old: UInt16, with new: UInt16) -> UInt16 {
    let s = combine(combine(UInt32(~checksum), UInt32(~old)), UInt32(new))
    return ~UInt16(truncatingIfNeeded: s)
  }

  /// The checksum after one 32-bit field (an IPv4 address, a TCP sequence
  /// number) changes: eqn. 3 applied to both halves at once.
  @inlinable @inline(__always)
  public static func update(_ checksum: UInt16, replacing old: UInt32, with new: UInt32) -> UInt16 {
    var s = UInt32(~checksum)
    s = combine(s, UInt32(~UInt16(truncatingIfNeeded: old >> 16)))
    s = combine(s, UInt32(~UInt16(truncatingIfNeeded: old)))
    s = combine(s, new >> 16)
    s = combine(s, new & 0xffff)
    return ~UInt16(truncatingIfNeeded: s)
  }

  /// The checksum after an IPv6 address in the covered data or its
  /// pseudo-header changes: eqn. 3 over the eight 16-bit words.
  @inlinable
  public static func update(_ checksum: UInt16, replacing old: IPv6Address, with new: IPv6Address) -> UInt16 {
    var result = checksum
    result = update(
      result, replacing: UInt32(truncatingIfNeeded: old.high >> 32),
      with: UInt32(truncatingIfNeeded: new.high >> 32))
    result = update(
      result, replacing: UInt32(truncatingIfNeeded: old.high), with: UInt32(truncatingIfNeeded: new.high))
    result = update(
      result, replacing: UInt32(truncatingIfNeeded: old.low >> 32),
      with: UInt32(truncatingIfNeeded: new.low >> 32))
    return update(
      result, replacing: UInt32(truncatingIfNeeded: old.low), with: UInt32(truncatingIfNeeded: new.low))
  }

  /// The partial sum of the IPv4 pseudo-header (RFC 768, RFC 9293 §3.1).
  @inlinable @inline(__always)
  public static func pseudoHeaderSum(
    source: IPv4Address, destination: IPv4Address, protocol proto: IPProtocol, length: Int
  ) -> UInt32 {
    let s =
      UInt64(source.rawValue >> 16) &+ UInt64(source.rawValue & 0xffff)
      &+ UInt64(destination.rawValue >> 16) &+ UInt64(destination.rawValue & 0xffff)
      &+ UInt64(proto.rawValue) &+ UInt64(UInt16(truncatingIfNeeded: length))
    return combine(UInt32(truncatingIfNeeded: s & 0xffff_ffff), UInt32(truncatingIfNeeded: s >> 32))
  }

  /// The partial sum of the IPv6 pseudo-header (RFC 8200 §8.1): the upper
  /// layer length is 32 bits.
  @inlinable @inline(__always)
  public static func pseudoHeaderSum(
    source: IPv6Address, destination: IPv6Address, protocol proto: IPProtocol, length: Int
  ) -> UInt32 {
    var s = wordSum(source.high) &+ wordSum(source.low)
    s &+= wordSum(destination.high) &+ wordSum(destination.low)
    let len = UInt64(UInt32(truncatingIfNeeded: length))
    s &+= (len >> 16) &+ (len & 0xffff) &+ UInt64(proto.rawValue)
    return combine(UInt32(truncatingIfNeeded: s & 0xffff_ffff), UInt32(truncatingIfNeeded: s >> 32))
  }

  /// The plain sum of the four 16-bit words of `word` (below 2^18).
  @inlinable @inline(__always)
  static func wordSum(_ word: UInt64) -> UInt64 {
    (word >> 48) &+ ((word >> 32) & 0xffff) &+ ((word >> 16) & 0xffff) &+ (word & 0xffff)
  }
}
