/// Why a packet from the guest was dropped. Every length and offset in a
/// TX chain is the guest's and hostile.
public enum VirtioNetError: Error, Equatable, CustomStringConvertible {
  /// Fewer readable bytes than a virtio-net header.
  case headerTooShort(Int)
  /// A frame shorter than an Ethernet header.
  case frameTooShort(Int)
  /// A frame longer than the MTU allows or than a packet buffer holds.
  case frameTooLong(Int)
  /// csum_start / csum_offset outside the frame.
  case checksumOffsetOutOfRange(start: UInt16, offset: UInt16)
  /// A gso_type the device did not offer, or one it does not handle.
  case segmentationNotNegotiated(UInt8)
  /// gso_size zero, or a segment that does not fit a packet buffer.
  case segmentSizeInvalid(UInt16)
  /// The headers of a GSO packet are not Ethernet [VLAN] IPv4/IPv6 TCP
  /// matching the gso_type.
  case segmentationHeadersInvalid
  /// More segments than `maximumSegments`.
  case tooManySegments(Int)

  public var description: String {
    switch self {
    case .headerTooShort(let n): return "virtio-net header too short: " + String(n) + " bytes"
    case .frameTooShort(let n): return "frame too short: " + String(n) + " bytes"
    case .frameTooLong(let n): return "frame too long: " + String(n) + " bytes"
    case .checksumOffsetOutOfRange(let s, let o):
      return "checksum start " + String(s) + " offset " + String(o) + " outside the frame"
    case .segmentationNotNegotiated(let t): return "GSO type " + String(t) + " not negotiated"
    case .segmentSizeInvalid(let n): return "GSO size " + String(n) + " invalid"
    case .segmentationHeadersInvalid: return "GSO packet headers are not Ethernet/IP/TCP"
    case .tooManySegments(let n): return "GSO packet would make " + String(n) + " segments"
    }
  }
}
