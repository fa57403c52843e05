/// Decodes one message from its header, payload and the number of
/// descriptors that came with it. Hostile input: every size and count is
/// checked before a byte is read, and each refusal is a typed error.
extension VhostUserMessage {
  /// Memory-table regions one SET_MEM_TABLE can carry
  /// (VHOST_MEMORY_BASELINE_NREGIONS).
  public static let maximumTableRegions = 8

  public static func decode(
    header: MessageHeader, payload: [UInt8], fdCount: Int
  ) throws(VhostUserError) -> VhostUserMessage {
    guard let request = VhostUserRequest(rawValue: header.request) else {
      throw .unknownRequest(header.request)
    }
    guard payload.count == Int(header.size) else { throw .payloadSizeMismatch(request, size: header.size) }
    let message = try decodePayload(request, payload)
    if fdCount > message.fdCount { throw .tooManyFDs(request, count: fdCount) }
    if fdCount < message.fdCount { throw .missingFD(request) }
    return message
  }

  private static func decodePayload(
    _ request: VhostUserRequest, _ p: [UInt8]
  ) throws(VhostUserError) -> VhostUserMessage {
    func expect(_ size: Int) throws(VhostUserError) {
      guard p.count == size else { throw .payloadSizeMismatch(request, size: UInt32(p.count)) }
    }
    func u64() throws(VhostUserError) -> UInt64 {
      try expect(8)
      return p.littleEndian(at: 0, as: UInt64.self)
    }
    func state() throws(VhostUserError) -> VringState {
      try expect(VringState.size)
      return VringState(
        index: p.littleEndian(at: 0, as: UInt32.self), number: p.littleEndian(at: 4, as: UInt32.self))
    }
    func file() throws(VhostUserError) -> VringFileRequest {
      let value = try u64()
      return VringFileRequest(
        index: UInt32(value & VringFileRequest.indexMask), hasFD: value & VringFileRequest.noFDFlag == 0)
    }
    switch request {
    case .getFeatures:
      try expect(0)
      return .getFeatures
    case .setFeatures: return .setFeatures(try u64())
    case .setOwner:
      try expect(0)
      return .setOwner
    case .resetOwner:
      try expect(0)
      return .resetOwner
    case .setMemoryTable:
      guard p.count >= 8 else { throw .payloadSizeMismatch(request, size: UInt32(p.count)) }
      let count = p.littleEndian(at: 0, as: UInt32.self)
      guard count <= UInt32(maximumTableRegions) else { throw .tooManyRegions(count: count) }
      // QEMU sends exactly the regions in use; so does every front-end we
      // know. Accept the full 8-slot array too.
      let exact = 8 + Int(count) * MemoryRegionDescription.size
      let full = 8 + maximumTableRegions * MemoryRegionDescription.size
      guard p.count == exact || p.count == full else {
        throw .payloadSizeMismatch(request, size: UInt32(p.count))
      }
      var regions: [MemoryRegionDescription] = []
      for i in 0..<Int(count) { regions.append(region(p, at: 8 + i * MemoryRegionDescription.size)) }
      return .setMemoryTable(regions)
    case .setLogBase:
      try expect(16)
      return .setLogBase(
        size: p.littleEndian(at: 0, as: UInt64.self), offset: p.littleEndian(at: 8, as: UInt64.self))
    case .setLogFD: return .setLogFD
    case .setVringNum: return .setVringNum(try state())
    case .setVringAddress:
      try expect(VringAddress.size)
      return .setVringAddress(
        VringAddress(
          index: p.littleEndian(at: 0, as: UInt32.self), flags: p.littleEndian(at: 4, as: UInt32.self),
          descriptorTable: p.littleEndian(at: 8, as: UInt64.self),
          usedRing: p.littleEndian(at: 16, as: UInt64.self),
          availableRing: p.littleEndian(at: 24, as: UInt64.self), log: p.littleEndian(at: 32, as: UInt64.self)
        ))
    case .setVringBase: return .setVringBase(try state())
    case .getVringBase: return .getVringBase(index: try state().index)
    case .setVringKick: return .setVringKick(try file())
    case .setVringCall: return .setVringCall(try file())
    case .setVringError: return .setVringError(try file())
    case .getProtocolFeatures:
      try expect(0)
      return .getProtocolFeatures
    case .setProtocolFeatures: return .setProtocolFeatures(ProtocolFeatures(rawValue: try u64()))
    case .getQueueNum:
      try expect(0)
      return .getQueueNum
    case .setVringEnable: return .setVringEnable(try state())
    case .sendRARP: return .sendRARP(try u64())
    case .netSetMTU: return .netSetMTU(try u64())
    case .getConfig, .setConfig:
      guard p.count >= ConfigAccess.headerSize else {
        throw .payloadSizeMismatch(request, size: UInt32(p.count))
      }
      let offset = p.littleEndian(at: 0, as: UInt32.self)
      let size = p.littleEndian(at: 4, as: UInt32.self)
      let flags = p.littleEndian(at: 8, as: UInt32.self)
      guard size <= ConfigAccess.maximumSize, p.count == ConfigAccess.headerSize + Int(size) else {
        throw .payloadSizeMismatch(request, size: UInt32(p.count))
      }
      if request == .getConfig { return .getConfig(offset: offset, size: size, flags: flags) }
      return .setConfig(
        ConfigAccess(offset: offset, flags: flags, bytes: Array(p[ConfigAccess.headerSize...])))
    case .getMaxMemorySlots:
      try expect(0)
      return .getMaxMemorySlots
    case .addMemoryRegion, .removeMemoryRegion:
      // A u64 of padding, then one region.
      try expect(8 + MemoryRegionDescription.size)
      let r = region(p, at: 8)
      return request == .addMemoryRegion ? .addMemoryRegion(r) : .removeMemoryRegion(r)
    case .setStatus:
      let value = try u64()
      guard value <= 0xFF else { throw .payloadSizeMismatch(request, size: UInt32(p.count)) }
      return .setStatus(UInt8(value))
    case .getStatus:
      try expect(0)
      return .getStatus
    case .setBackendRequestFD:
      try expect(0)
      return .setBackendRequestFD
    case .iotlbMessage, .setVringEndian: throw .unsupportedRequest(request)
    }
  }

  private static func region(_ p: [UInt8], at offset: Int) -> MemoryRegionDescription {
    MemoryRegionDescription(
      guestAddress: p.littleEndian(at: offset, as: UInt64.self),
      size: p.littleEndian(at: offset + 8, as: UInt64.self),
      userAddress: p.littleEndian(at: offset + 16, as: UInt64.self),
      mmapOffset: p.littleEndian(at: offset + 24, as: UInt64.self))
  }
}
