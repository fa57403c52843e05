/// A token bucket refilled from a monotonic nanosecond clock passed in by
/// the caller (so tests control time). `rate` tokens per second up to
/// `burst`; a zero rate means unlimited. Per packet.
public struct TokenBucket: Hashable, Sendable {
  public var rate: UInt64
  public var burst: UInt64
  /// Tokens scaled by 10^9 so that refill needs no division per packet.
  @usableFromInline var scaledTokens: UInt64
  @usableFromInline var lastRefill: UInt64

  @usableFromInline static let scale: UInt64 = 1_000_000_000

  public init(rate: UInt64, burst: UInt64) {
    self.rate = rate
    self.burst = max(burst, 1)
    scaledTokens =
      self.burst.multipliedReportingOverflow(by: Self.scale).overflow
      ? UInt64.max : self.burst * Self.scale
    lastRefill = 0
  }

  public static let unlimited = TokenBucket(rate: 0, burst: 1)

  /// Takes `cost` tokens if there are enough; false means over the limit.
  @inlinable @inline(__always)
  public mutating func take(_ cost: UInt64, now: UInt64) -> Bool {
    if rate == 0 { return true }
    let elapsed = now &- lastRefill
    if now > lastRefill {
      lastRefill = now
      let capacity = burst.multipliedReportingOverflow(by: Self.scale)
      let cap = capacity.overflow ? UInt64.max : capacity.partialValue
      let gained = elapsed.multipliedReportingOverflow(by: rate)
      let sum = scaledTokens.addingReportingOverflow(gained.partialValue)
      scaledTokens = gained.overflow || sum.overflow ? cap : min(sum.partialValue, cap)
    }
    let needed = cost.multipliedReportingOverflow(by: Self.scale)
    guard !needed.overflow, scaledTokens >= needed.partialValue else { return false }
    scaledTokens -= needed.partialValue
    return true
  }

  /// Changes the rate, keeping the tokens it has (a configuration update
  /// does not refill anyone's allowance).
  public mutating func reconfigure(rate: UInt64, burst: UInt64) {
    self.rate = rate
    self.burst = max(burst, 1)
    let capacity = self.burst.multipliedReportingOverflow(by: Self.scale)
    scaledTokens = min(scaledTokens, capacity.overflow ? UInt64.max : capacity.partialValue)
  }
}

/// Packet and byte counters of one port and direction, and its meters.
public struct PortMeter: Hashable, Sendable {
  public var packets: TokenBucket = .unlimited
  public var bits: TokenBucket = .unlimited
  public var passedPackets: UInt64 = 0
  public var passedBytes: UInt64 = 0
  public init() {}

  /// Counts the packet if both buckets admit it. Per packet.
  @inlinable @inline(__always)
  public mutating func admit(bytes: Int, now: UInt64) -> Bool {
    guard packets.take(1, now: now) else { return false }
    // A frame's length: never negative, far below 2^61.
    guard bits.take(UInt64(truncatingIfNeeded: bytes) &* 8, now: now) else { return false }
    passedPackets &+= 1
    passedBytes &+= UInt64(truncatingIfNeeded: bytes)
    return true
  }
}

/// Per-port counters: meters for both directions and a counter per drop
/// reason. One flat allocation indexed by port, made once.
public final class PortCounters {
  public let portCount: Int
  @usableFromInline let meters: UnsafeMutablePointer<PortMeter>
  @usableFromInline let drops: UnsafeMutablePointer<UInt64>

  public init(portCount: Int) {
    precondition(portCount >= 1, "a card has at least its uplink port")
    self.portCount = portCount
    meters = UnsafeMutablePointer<PortMeter>.allocate(capacity: portCount * 2)
    meters.initialize(repeating: PortMeter(), count: portCount * 2)
    drops = UnsafeMutablePointer<UInt64>.allocate(capacity: portCount * DropReason.count)
    drops.initialize(repeating: 0, count: portCount * DropReason.count)
  }

  deinit {
    meters.deinitialize(count: portCount * 2)
    meters.deallocate()
    drops.deallocate()
  }

  /// The meter of `port` for packets going `direction` (egress: sent by
  /// the guest; ingress: delivered to it). Ports past the end share the
  /// last slot rather than trapping.
  @inlinable @inline(__always)
  public func meter(port: UInt16, direction: FlowDirection) -> UnsafeMutablePointer<PortMeter> {
    // 1 ≤ portCount (init); ports are 16-bit: no overflow to check.
    let p = min(Int(port), portCount &- 1)
    return meters + (p &* 2 &+ (direction == .egress ? 0 : 1))
  }

  @inlinable @inline(__always)
  public func countDrop(port: UInt16, reason: DropReason) {
    let p = min(Int(port), portCount - 1)
    drops[p * DropReason.count + Int(reason.rawValue)] &+= 1
  }

  public func drops(port: UInt16, reason: DropReason) -> UInt64 {
    drops[min(Int(port), portCount - 1) * DropReason.count + Int(reason.rawValue)]
  }

  /// All drops of `reason` over every port.
  public func totalDrops(_ reason: DropReason) -> UInt64 {
    var total: UInt64 = 0
    for p in 0..<portCount { total &+= drops[p * DropReason.count + Int(reason.rawValue)] }
    return total
  }

  public func packets(port: UInt16, direction: FlowDirection) -> UInt64 {
    meter(port: port, direction: direction).pointee.passedPackets
  }

  public func bytes(port: UInt16, direction: FlowDirection) -> UInt64 {
    meter(port: port, direction: direction).pointee.passedBytes
  }
}
