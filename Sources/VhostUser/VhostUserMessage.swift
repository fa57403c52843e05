/// A front-end message, decoded and checked for shape (sizes, fd counts).
/// Whether it makes sense now (ring indices, memory ranges) is the
/// session's to check. Descriptors travel beside the message, not in it.
public enum VhostUserMessage: Equatable, Sendable {
  case getFeatures
  case setFeatures(UInt64)
  case setOwner
  case resetOwner
  /// SET_MEM_TABLE: one fd per region, in order.
  case setMemoryTable([MemoryRegionDescription])
  case setLogBase(size: UInt64, offset: UInt64)
  case setLogFD
  case setVringNum(VringState)
  case setVringAddress(VringAddress)
  case setVringBase(VringState)
  case getVringBase(index: UInt32)
  case setVringKick(VringFileRequest)
  case setVringCall(VringFileRequest)
  case setVringError(VringFileRequest)
  case getProtocolFeatures
  case setProtocolFeatures(ProtocolFeatures)
  case getQueueNum
  case setVringEnable(VringState)
  /// SEND_RARP: the MAC address in the u64's first six bytes.
  case sendRARP(UInt64)
  case netSetMTU(UInt64)
  case getConfig(offset: UInt32, size: UInt32, flags: UInt32)
  case setConfig(ConfigAccess)
  case getMaxMemorySlots
  case addMemoryRegion(MemoryRegionDescription)
  case removeMemoryRegion(MemoryRegionDescription)
  case setStatus(UInt8)
  case getStatus
  /// SET_BACKEND_REQ_FD: the back-end's own channel to the front-end (one
  /// fd, no payload), for back-end requests such as CONFIG_CHANGE_MSG.
  case setBackendRequestFD

  /// The request this message carries.
  public var request: VhostUserRequest {
    switch self {
    case .getFeatures: .getFeatures
    case .setFeatures: .setFeatures
    case .setOwner: .setOwner
    case .resetOwner: .resetOwner
    case .setMemoryTable: .setMemoryTable
    case .setLogBase: .setLogBase
    case .setLogFD: .setLogFD
    case .setVringNum: .setVringNum
    case .setVringAddress: .setVringAddress
    case .setVringBase: .setVringBase
    case .getVringBase: .getVringBase
    case .setVringKick: .setVringKick
    case .setVringCall: .setVringCall
    case .setVringError: .setVringError
    case .getProtocolFeatures: .getProtocolFeatures
    case .setProtocolFeatures: .setProtocolFeatures
    case .getQueueNum: .getQueueNum
    case .setVringEnable: .setVringEnable
    case .sendRARP: .sendRARP
    case .netSetMTU: .netSetMTU
    case .getConfig: .getConfig
    case .setConfig: .setConfig
    case .getMaxMemorySlots: .getMaxMemorySlots
    case .addMemoryRegion: .addMemoryRegion
    case .removeMemoryRegion: .removeMemoryRegion
    case .setStatus: .setStatus
    case .getStatus: .getStatus
    case .setBackendRequestFD: .setBackendRequestFD
    }
  }

  /// How many descriptors the message carries with it.
  public var fdCount: Int {
    switch self {
    case .setMemoryTable(let regions): regions.count
    case .setLogBase, .setLogFD, .addMemoryRegion, .setBackendRequestFD: 1
    case .setVringKick(let r), .setVringCall(let r), .setVringError(let r): r.hasFD ? 1 : 0
    default: 0
    }
  }
}
