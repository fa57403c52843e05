import BlockStorage

/// A volume's ciphertext in an NBD export (qemu-nbd, nbdkit, a storage
/// server): the card as a network block device client.
///
/// One request in flight at a time (queue depth 1), simple replies, each
/// reply's handle checked against the request's. A server error code, a
/// wrong handle or a closed connection is an I/O error for the guest; after
/// a protocol violation the connection is unusable and every later request
/// fails too.
public final class NBDBackend: BlockBackend {
  public let byteCount: UInt64
  public let isReadOnly: Bool
  public let supportsDiscard: Bool
  public let supportsWriteZeroes: Bool
  private let canFlush: Bool
  private let connection: NBDConnection
  private var nextHandle: UInt64 = 1
  private var isBroken = false
  /// Request header and reply header; also the handshake's scratch.
  private let header: UnsafeMutableRawBufferPointer

  public init(address: NBDAddress, exportName: String) throws(BlockIOError) {
    connection = try NBDConnection(connectingTo: address)
    header = .allocate(byteCount: NBDProtocol.maximumOptionReply, alignment: 8)
    let export: NBDExport
    do {
      export = try NBDHandshake.negotiate(connection, exportName: exportName, scratch: header)
    } catch {
      connection.close()
      header.deallocate()
      throw error
    }
    byteCount = export.byteCount
    isReadOnly = export.has(NBDProtocol.transmissionReadOnly)
    canFlush = export.has(NBDProtocol.transmissionSendFlush)
    supportsDiscard = !isReadOnly && export.has(NBDProtocol.transmissionSendTrim)
    supportsWriteZeroes = !isReadOnly && export.has(NBDProtocol.transmissionSendWriteZeroes)
  }

  deinit {
    disconnect()
    header.deallocate()
  }

  /// NBD_CMD_DISC: the server closes after finishing what it has; no reply.
  public func disconnect() {
    if !isBroken {
      _ = try? sendRequest(.disconnect, offset: 0, length: 0)
      isBroken = true
      connection.close()
    }
  }

  public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(BlockIOError) {
    var done = 0
    while done < buffer.count {
      let n = min(buffer.count - done, NBDProtocol.maximumRequestLength)
      let handle = try sendRequest(.read, offset: offset + UInt64(done), length: n)
      try receiveReply(handle: handle)
      try guarded { () throws(BlockIOError) in
        try connection.receive(into: UnsafeMutableRawBufferPointer(rebasing: buffer[done..<done + n]))
      }
      done += n
    }
  }

  public func write(at offset: UInt64, from buffer: UnsafeRawBufferPointer) throws(BlockIOError) {
    guard !isReadOnly else { throw .readOnly }
    var done = 0
    while done < buffer.count {
      let n = min(buffer.count - done, NBDProtocol.maximumRequestLength)
      let handle = try sendRequest(.write, offset: offset + UInt64(done), length: n)
      try guarded { () throws(BlockIOError) in
        try connection.send(UnsafeRawBufferPointer(rebasing: buffer[done..<done + n]))
      }
      try receiveReply(handle: handle)
      done += n
    }
  }

  public func flush() throws(BlockIOError) {
    // Without SEND_FLUSH the server writes through (proto.md): nothing to do.
    guard canFlush else { return }
    try receiveReply(handle: try sendRequest(.flush, offset: 0, length: 0))
  }

  public func discard(at offset: UInt64, length: UInt64) throws(BlockIOError) {
    guard supportsDiscard else { throw .unsupported }
    try ranged(.trim, offset: offset, length: length)
  }

  /// NBD_CMD_WRITE_ZEROES: the export reads zeros there afterwards. (An
  /// encrypted volume does not use it: zero ciphertext is not zero plaintext.)
  public func writeZeroes(at offset: UInt64, length: UInt64) throws(BlockIOError) {
    guard supportsWriteZeroes else { throw .unsupported }
    try ranged(.writeZeroes, offset: offset, length: length)
  }

  /// TRIM and WRITE_ZEROES carry a 32-bit length: split longer ranges.
  private func ranged(_ command: NBDProtocol.Command, offset: UInt64, length: UInt64) throws(BlockIOError) {
    var done: UInt64 = 0
    while done < length {
      let n = min(length - done, 1 << 30)
      try receiveReply(handle: try sendRequest(command, offset: offset + done, length: Int(n)))
      done += n
    }
  }

  /// Runs `body`; a failure in the middle of a message leaves the stream at
  /// an unknown position, so the connection is marked broken.
  private func guarded(_ body: () throws(BlockIOError) -> Void) throws(BlockIOError) {
    guard !isBroken else { throw .protocolViolation("connection already failed") }
    do {
      try body()
    } catch {
      isBroken = true
      throw error
    }
  }

  private func sendRequest(_ command: NBDProtocol.Command, offset: UInt64, length: Int) throws(BlockIOError)
    -> UInt64
  {
    let handle = nextHandle
    nextHandle &+= 1
    let request = UnsafeMutableRawBufferPointer(rebasing: header[0..<NBDProtocol.requestHeaderSize])
    request.storeBigEndian(NBDProtocol.requestMagic, at: 0)
    request.storeBigEndian(UInt16(0), at: 4)
    request.storeBigEndian(command.rawValue, at: 6)
    request.storeBigEndian(handle, at: 8)
    request.storeBigEndian(offset, at: 16)
    request.storeBigEndian(UInt32(length), at: 24)
    try guarded { () throws(BlockIOError) in try connection.send(UnsafeRawBufferPointer(request)) }
    return handle
  }

  /// Reads a simple reply and checks it answers `handle`; a server error
  /// becomes `.remote(code:)` (the stream stays usable: a failed simple
  /// reply carries no payload).
  private func receiveReply(handle: UInt64) throws(BlockIOError) {
    let reply = UnsafeMutableRawBufferPointer(rebasing: header[0..<NBDProtocol.simpleReplySize])
    try guarded { () throws(BlockIOError) in try connection.receive(into: reply) }
    let r = UnsafeRawBufferPointer(reply)
    guard r.loadBigEndian(at: 0, as: UInt32.self) == NBDProtocol.simpleReplyMagic,
      r.loadBigEndian(at: 8, as: UInt64.self) == handle
    else {
      isBroken = true
      throw .protocolViolation("reply with a wrong magic or handle")
    }
    let error = r.loadBigEndian(at: 4, as: UInt32.self)
    guard error == 0 else { throw .remote(code: error) }
  }
}
