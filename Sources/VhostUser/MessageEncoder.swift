/// Encodes messages as a front-end sends them (tests and the hostile
/// front-end) — the inverse of `decode`.
extension VhostUserMessage {
  /// Header and payload bytes. `needsReply` sets the REPLY_ACK request bit.
  public func encoded(needsReply: Bool = false) -> [UInt8] {
    let payload = encodedPayload()
    var bytes: [UInt8] = []
    let flags = MessageHeader.version | (needsReply ? MessageHeader.needReplyFlag : 0)
    MessageHeader(request: request.rawValue, flags: flags, size: UInt32(payload.count)).encode(into: &bytes)
    return bytes + payload
  }

  public func encodedPayload() -> [UInt8] {
    var p: [UInt8] = []
    func state(_ s: VringState) {
      p.appendLittleEndian(s.index)
      p.appendLittleEndian(s.number)
    }
    func region(_ r: MemoryRegionDescription) {
      p.appendLittleEndian(r.guestAddress)
      p.appendLittleEndian(r.size)
      p.appendLittleEndian(r.userAddress)
      p.appendLittleEndian(r.mmapOffset)
    }
    switch self {
    case .getFeatures, .setOwner, .resetOwner, .setLogFD, .getProtocolFeatures, .getQueueNum,
      .getMaxMemorySlots, .getStatus, .setBackendRequestFD:
      break
    case .setFeatures(let v), .sendRARP(let v), .netSetMTU(let v): p.appendLittleEndian(v)
    case .setProtocolFeatures(let f): p.appendLittleEndian(f.rawValue)
    case .setMemoryTable(let regions):
      p.appendLittleEndian(UInt32(regions.count))
      p.appendLittleEndian(UInt32(0))
      for r in regions { region(r) }
    case .setLogBase(let size, let offset):
      p.appendLittleEndian(size)
      p.appendLittleEndian(offset)
    case .setVringNum(let s), .setVringBase(let s), .setVringEnable(let s): state(s)
    case .getVringBase(let index): state(VringState(index: index, number: 0))
    case .setVringAddress(let a):
      p.appendLittleEndian(a.index)
      p.appendLittleEndian(a.flags)
      p.appendLittleEndian(a.descriptorTable)
      p.appendLittleEndian(a.usedRing)
      p.appendLittleEndian(a.availableRing)
      p.appendLittleEndian(a.log)
    case .setVringKick(let f), .setVringCall(let f), .setVringError(let f): p.appendLittleEndian(f.encoded)
    case .getConfig(let offset, let size, let flags):
      p.appendLittleEndian(offset)
      p.appendLittleEndian(size)
      p.appendLittleEndian(flags)
      p += [UInt8](repeating: 0, count: Int(size))
    case .setConfig(let c):
      p.appendLittleEndian(c.offset)
      p.appendLittleEndian(UInt32(c.bytes.count))
      p.appendLittleEndian(c.flags)
      p += c.bytes
    case .addMemoryRegion(let r), .removeMemoryRegion(let r):
      p.appendLittleEndian(UInt64(0))
      region(r)
    case .setStatus(let s): p.appendLittleEndian(UInt64(s))
    }
    return p
  }
}
