import Wire

/// Longest-prefix match over keys of up to 128 bits: a multibit trie with
/// an 8-bit stride and controlled prefix expansion (Srinivasan & Varghese,
/// 1999). A lookup reads one 256-entry node per key byte until it meets a
/// leaf: at most 4 reads for IPv4, 16 for IPv6.
///
/// Built once from all routes (inserted shortest first, so a longer prefix
/// always overwrites the expansion of a shorter one and a new child node
/// inherits the entry it replaces) and never changed: configuration
/// changes build a new trie. Nodes live in one flat allocation.
///
/// Entry encoding (UInt32): 0 = no route; high bit set = index of a child
/// node; otherwise value + 1.
public struct PrefixTrie {
  @usableFromInline static let childBit: UInt32 = 0x8000_0000
  @usableFromInline static let stride = 256

  /// Node 0 is the root.
  @usableFromInline var entries: [UInt32]
  public let keyBits: Int

  public init(keyBits: Int) {
    precondition(keyBits == 32 || keyBits == 128)
    self.keyBits = keyBits
    entries = [UInt32](repeating: 0, count: Self.stride)
  }

  /// Memory the nodes use, in bytes.
  public var memoryBytes: Int { entries.count * MemoryLayout<UInt32>.stride }
  public var nodeCount: Int { entries.count / Self.stride }

  /// The key byte at `depth` (0 = most significant) of a 128-bit key.
  @inlinable @inline(__always)
  static func byte(_ high: UInt64, _ low: UInt64, _ depth: Int) -> Int {
    depth < 8
      ? Int(truncatingIfNeeded: (high >> UInt64(56 - 8 * depth)) & 0xff)
      : Int(truncatingIfNeeded: (low >> UInt64(56 - 8 * (depth - 8))) & 0xff)
  }

  /// Inserts `value` for the prefix `(high, low)/length`. Callers insert
  /// in order of increasing length (see `build`).
  mutating func insert(high: UInt64, low: UInt64, length: Int, value: UInt32) {
    precondition(length >= 0 && length <= keyBits && value < Self.childBit - 1)
    var node = 0
    var depth = 0
    // Walk (creating nodes) while the prefix extends past this node's byte.
    while length > 8 * (depth + 1) {
      let slot = node * Self.stride + Self.byte(high, low, depth)
      let entry = entries[slot]
      if entry & Self.childBit != 0 {
        node = Int(entry & ~Self.childBit)
      } else {
        let child = entries.count / Self.stride
        entries.append(contentsOf: repeatElement(entry, count: Self.stride))
        entries[slot] = Self.childBit | UInt32(child)
        node = child
      }
      depth += 1
    }
    // Expand the prefix over the entries of this node it covers.
    let bitsHere = length - 8 * depth
    let first = bitsHere == 0 ? 0 : Self.byte(high, low, depth) & (0xff << (8 - bitsHere)) & 0xff
    let span = 1 << (8 - bitsHere)
    for i in first..<(first + span) {
      let slot = node * Self.stride + i
      overwrite(slot: slot, with: value + 1)
    }
  }

  /// Writes a leaf into `slot`, or into every leaf of the subtree it
  /// points to (a shorter prefix reaches under longer ones only where
  /// they left a copy of the old entry, which insertion order prevents;
  /// kept for safety).
  private mutating func overwrite(slot: Int, with leaf: UInt32) {
    let entry = entries[slot]
    if entry & Self.childBit == 0 {
      entries[slot] = leaf
    } else {
      let child = Int(entry & ~Self.childBit)
      for i in 0..<Self.stride { overwrite(slot: child * Self.stride + i, with: leaf) }
    }
  }

  /// The value of the longest prefix containing the key, or nil. Slow path.
  @inlinable
  public func lookup(high: UInt64, low: UInt64) -> UInt32? {
    entries.withUnsafeBufferPointer { table -> UInt32? in
      var node = 0
      var depth = 0
      while true {
        let entry = table[node * Self.stride + Self.byte(high, low, depth)]
        if entry & Self.childBit == 0 { return entry == 0 ? nil : entry - 1 }
        node = Int(entry & ~Self.childBit)
        depth += 1
      }
    }
  }
}

/// IPv4 and IPv6 LPM tables of one route table, values being indices into
/// its `targets`.
public struct CompiledRouteTable {
  public var ipv4 = PrefixTrie(keyBits: 32)
  public var ipv6 = PrefixTrie(keyBits: 128)
  public var targets: [RouteTarget] = []
  public var routeCount = 0

  public init(_ table: RouteTable, implicitIPv4: [IPv4Prefix], implicitIPv6: [IPv6Prefix]) {
    var v4 = table.ipv4
    for p in implicitIPv4 where !v4.contains(where: { $0.prefix == p }) { v4.append(IPv4Route(p, .local)) }
    var v6 = table.ipv6
    for p in implicitIPv6 where !v6.contains(where: { $0.prefix == p }) { v6.append(IPv6Route(p, .local)) }
    v4.sort { $0.prefix.length < $1.prefix.length }
    v6.sort { $0.prefix.length < $1.prefix.length }
    for route in v4 {
      ipv4.insert(
        high: UInt64(route.prefix.address.rawValue) << 32, low: 0, length: route.prefix.length,
        value: targetIndex(route.target))
    }
    for route in v6 {
      ipv6.insert(
        high: route.prefix.address.high, low: route.prefix.address.low, length: route.prefix.length,
        value: targetIndex(route.target))
    }
    routeCount = v4.count + v6.count
  }

  private mutating func targetIndex(_ target: RouteTarget) -> UInt32 {
    if let i = targets.firstIndex(of: target) { return UInt32(i) }
    targets.append(target)
    return UInt32(targets.count - 1)
  }

  public var memoryBytes: Int { ipv4.memoryBytes + ipv6.memoryBytes }

  /// Slow path.
  @inlinable
  public func route(_ destination: FlowAddress) -> RouteTarget? {
    let index =
      destination.isIPv4
      ? ipv4.lookup(high: destination.low << 32, low: 0)
      : ipv6.lookup(high: destination.high, low: destination.low)
    guard let index else { return nil }
    return targets[Int(index)]
  }
}
