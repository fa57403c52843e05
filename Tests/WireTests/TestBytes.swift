import Wire

/// Runs `body` over a mutable copy of `bytes` (tests only: allocates).
func withMutableBytes<R>(
  _ bytes: [UInt8], _ body: (UnsafeMutableRawBufferPointer) throws -> R
) rethrows -> R {
  var copy = bytes
  return try copy.withUnsafeMutableBytes { try body($0) }
}

/// Builds `count` bytes by letting `emit` write into a zeroed buffer.
func buildBytes(count: Int, _ emit: (UnsafeMutableRawBufferPointer) -> Void) -> [UInt8] {
  var bytes = [UInt8](repeating: 0, count: count)
  bytes.withUnsafeMutableBytes { emit($0) }
  return bytes
}

/// Calls `parse` on every proper prefix of `bytes` and returns the prefix
/// lengths for which it did not throw (the caller says which are allowed).
func prefixesAccepted(
  _ bytes: [UInt8], by parse: (UnsafeMutableRawBufferPointer) throws(WireError) -> Void
) -> [Int] {
  var accepted: [Int] = []
  for length in 0..<bytes.count {
    var prefix = Array(bytes[0..<length])
    let ok = prefix.withUnsafeMutableBytes { buffer -> Bool in
      do throws(WireError) {
        try parse(buffer)
        return true
      } catch {
        return false
      }
    }
    if ok { accepted.append(length) }
  }
  return accepted
}

/// Parses hex text ("45 00 ...", whitespace ignored).
func hexBytes(_ text: String) -> [UInt8] {
  var out: [UInt8] = []
  var pending: UInt8? = nil
  for c in text.utf8 {
    let v: UInt8
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): v = c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): v = c - UInt8(ascii: "A") + 10
    default: continue
    }
    if let high = pending {
      out.append(high << 4 | v)
      pending = nil
    } else {
      pending = v
    }
  }
  return out
}

/// A small deterministic generator so that random tests repeat.
struct SplitMix64: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9e37_79b9_7f4a_7c15
    var z = state
    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
    return z ^ (z >> 31)
  }
}

/// The error `parse` throws on a mutable copy of `bytes`, or nil.
func wireError(
  _ bytes: [UInt8], _ parse: (UnsafeMutableRawBufferPointer) throws(WireError) -> Void
) -> WireError? {
  var copy = bytes
  return copy.withUnsafeMutableBytes { buffer -> WireError? in
    do throws(WireError) {
      try parse(buffer)
      return nil
    } catch {
      return error
    }
  }
}
