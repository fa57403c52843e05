/// The 64-bit hash of the flow and connection keys: connection keys mix
/// each word in with a multiply and xor-shift (the SplitMix64 finaliser's
/// constants); flow keys, hashed for every packet, pair their words
/// through folded 128-bit products (`fold`). Keys come from the network: the tables
/// bound their probes, so crafted collisions cost at most
/// `maximumProbes` slots per lookup and keep a flow on the slow path
/// rather than slowing everyone (a per-boot random seed is a later step).
/// Per packet.
@usableFromInline
struct WordHash {
  @usableFromInline var state: UInt64

  @inlinable @inline(__always)
  init(seed: UInt64) { state = seed }

  @inlinable @inline(__always)
  mutating func mix(_ word: UInt64) {
    state = (state ^ word) &* 0xbf58_476d_1ce4_e5b9
    state ^= state >> 31
  }

  /// The state through a full avalanche (MurmurHash3's fmix64): the
  /// tables index by the low bits, and a multiply alone moves entropy only
  /// upwards, so without it fields held in high bits (the ports) barely
  /// reached the index and probe runs clustered (seen as failed inserts at
  /// a load of 0.45).
  @inlinable @inline(__always)
  var value: UInt64 {
    var h = state
    h ^= h >> 33
    h = h &* 0xff51_afd7_ed55_8ccd
    h ^= h >> 33
    h = h &* 0xc4ce_b9fe_1a85_ec53
    h ^= h >> 33
    return h
  }

  /// The 128-bit product of `a` and `b` with its halves xored (wyhash's
  /// "mum"): every input bit reaches the middle of the product, and the
  /// fold brings the high half down to the bits the tables index by. A
  /// factor equal to its constant makes the product 0 whatever the other
  /// is: a crafted collision, bounded like any other by the probe limit.
  @inlinable @inline(__always)
  static func fold(_ a: UInt64, _ b: UInt64) -> UInt64 {
    let product = a.multipliedFullWidth(by: b)
    return product.high ^ product.low
  }
}
