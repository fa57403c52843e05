import Foundation
import Platform
import Synchronization
import VhostUser
import VhostUserBackend

/// A vhost-user-blk front-end for tests, playing QEMU's part without a
/// guest: it shares a memfd as guest memory, sets up request queue 0 as a
/// split ring (virtio 1.2 §2.7) and issues virtio-blk requests (§5.2.6)
/// one at a time, waiting for each on the used ring. It also gives the
/// back-end its request channel (VHOST_USER_SET_BACKEND_REQ_FD) when the
/// back-end offers one, so a capacity change can reach it.
///
/// Guest memory layout (guest-physical = offset in the memfd): descriptor
/// table at 0, available ring at 0x1000, used ring at 0x2000, request
/// header at 0x3000, status at 0x3100, data from 0x10000.
final class BlockFrontend {
  struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ text: String) { description = text }
  }

  static let memorySize: UInt64 = 4 << 20
  static let queueSize: UInt16 = 16
  static let frontendBase: UInt64 = 0x7F00_0000_0000
  static let dataAddress: UInt64 = 0x10000
  static let maximumTransfer = Int(memorySize - dataAddress)

  // virtio-blk request types and status (virtio 1.2 §5.2.6).
  static let typeIn: UInt32 = 0
  static let typeOut: UInt32 = 1
  static let typeFlush: UInt32 = 4
  static let typeGetID: UInt32 = 8
  static let statusOK: UInt8 = 0

  private let frontend: VhostUserFrontend
  private let memory: FileDescriptor
  private let mapping: SharedMapping
  private let kick: EventNotifier
  private let call: EventNotifier
  /// Our end of the back-end's request channel, if it offered one.
  private let backendChannel: FileDescriptor?
  private var availableIndex: UInt16 = 0
  private var usedIndex: UInt16 = 0
  let negotiatedFeatures: UInt64

  /// Connects to `path` and brings queue 0 up, as QEMU does when the
  /// guest's driver starts.
  init(path: String) throws {
    frontend = try VhostUserFrontend(path: path)
    try frontend.send(.getFeatures)
    let offered = try frontend.receiveU64()
    // VERSION_1, PROTOCOL_FEATURES, SIZE_MAX, SEG_MAX, RO, BLK_SIZE, FLUSH.
    let wanted: UInt64 = 1 << 32 | 1 << 30 | 1 << 1 | 1 << 2 | 1 << 5 | 1 << 6 | 1 << 9
    negotiatedFeatures = offered & wanted
    guard negotiatedFeatures & (1 << 30) != 0 else { throw Failure("no VHOST_USER_F_PROTOCOL_FEATURES") }
    try frontend.send(.setFeatures(negotiatedFeatures))
    try frontend.send(.getProtocolFeatures)
    let backendProtocol = ProtocolFeatures(rawValue: try frontend.receiveU64())
    let taken =
      backendProtocol.rawValue
      & (ProtocolFeatures.replyAck.rawValue | ProtocolFeatures.config.rawValue
        | ProtocolFeatures.backendRequest.rawValue)
    guard taken & ProtocolFeatures.replyAck.rawValue != 0 else { throw Failure("no REPLY_ACK") }
    try frontend.send(.setProtocolFeatures(ProtocolFeatures(rawValue: taken)))
    try frontend.send(.setOwner)
    if taken & ProtocolFeatures.backendRequest.rawValue != 0 {
      let (ours, theirs) = try UnixSocket.pair()
      // VHOST_USER_SET_BACKEND_REQ_FD (21): no payload, the fd attached.
      var header: [UInt8] = []
      MessageHeader(
        request: VhostUserRequest.setBackendRequestFD.rawValue,
        flags: MessageHeader.version | MessageHeader.needReplyFlag, size: 0
      ).encode(into: &header)
      try frontend.sendRaw(header, fds: [theirs.rawValue])
      try? theirs.close()
      guard try frontend.receiveU64() == 0 else { throw Failure("SET_BACKEND_REQ_FD refused") }
      backendChannel = ours
    } else {
      backendChannel = nil
    }

    memory = try MemoryFile.create(name: "block-frontend", size: Self.memorySize)
    mapping = try SharedMapping(fd: memory, length: Self.memorySize)
    try frontend.send(
      .setMemoryTable([
        MemoryRegionDescription(guestAddress: 0, size: Self.memorySize, userAddress: Self.frontendBase)
      ]), fds: [memory.rawValue], needsReply: true)
    guard try frontend.receiveU64() == 0 else { throw Failure("SET_MEM_TABLE refused") }
    kick = try EventNotifier()
    call = try EventNotifier()
    try frontend.send(.setVringNum(VringState(index: 0, number: UInt32(Self.queueSize))))
    try frontend.send(.setVringBase(VringState(index: 0, number: 0)))
    try frontend.send(
      .setVringAddress(
        VringAddress(
          index: 0, descriptorTable: Self.frontendBase, usedRing: Self.frontendBase + 0x2000,
          availableRing: Self.frontendBase + 0x1000)))
    try frontend.send(.setVringKick(VringFileRequest(index: 0, hasFD: true)), fds: [kick.fd.rawValue])
    try frontend.send(.setVringCall(VringFileRequest(index: 0, hasFD: true)), fds: [call.fd.rawValue])
    try frontend.send(.setVringEnable(VringState(index: 0, number: 1)), needsReply: true)
    guard try frontend.receiveU64() == 0 else { throw Failure("SET_VRING_ENABLE refused") }
  }

  deinit {
    frontend.close()
    try? kick.close()
    try? call.close()
    try? backendChannel?.close()
    try? mapping.unmap()
    try? memory.close()
  }

  var hasBackendChannel: Bool { backendChannel != nil }

  /// The device's config space (virtio_blk_config), read with GET_CONFIG.
  func configuration() throws -> (capacitySectors: UInt64, blockSize: UInt32, sizeMax: UInt32) {
    try frontend.send(.getConfig(offset: 0, size: 24, flags: 0))
    let reply = try frontend.receiveReply()
    guard reply.payload.count == 12 + 24 else {
      throw Failure("GET_CONFIG answered \(reply.payload.count) bytes")
    }
    let config = Array(reply.payload.dropFirst(12))
    return (Self.le64(config, 0), Self.le32(config, 20), Self.le32(config, 8))
  }

  /// The capacity in 512-byte sectors.
  var capacity: UInt64 { get throws { try configuration().capacitySectors } }

  /// Waits for VHOST_USER_BACKEND_CONFIG_CHANGE_MSG (2) on the back-end's
  /// request channel, answering it if the back-end asks for a reply.
  func waitForConfigChange(timeoutSeconds: Double = 30) throws {
    guard let channel = backendChannel else { throw Failure("the back-end offered no request channel") }
    let epoll = try Epoll()
    defer { try? epoll.close() }
    try epoll.add(channel, events: .readable, token: 0)
    guard try epoll.wait(timeoutMilliseconds: Int32(timeoutSeconds * 1000), { _ in }) > 0 else {
      throw Failure("no message on the back-end channel in \(timeoutSeconds) s")
    }
    var header = [UInt8](repeating: 0, count: MessageHeader.size)
    let received = try header.withUnsafeMutableBytes { bytes in
      var none: [Int32] = [-1]
      return try none.withUnsafeMutableBufferPointer { fds in
        try UnixSocket.receive(channel, into: bytes, fds: fds).byteCount
      }
    }
    guard received == MessageHeader.size else { throw Failure("short back-end message (\(received) bytes)") }
    let request = Self.le32(header, 0)
    let flags = Self.le32(header, 4)
    guard request == 2 else { throw Failure("back-end sent request \(request), not CONFIG_CHANGE_MSG") }
    if flags & MessageHeader.needReplyFlag != 0 {
      var reply: [UInt8] = []
      MessageHeader(request: request, flags: MessageHeader.version | MessageHeader.replyFlag, size: 8).encode(
        into: &reply)
      reply += [UInt8](repeating: 0, count: 8)
      _ = try reply.withUnsafeBytes { bytes in
        try [Int32]().withUnsafeBufferPointer { try UnixSocket.send(channel, bytes, fds: $0) }
      }
    }
  }

  /// The largest request this front-end sends: the device's `size_max`
  /// (one segment a request, as a driver honouring it would), a whole
  /// number of 4 KiB blocks.
  private lazy var transferLimit: Int = {
    let sizeMax = (try? configuration().sizeMax).map(Int.init) ?? 4096
    return max(4096, min(Self.maximumTransfer, sizeMax) / 4096 * 4096)
  }()

  /// Writes `data` at 512-byte sector `sector`, in requests of at most
  /// `size_max`; the first status that is not OK, or OK.
  func write(sector: UInt64, _ data: [UInt8]) throws -> UInt8 {
    var offset = 0
    while offset < data.count {
      let count = min(transferLimit, data.count - offset)
      data[offset..<offset + count].withUnsafeBytes { bytes in
        (mapping.pointer + Int(Self.dataAddress)).copyMemory(from: bytes.baseAddress!, byteCount: count)
      }
      let status = try request(
        type: Self.typeOut, sector: sector + UInt64(offset / 512), dataLength: count, deviceWrites: false)
      guard status == Self.statusOK else { return status }
      offset += count
    }
    return Self.statusOK
  }

  /// Reads `count` bytes from sector `sector`, in requests of at most
  /// `size_max`: the first status that is not OK (or OK) and the bytes.
  func read(sector: UInt64, count: Int) throws -> (status: UInt8, data: [UInt8]) {
    var data: [UInt8] = []
    while data.count < count {
      let part = min(transferLimit, count - data.count)
      let status = try request(
        type: Self.typeIn, sector: sector + UInt64(data.count / 512), dataLength: part, deviceWrites: true)
      guard status == Self.statusOK else { return (status, data) }
      data += UnsafeRawBufferPointer(start: mapping.pointer + Int(Self.dataAddress), count: part)
    }
    return (Self.statusOK, data)
  }

  func flush() throws -> UInt8 {
    try request(type: Self.typeFlush, sector: 0, dataLength: 0, deviceWrites: false)
  }

  /// GET_ID: the serial, up to 20 bytes, NUL-padded.
  func identifier() throws -> String {
    let status = try request(type: Self.typeGetID, sector: 0, dataLength: 20, deviceWrites: true)
    guard status == Self.statusOK else { throw Failure("GET_ID status \(status)") }
    let bytes = UnsafeRawBufferPointer(start: mapping.pointer + Int(Self.dataAddress), count: 20)
    return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
  }

  /// One request: header, optional data, status; waits until the device
  /// returns it on the used ring.
  private func request(type: UInt32, sector: UInt64, dataLength: Int, deviceWrites: Bool) throws -> UInt8 {
    let base = mapping.pointer
    let header = base + 0x3000
    header.storeBytes(of: type.littleEndian, toByteOffset: 0, as: UInt32.self)
    header.storeBytes(of: UInt32(0), toByteOffset: 4, as: UInt32.self)
    header.storeBytes(of: sector.littleEndian, toByteOffset: 8, as: UInt64.self)
    base.storeBytes(of: UInt8(0xFF), toByteOffset: 0x3100, as: UInt8.self)
    var chain: [(address: UInt64, length: UInt32, writable: Bool)] = [(0x3000, 16, false)]
    if dataLength > 0 { chain.append((Self.dataAddress, UInt32(dataLength), deviceWrites)) }
    chain.append((0x3100, 1, true))
    for (i, buffer) in chain.enumerated() {
      let descriptor = base + 16 * i
      descriptor.storeBytes(of: buffer.address.littleEndian, toByteOffset: 0, as: UInt64.self)
      descriptor.storeBytes(of: buffer.length.littleEndian, toByteOffset: 8, as: UInt32.self)
      let flags: UInt16 = (i + 1 < chain.count ? 1 : 0) | (buffer.writable ? 2 : 0)
      descriptor.storeBytes(of: flags.littleEndian, toByteOffset: 12, as: UInt16.self)
      descriptor.storeBytes(of: UInt16(i + 1).littleEndian, toByteOffset: 14, as: UInt16.self)
    }
    let available = base + 0x1000
    available.storeBytes(
      of: UInt16(0).littleEndian, toByteOffset: 4 + 2 * Int(availableIndex % Self.queueSize), as: UInt16.self)
    availableIndex &+= 1
    atomicMemoryFence(ordering: .sequentiallyConsistent)
    available.storeBytes(of: availableIndex.littleEndian, toByteOffset: 2, as: UInt16.self)
    atomicMemoryFence(ordering: .sequentiallyConsistent)
    try kick.signal()

    let used = base + 0x2000
    let deadline = Date().addingTimeInterval(30)
    while UInt16(littleEndian: used.loadUnaligned(fromByteOffset: 2, as: UInt16.self)) == usedIndex {
      guard Date() < deadline else { throw Failure("request type \(type) was not completed in 30 s") }
      usleep(500)
    }
    atomicMemoryFence(ordering: .sequentiallyConsistent)
    usedIndex &+= 1
    return base.load(fromByteOffset: 0x3100, as: UInt8.self)
  }

  static func le32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
    (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
  }

  static func le64(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
    (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * $1) }
  }
}
