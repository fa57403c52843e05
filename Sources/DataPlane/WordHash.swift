/// The 64-bit hash of the flow and connection keys: each word mixed in
/// with a multiply and xor-shift (the SplitMix64 finaliser's constants),
/// one fixed seed per key type. Keys come from the network: the tables
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

  @inlinable @inline(__always)
  var value: UInt64 { state ^ (state >> 29) }
}
