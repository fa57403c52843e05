/// Why a port dropped a frame (apart from the data plane's own reasons).
public enum PortDropReason: UInt8, CaseIterable, Hashable, Sendable, CustomStringConvertible {
  /// The packet pool was empty when a frame arrived.
  case noBuffer
  /// The frame does not fit a buffer or a ring frame.
  case oversize
  /// The kernel cut the frame short (larger than the ring frame).
  case truncated
  /// The transmit ring or queue was full.
  case transmitQueueFull
  /// The device refused the frame (malformed for it, or a send error).
  case transmitError
  /// The port has no device behind it yet (a host function whose guest
  /// has not attached).
  case deviceNotReady

  public var description: String {
    switch self {
    case .noBuffer: return "no-buffer"
    case .oversize: return "oversize"
    case .truncated: return "truncated"
    case .transmitQueueFull: return "transmit-queue-full"
    case .transmitError: return "transmit-error"
    case .deviceNotReady: return "device-not-ready"
    }
  }
}

/// A port's counters. Plain integers bumped on the per-packet path.
public struct PortStatistics: Equatable, Sendable {
  public var receivedPackets: UInt64 = 0
  public var receivedBytes: UInt64 = 0
  public var transmittedPackets: UInt64 = 0
  public var transmittedBytes: UInt64 = 0
  /// Frames the kernel or device dropped before we saw them (AF_PACKET's
  /// PACKET_STATISTICS), where the port can know.
  public var deviceDrops: UInt64 = 0
  var dropCounts: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)

  public init() {}

  public func drops(_ reason: PortDropReason) -> UInt64 {
    switch reason {
    case .noBuffer: return dropCounts.0
    case .oversize: return dropCounts.1
    case .truncated: return dropCounts.2
    case .transmitQueueFull: return dropCounts.3
    case .transmitError: return dropCounts.4
    case .deviceNotReady: return dropCounts.5
    }
  }

  public var totalDrops: UInt64 {
    var total: UInt64 = 0
    for reason in PortDropReason.allCases { total &+= drops(reason) }
    return total
  }

  /// Per packet.
  @inlinable
  public mutating func countReceived(bytes: Int) {
    receivedPackets &+= 1
    receivedBytes &+= UInt64(truncatingIfNeeded: bytes)
  }

  /// Per packet.
  @inlinable
  public mutating func countTransmitted(bytes: Int) {
    transmittedPackets &+= 1
    transmittedBytes &+= UInt64(truncatingIfNeeded: bytes)
  }

  /// Per dropped packet.
  public mutating func countDrop(_ reason: PortDropReason) {
    switch reason {
    case .noBuffer: dropCounts.0 &+= 1
    case .oversize: dropCounts.1 &+= 1
    case .truncated: dropCounts.2 &+= 1
    case .transmitQueueFull: dropCounts.3 &+= 1
    case .transmitError: dropCounts.4 &+= 1
    case .deviceNotReady: dropCounts.5 &+= 1
    }
  }

  public static func == (a: PortStatistics, b: PortStatistics) -> Bool {
    a.receivedPackets == b.receivedPackets && a.receivedBytes == b.receivedBytes
      && a.transmittedPackets == b.transmittedPackets && a.transmittedBytes == b.transmittedBytes
      && a.deviceDrops == b.deviceDrops
      && PortDropReason.allCases.allSatisfy { a.drops($0) == b.drops($0) }
  }
}
