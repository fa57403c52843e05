import BlockStorage

/// The export a server agreed to serve (NBD_INFO_EXPORT).
struct NBDExport {
  var byteCount: UInt64
  var transmissionFlags: UInt16

  func has(_ flag: UInt16) -> Bool { transmissionFlags & flag != 0 }
}

/// Fixed newstyle negotiation with NBD_OPT_GO (proto.md "Option haggling").
/// Everything the server sends is checked: a wrong magic, an oversized or
/// truncated reply, or an error reply ends the attach with a typed error.
enum NBDHandshake {
  static func negotiate(
    _ connection: NBDConnection, exportName: String, scratch: UnsafeMutableRawBufferPointer
  ) throws(BlockIOError) -> NBDExport {
    precondition(scratch.count >= NBDProtocol.maximumOptionReply, "handshake scratch too small")
    let greeting = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<18])
    try connection.receive(into: greeting)
    let g = UnsafeRawBufferPointer(greeting)
    guard g.loadBigEndian(at: 0, as: UInt64.self) == NBDProtocol.initialMagic,
      g.loadBigEndian(at: 8, as: UInt64.self) == NBDProtocol.optionMagic
    else { throw .protocolViolation("not a fixed newstyle NBD server") }
    let serverFlags = g.loadBigEndian(at: 16, as: UInt16.self)
    guard serverFlags & NBDProtocol.flagFixedNewstyle != 0 else {
      throw .protocolViolation("server lacks fixed newstyle negotiation")
    }
    var clientFlags = NBDProtocol.clientFlagFixedNewstyle
    if serverFlags & NBDProtocol.flagNoZeroes != 0 { clientFlags |= NBDProtocol.clientFlagNoZeroes }
    let flagsOut = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<4])
    flagsOut.storeBigEndian(clientFlags, at: 0)
    try connection.send(UnsafeRawBufferPointer(flagsOut))

    // NBD_OPT_GO: name length, name, no information requests.
    let name = Array(exportName.utf8)
    guard name.count <= NBDProtocol.maximumOptionReply - 32 else {
      throw .protocolViolation("export name too long")
    }
    let optionLength = 4 + name.count + 2
    let option = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<16 + optionLength])
    option.storeBigEndian(NBDProtocol.optionMagic, at: 0)
    option.storeBigEndian(NBDProtocol.optionGo, at: 8)
    option.storeBigEndian(UInt32(optionLength), at: 12)
    option.storeBigEndian(UInt32(name.count), at: 16)
    for (i, byte) in name.enumerated() { option[20 + i] = byte }
    option.storeBigEndian(UInt16(0), at: 20 + name.count)
    try connection.send(UnsafeRawBufferPointer(option))

    var export: NBDExport? = nil
    while true {
      let header = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<20])
      try connection.receive(into: header)
      let h = UnsafeRawBufferPointer(header)
      guard h.loadBigEndian(at: 0, as: UInt64.self) == NBDProtocol.optionReplyMagic,
        h.loadBigEndian(at: 8, as: UInt32.self) == NBDProtocol.optionGo
      else { throw .protocolViolation("bad option reply") }
      let type = h.loadBigEndian(at: 12, as: UInt32.self)
      let length = Int(h.loadBigEndian(at: 16, as: UInt32.self))
      guard length <= NBDProtocol.maximumOptionReply else {
        throw .protocolViolation("option reply too long")
      }
      if type & NBDProtocol.replyErrorBit != 0 {
        try connection.skip(length, using: scratch)
        throw .remote(code: type)
      }
      let payload = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<length])
      try connection.receive(into: payload)
      switch type {
      case NBDProtocol.replyAck:
        guard let export else { throw .protocolViolation("NBD_OPT_GO acknowledged without NBD_INFO_EXPORT") }
        return export
      case NBDProtocol.replyInfo:
        let p = UnsafeRawBufferPointer(payload)
        guard length >= 2 else { throw .protocolViolation("empty NBD_REP_INFO") }
        if p.loadBigEndian(at: 0, as: UInt16.self) == NBDProtocol.infoExport {
          guard length == 12 else { throw .protocolViolation("NBD_INFO_EXPORT of the wrong size") }
          export = NBDExport(
            byteCount: p.loadBigEndian(at: 2, as: UInt64.self),
            transmissionFlags: p.loadBigEndian(at: 10, as: UInt16.self))
        }
      default:
        break  // Replies we did not ask for are ignored (proto.md allows new ones).
      }
    }
  }
}
