/// Test-vector text (hex digits, whitespace ignored) to bytes.
func hex(_ text: String) -> [UInt8] {
  var out: [UInt8] = []
  var high: UInt8? = nil
  for c in text.utf8 {
    let nibble: UInt8
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = c - UInt8(ascii: "A") + 10
    default: continue
    }
    if let h = high {
      out.append(h << 4 | nibble)
      high = nil
    } else {
      high = nibble
    }
  }
  precondition(high == nil, "odd number of hex digits in a test vector")
  return out
}

/// Bytes 00 01 ... ff repeated: the plaintext of IEEE 1619 Annex B.
func countingBytes(_ count: Int) -> [UInt8] {
  (0..<count).map { UInt8(truncatingIfNeeded: $0) }
}
