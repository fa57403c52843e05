import Virtio
import Wire

/// The control virtqueue's commands (virtio 1.2 §5.1.6.5): a chain with a
/// readable `{u8 class, u8 command, data}` and a writable `u8 ack`.
struct ControlCommandHandler {
  static let ok: UInt8 = 0
  static let error: UInt8 = 1
  // Classes and commands, §5.1.6.5.
  static let classReceive: UInt8 = 0
  static let classMAC: UInt8 = 1
  static let classMultiqueue: UInt8 = 4
  static let macTableSet: UInt8 = 0
  static let macAddressSet: UInt8 = 1
  static let multiqueuePairsSet: UInt8 = 0
  /// PROMISC, ALLMULTI, ALLUNI, NOMULTI, NOUNI, NOBCAST (§5.1.6.5.1).
  static let receiveModeCommands: UInt8 = 6
  /// Per MAC table; Linux sends at most its netdev's address count.
  static let maximumMACTableEntries: UInt32 = 256

  /// Answers one command; updates `state` when it is accepted. Per command.
  static func handle(_ chain: DescriptorChain, features: VirtioNetFeatures, state: inout VirtioNetState)
    -> UInt8
  {
    var command: (UInt8, UInt8) = (0, 0)
    guard withUnsafeMutableBytes(of: &command, { chain.copyReadable(from: 0, into: $0) }) == 2 else {
      return error
    }
    let dataLength = chain.readableLength - 2
    switch command {
    case (classReceive, let c) where c < receiveModeCommands:
      guard features.contains(.controlReceiveMode), dataLength == 1 else { return error }
      var on: UInt8 = 0
      _ = withUnsafeMutableBytes(of: &on) { chain.copyReadable(from: 2, into: $0) }
      let bit: UInt8 = 1 << c
      state.receiveMode = on != 0 ? state.receiveMode | bit : state.receiveMode & ~bit
      return ok
    case (classMAC, macAddressSet):
      guard features.contains(.controlMACAddress), dataLength == 6 else { return error }
      var bytes: (UInt32, UInt16) = (0, 0)
      _ = withUnsafeMutableBytes(of: &bytes) { chain.copyReadable(from: 2, into: $0) }
      state.mac = withUnsafeBytes(of: &bytes) { MACAddress(loadingFrom: $0.baseAddress!) }
      return ok
    case (classMAC, macTableSet):
      // Two tables (unicast, multicast), each le32 entries + 6 bytes each;
      // the lengths must add up exactly (§5.1.6.5.2).
      guard features.contains(.controlReceiveMode) else { return error }
      var offset = 2
      var entries: UInt32 = 0
      for table in 0..<2 {
        var count: UInt32 = 0
        guard withUnsafeMutableBytes(of: &count, { chain.copyReadable(from: offset, into: $0) }) == 4 else {
          return error
        }
        count = UInt32(littleEndian: count)
        guard count <= maximumMACTableEntries else { return error }
        offset += 4 + 6 * Int(count)
        if table == 0 { entries = count } else { state.macFilterCount = Int(entries + count) }
      }
      return offset == chain.readableLength ? ok : error
    case (classMultiqueue, multiqueuePairsSet):
      guard features.contains(.multiqueue), dataLength == 2 else { return error }
      var pairs: UInt16 = 0
      _ = withUnsafeMutableBytes(of: &pairs) { chain.copyReadable(from: 2, into: $0) }
      pairs = UInt16(littleEndian: pairs)
      // §5.1.6.5.6.1: 1 ≤ pairs ≤ max_virtqueue_pairs.
      guard pairs >= 1, Int(pairs) <= state.maximumQueuePairs else { return error }
      state.activeQueuePairs = Int(pairs)
      return ok
    default:
      return error
    }
  }
}

/// What the driver has set through the control queue.
public struct VirtioNetState: Equatable {
  public var mac: MACAddress
  public let maximumQueuePairs: Int
  public var activeQueuePairs = 1
  /// Bit n set: receive-mode command n is on (bit 0 promiscuous, 1 all-multicast, ...).
  public var receiveMode: UInt8 = 0
  public var macFilterCount = 0

  public init(mac: MACAddress, maximumQueuePairs: Int) {
    self.mac = mac
    self.maximumQueuePairs = maximumQueuePairs
  }

  public var isPromiscuous: Bool { receiveMode & 1 != 0 }
}
