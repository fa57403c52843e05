import Management
import Testing

let sample = DesiredState(
  generation: 42,
  nics: [
    NicSlice(
      id: 1, vni: 0x12_3456, mac: [0x02, 0, 0, 0, 0, 1], addresses: [.host([10, 0, 1, 5])],
      securityGroups: [7, 8], sourceGuard: true, maxBandwidthMbps: 1000, maxPacketsPerSecond: 50_000,
      subnet: IPPrefix(address: [10, 0, 1, 0], length: 24))
  ],
  routes: [
    RouteSlice(vni: 7, destination: IPPrefix(address: [0, 0, 0, 0], length: 0), target: .tunnel(3)),
    RouteSlice(vni: 7, destination: IPPrefix(address: [10, 0, 0, 0], length: 16), target: .local),
  ],
  mappings: [
    MappingSlice(
      vni: 7, overlayAddress: .host([10, 0, 1, 6]), mac: [0x02, 0, 0, 0, 0, 2],
      underlayAddress: .host([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9]))
  ],
  securityGroups: [
    SecurityGroupSlice(
      id: 7,
      rules: [
        .init(
          direction: .ingress, protocolNumber: 6, fromPort: 443, toPort: 443,
          peer: IPPrefix(address: [0, 0, 0, 0], length: 0))
      ])
  ],
  volumes: [
    VolumeSlice(
      id: 1, sizeBytes: 1 << 30, cipher: .aesXTS256, wrappedKey: [1, 2, 3], backend: "nbd:10.0.0.5:10809",
      exportName: "e", sectorSize: 512, readOnly: true, hostFunction: "vol-1.sock", queues: 4)
  ],
  securityAssociations: [
    SecurityAssociationSlice(
      tunnel: 3, spi: 0x1000, direction: .outbound, cipher: .aesGCM256, localAddress: .host([192, 0, 2, 1]),
      remoteAddress: .host([198, 51, 100, 1]), extendedSequenceNumbers: true, antiReplayWindow: 1024,
      wrappedKey: [9, 9])
  ],
  sites: [
    SiteSlice(
      id: 3, vni: 4096, gateway: .host([198, 51, 100, 1]),
      remote: IPPrefix(address: [10, 254, 1, 0], length: 24),
      local: IPPrefix(address: [10, 0, 0, 0], length: 16))
  ])

let messages: [ManagementMessage] = [
  .hello(Hello(cardID: "card-7", firmwareVersion: "0.1.0", capabilities: [.geneve, .ipsecOffload])),
  .hello(Hello(cardID: "card-8", firmwareVersion: "0.2.0", capabilities: [], appliedGeneration: 1 << 40)),
  // Boot state (tag 6), added after the first release.
  .hello(
    Hello(
      cardID: "card-9", firmwareVersion: "1.0.0", capabilities: [], appliedGeneration: 3,
      bootState: "slot=A fell-back-from=B version=2.0.0 reason=not-confirmed")),
  .desiredState(sample),
  .applied(Applied(generation: 42)),
  .heartbeat(Heartbeat(sequence: 9, appliedGeneration: 42, counters: [.init(id: 1, value: 1 << 40)])),
  .error(ErrorReport(code: .cannotApply, generation: 42, message: "no room for 5 SAs")),
]

@Test(arguments: messages)
func everyMessageRoundTrips(_ message: ManagementMessage) throws {
  let frame = try message.encodeFrame()
  #expect(frame[0] == 0x42 && frame[1] == 0x4D)
  #expect(try ManagementMessage.decodeFrame(frame[...]) == message)
}

@Test func streamDecoderReassemblesFramesSplitAnywhere() throws {
  let stream = try messages.flatMap { try $0.encodeFrame() }
  for piece in [1, 3, 7, 64, stream.count] {
    var decoder = FrameStreamDecoder()
    var decoded: [ManagementMessage] = []
    var offset = 0
    while offset < stream.count {
      decoder.append(stream[offset..<min(offset + piece, stream.count)])
      offset += piece
      while let message = try decoder.nextMessage() { decoded.append(message) }
    }
    #expect(decoded == messages)
    #expect(decoder.bufferedCount == 0)
  }
}

@Test func headerErrorsAreTyped() throws {
  var frame = try ManagementMessage.applied(Applied(generation: 1)).encodeFrame()
  var bad = frame
  bad[0] = 0
  #expect(throws: ManagementError.badMagic(0x004D)) { try ManagementMessage.decodeFrame(bad[...]) }
  bad = frame
  bad[2] = 9
  #expect(throws: ManagementError.unsupportedVersion(9)) { try ManagementMessage.decodeFrame(bad[...]) }
  bad = frame
  bad[3] = 200
  #expect(throws: ManagementError.unknownMessageType(200)) { try ManagementMessage.decodeFrame(bad[...]) }
  bad = frame
  bad[4] = 0x80
  #expect(throws: ManagementError.unsupportedFlags(0x8000)) { try ManagementMessage.decodeFrame(bad[...]) }
  #expect(throws: ManagementError.truncated(needed: 11, available: 10)) {
    try ManagementMessage.decodeFrame(frame.dropLast())
  }
  frame.append(0)
  #expect(throws: ManagementError.trailingBytes(1)) { try ManagementMessage.decodeFrame(frame[...]) }
}

@Test func oversizedLengthIsRefusedBeforeThePayloadArrives() throws {
  var decoder = FrameStreamDecoder(payloadLimit: 64)
  decoder.append([0x42, 0x4D, 1, 2, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF])
  #expect(throws: ManagementError.payloadTooLarge(length: 0xFFFF_FFFF, limit: 64)) {
    try decoder.nextMessage()
  }
}

@Test func payloadErrorsNameTheField() throws {
  // Applied without its generation.
  let empty: [UInt8] = [0x42, 0x4D, 1, 3, 0, 0, 0, 0, 0, 0]
  #expect(throws: ManagementError.missingField(tag: 1)) { try ManagementMessage.decodeFrame(empty[...]) }
  // Generation with a 2-byte value.
  let short: [UInt8] = [0x42, 0x4D, 1, 3, 0, 0, 0, 0, 0, 5, 1, 0, 2, 0, 1]
  #expect(throws: ManagementError.badFieldLength(tag: 1, length: 2)) {
    try ManagementMessage.decodeFrame(short[...])
  }
  // A TLV whose length runs past the payload.
  let overrun: [UInt8] = [0x42, 0x4D, 1, 3, 0, 0, 0, 0, 0, 3, 1, 0, 8]
  #expect(throws: ManagementError.truncated(needed: 8, available: 0)) {
    try ManagementMessage.decodeFrame(overrun[...])
  }
  // The generation twice.
  let twice: [UInt8] =
    [0x42, 0x4D, 1, 3, 0, 0, 0, 0, 0, 22] + [1, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1]
    + [1, 0, 8, 0, 0, 0, 0, 0, 0, 0, 2]
  #expect(throws: ManagementError.duplicateField(tag: 1)) { try ManagementMessage.decodeFrame(twice[...]) }
}

@Test func unknownFieldsAreSkippedForForwardCompatibility() throws {
  let frame: [UInt8] =
    [0x42, 0x4D, 1, 3, 0, 0, 0, 0, 0, 17] + [60, 0, 3, 7, 7, 7]
    + [1, 0, 8, 0, 0, 0, 0, 0, 0, 0, 5]
  #expect(try ManagementMessage.decodeFrame(frame[...]) == .applied(Applied(generation: 5)))
}

@Test func invalidUTF8AndOutOfRangeValuesAreRejected() throws {
  // Hello whose card id is a lone continuation byte.
  let hello: [UInt8] = [0x42, 0x4D, 1, 1, 0, 0, 0, 0, 0, 4] + [1, 0, 1, 0x80]
  #expect(throws: ManagementError.invalidUTF8(tag: 1)) { try ManagementMessage.decodeFrame(hello[...]) }
  var state = DesiredState(generation: 1)
  state.nics = [NicSlice(id: 1, vni: 1 << 24, mac: [0, 0, 0, 0, 0, 1])]
  let frame = try ManagementMessage.desiredState(state).encodeFrame()
  #expect(throws: ManagementError.invalidValue(tag: 2, value: 1 << 24)) {
    try ManagementMessage.decodeFrame(frame[...])
  }
}

@Test(arguments: [(UInt16(1024), UInt16(2)), (UInt16(4096), UInt16(0)), (UInt16(512), UInt16(17))])
func volumeSectorSizesAndQueueCountsOutOfRangeAreRejected(sectorSize: UInt16, queues: UInt16) throws {
  var state = DesiredState(generation: 1)
  state.volumes = [
    VolumeSlice(
      id: 1, sizeBytes: 1 << 20, cipher: .aesXTS256, wrappedKey: [1], backend: "file:/v",
      sectorSize: sectorSize,
      hostFunction: "v.sock", queues: queues)
  ]
  let frame = try ManagementMessage.desiredState(state).encodeFrame()
  let expected: ManagementError =
    sectorSize == 4096 || sectorSize == 512
    ? .invalidValue(tag: 10, value: UInt64(queues)) : .invalidValue(tag: 7, value: UInt64(sectorSize))
  #expect(throws: expected) { try ManagementMessage.decodeFrame(frame[...]) }
}

@Test func aVolumeFromAnOlderControllerDecodesWithDefaults() throws {
  var fields = TLVWriter()
  fields.field(1, UInt32(3))
  fields.field(2, UInt64(1 << 20))
  fields.field(3, SliceCipher.aesXTS256.rawValue)
  try fields.field(4, bytes: [7, 7])
  try fields.field(5, "file:/v")
  let volume = try VolumeSlice.decode(fields.bytes[...])
  #expect(
    volume
      == VolumeSlice(id: 3, sizeBytes: 1 << 20, cipher: .aesXTS256, wrappedKey: [7, 7], backend: "file:/v"))
  #expect(volume.sectorSize == 4096 && volume.queues == 2 && !volume.readOnly && volume.hostFunction.isEmpty)
}

@Test func longErrorMessagesAreCutOnACharacterBoundary() throws {
  let text = String(repeating: "é", count: 700)  // 1400 bytes
  let frame = try ManagementMessage.error(ErrorReport(code: .cannotApply, message: text)).encodeFrame()
  guard case .error(let report) = try ManagementMessage.decodeFrame(frame[...]) else {
    Issue.record("not an error report")
    return
  }
  #expect(report.message.utf8.count == 1024)
  #expect(report.message == String(repeating: "é", count: 512))
}

@Test func aHelloWithoutAppliedGenerationReadsAsGenerationZero() throws {
  // What a card that predates the field sends: id and firmware only.
  var fields = TLVWriter()
  try fields.field(1, "card-1")
  try fields.field(2, "0.0.1")
  #expect(try Hello.decode(fields.bytes[...]).appliedGeneration == 0)
}
