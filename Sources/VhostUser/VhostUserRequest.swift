/// Front-end → back-end request codes (vhost-user.rst, "Front-end message
/// types"). Only the codes this back-end knows are named; anything else is
/// `VhostUserError.unknownRequest`.
public enum VhostUserRequest: UInt32, Sendable, CaseIterable, CustomStringConvertible {
  case getFeatures = 1
  case setFeatures = 2
  case setOwner = 3
  case resetOwner = 4
  case setMemoryTable = 5
  case setLogBase = 6
  case setLogFD = 7
  case setVringNum = 8
  case setVringAddress = 9
  case setVringBase = 10
  case getVringBase = 11
  case setVringKick = 12
  case setVringCall = 13
  case setVringError = 14
  case getProtocolFeatures = 15
  case setProtocolFeatures = 16
  case getQueueNum = 17
  case setVringEnable = 18
  case sendRARP = 19
  case netSetMTU = 20
  case setBackendRequestFD = 21
  case iotlbMessage = 22
  case setVringEndian = 23
  case getConfig = 24
  case setConfig = 25
  case getMaxMemorySlots = 36
  case addMemoryRegion = 37
  case removeMemoryRegion = 38
  case setStatus = 39
  case getStatus = 40

  public var description: String {
    switch self {
    case .getFeatures: "GET_FEATURES"
    case .setFeatures: "SET_FEATURES"
    case .setOwner: "SET_OWNER"
    case .resetOwner: "RESET_OWNER"
    case .setMemoryTable: "SET_MEM_TABLE"
    case .setLogBase: "SET_LOG_BASE"
    case .setLogFD: "SET_LOG_FD"
    case .setVringNum: "SET_VRING_NUM"
    case .setVringAddress: "SET_VRING_ADDR"
    case .setVringBase: "SET_VRING_BASE"
    case .getVringBase: "GET_VRING_BASE"
    case .setVringKick: "SET_VRING_KICK"
    case .setVringCall: "SET_VRING_CALL"
    case .setVringError: "SET_VRING_ERR"
    case .getProtocolFeatures: "GET_PROTOCOL_FEATURES"
    case .setProtocolFeatures: "SET_PROTOCOL_FEATURES"
    case .getQueueNum: "GET_QUEUE_NUM"
    case .setVringEnable: "SET_VRING_ENABLE"
    case .sendRARP: "SEND_RARP"
    case .netSetMTU: "NET_SET_MTU"
    case .setBackendRequestFD: "SET_BACKEND_REQ_FD"
    case .iotlbMessage: "IOTLB_MSG"
    case .setVringEndian: "SET_VRING_ENDIAN"
    case .getConfig: "GET_CONFIG"
    case .setConfig: "SET_CONFIG"
    case .getMaxMemorySlots: "GET_MAX_MEM_SLOTS"
    case .addMemoryRegion: "ADD_MEM_REG"
    case .removeMemoryRegion: "REM_MEM_REG"
    case .setStatus: "SET_STATUS"
    case .getStatus: "GET_STATUS"
    }
  }
}

/// vhost-user protocol feature bits (vhost-user.rst, "Protocol features").
public struct ProtocolFeatures: OptionSet, Hashable, Sendable {
  public let rawValue: UInt64
  public init(rawValue: UInt64) { self.rawValue = rawValue }

  public static let multiqueue = ProtocolFeatures(rawValue: 1 << 0)
  public static let logSharedMemoryFD = ProtocolFeatures(rawValue: 1 << 1)
  public static let rarp = ProtocolFeatures(rawValue: 1 << 2)
  public static let replyAck = ProtocolFeatures(rawValue: 1 << 3)
  public static let mtu = ProtocolFeatures(rawValue: 1 << 4)
  public static let backendRequest = ProtocolFeatures(rawValue: 1 << 5)
  public static let config = ProtocolFeatures(rawValue: 1 << 9)
  public static let configureMemorySlots = ProtocolFeatures(rawValue: 1 << 15)
  public static let status = ProtocolFeatures(rawValue: 1 << 16)
}

/// Virtio feature bits the vhost-user layer itself looks at.
public enum VhostFeatureBits {
  /// VHOST_USER_F_PROTOCOL_FEATURES: GET/SET_PROTOCOL_FEATURES exist and
  /// rings start disabled until SET_VRING_ENABLE.
  public static let protocolFeatures: UInt64 = 1 << 30
  /// VHOST_F_LOG_ALL: dirty-page logging for migration (not offered).
  public static let logAll: UInt64 = 1 << 26
}
