import Testing

@testable import VhostUser

@Suite struct MessageCodecTests {
  static let samples: [VhostUserMessage] = [
    .getFeatures, .setFeatures(0x1_4000_0000), .setOwner, .resetOwner,
    .setMemoryTable([
      MemoryRegionDescription(guestAddress: 0, size: 0xA0000, userAddress: 0x7F00_0000_0000),
      MemoryRegionDescription(
        guestAddress: 0x10_0000, size: 0x1000_0000, userAddress: 0x7F10_0000_0000, mmapOffset: 0x10_0000),
    ]),
    .setLogBase(size: 4096, offset: 0), .setLogFD, .setVringNum(VringState(index: 1, number: 256)),
    .setVringAddress(
      VringAddress(index: 0, descriptorTable: 0x1000, usedRing: 0x3000, availableRing: 0x2000)),
    .setVringBase(VringState(index: 0, number: 17)), .getVringBase(index: 1),
    .setVringKick(VringFileRequest(index: 1, hasFD: true)),
    .setVringCall(VringFileRequest(index: 0, hasFD: false)),
    .setVringError(VringFileRequest(index: 0, hasFD: true)), .getProtocolFeatures,
    .setProtocolFeatures([.replyAck, .config]), .getQueueNum,
    .setVringEnable(VringState(index: 0, number: 1)),
    .sendRARP(0x5634_1200_5452), .netSetMTU(1500), .getConfig(offset: 0, size: 12, flags: 0),
    .setConfig(ConfigAccess(offset: 6, bytes: [1, 2])), .getMaxMemorySlots,
    .addMemoryRegion(MemoryRegionDescription(guestAddress: 0, size: 4096, userAddress: 0x1000)),
    .removeMemoryRegion(MemoryRegionDescription(guestAddress: 0, size: 4096, userAddress: 0x1000)),
    .setStatus(0x0F), .getStatus,
  ]

  @Test(arguments: samples) func roundTrip(_ message: VhostUserMessage) throws {
    let bytes = message.encoded()
    let header = try MessageHeader(parsing: Array(bytes[0..<12]))
    let decoded = try VhostUserMessage.decode(
      header: header, payload: Array(bytes[12...]), fdCount: message.fdCount)
    #expect(decoded == message)
    #expect(header.size == UInt32(bytes.count - 12))
  }

  @Test func headerChecksVersionAndSize() {
    #expect(throws: VhostUserError.truncatedHeader) { try MessageHeader(parsing: [1, 0, 0]) }
    var bytes: [UInt8] = []
    MessageHeader(request: 1, flags: 2, size: 0).encode(into: &bytes)
    #expect(throws: VhostUserError.unsupportedVersion(flags: 2)) { try MessageHeader(parsing: bytes) }
    bytes = []
    MessageHeader(request: 1, size: 1 << 20).encode(into: &bytes)
    #expect(throws: VhostUserError.payloadTooLarge(size: 1 << 20)) { try MessageHeader(parsing: bytes) }
  }

  @Test func malformedPayloadsAreTypedErrors() {
    func decode(_ request: UInt32, _ payload: [UInt8], fds: Int = 0) throws(VhostUserError)
      -> VhostUserMessage
    {
      try VhostUserMessage.decode(
        header: MessageHeader(request: request, size: UInt32(payload.count)), payload: payload, fdCount: fds)
    }
    #expect(throws: VhostUserError.unknownRequest(99)) { try decode(99, []) }
    #expect(throws: VhostUserError.payloadSizeMismatch(.setFeatures, size: 4)) {
      try decode(2, [0, 0, 0, 0])
    }
    #expect(throws: VhostUserError.payloadSizeMismatch(.setVringAddress, size: 8)) {
      try decode(9, [UInt8](repeating: 0, count: 8))
    }
    // Nine regions.
    var table: [UInt8] = [9, 0, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 9 * 32)
    #expect(throws: VhostUserError.tooManyRegions(count: 9)) { try decode(5, table, fds: 9) }
    // Two regions announced, one present.
    table = [2, 0, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 32)
    #expect(throws: VhostUserError.payloadSizeMismatch(.setMemoryTable, size: 40)) {
      try decode(5, table, fds: 2)
    }
    table = [1, 0, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 32)
    #expect(throws: VhostUserError.missingFD(.setMemoryTable)) { try decode(5, table, fds: 0) }
    #expect(throws: VhostUserError.tooManyFDs(.setMemoryTable, count: 3)) { try decode(5, table, fds: 3) }
    #expect(throws: VhostUserError.tooManyFDs(.getFeatures, count: 1)) { try decode(1, [], fds: 1) }
    // Kick with an fd announced but none sent, and NOFD with one sent.
    #expect(throws: VhostUserError.missingFD(.setVringKick)) { try decode(12, [0, 0, 0, 0, 0, 0, 0, 0]) }
    #expect(throws: VhostUserError.tooManyFDs(.setVringKick, count: 1)) {
      try decode(12, [0, 1, 0, 0, 0, 0, 0, 0], fds: 1)
    }
    // Config: size field larger than the bytes, and over 256.
    #expect(throws: VhostUserError.payloadSizeMismatch(.getConfig, size: 12)) {
      try decode(24, [0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0])
    }
    let big: [UInt8] = [0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 257)
    #expect(throws: VhostUserError.payloadSizeMismatch(.setConfig, size: 269)) { try decode(25, big) }
    #expect(throws: VhostUserError.unsupportedRequest(.iotlbMessage)) { try decode(22, []) }
    #expect(throws: VhostUserError.payloadSizeMismatch(.setStatus, size: 8)) {
      try decode(39, [0, 1, 0, 0, 0, 0, 0, 0])
    }
  }

  @Test func framerCutsAStreamAtEveryByte() throws {
    let messages: [VhostUserMessage] = [
      .getFeatures, .setVringNum(VringState(index: 0, number: 64)), .setOwner,
    ]
    let stream = messages.flatMap { $0.encoded() }
    var framer = MessageFramer()
    var out: [VhostUserMessage] = []
    for byte in stream {
      framer.append([byte][...], fds: [][...])
      while let frame = try framer.next() {
        out.append(try VhostUserMessage.decode(header: frame.header, payload: frame.payload, fdCount: 0))
      }
    }
    #expect(out == messages)
    #expect(framer.wanted == 12)
  }

  @Test func framerRefusesBrokenFraming() {
    var framer = MessageFramer()
    var bytes: [UInt8] = []
    MessageHeader(request: 1, flags: 0, size: 0).encode(into: &bytes)
    framer.append(bytes[...], fds: [5][...])
    #expect(throws: VhostUserError.unsupportedVersion(flags: 0)) { try framer.next() }
    #expect(framer.takePendingFDs() == [5])
  }
}
