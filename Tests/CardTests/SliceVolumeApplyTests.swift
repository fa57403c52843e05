import BlockStorage
import Card
import CardAgent
import CardCrypto
import Foundation
import Management
import Platform
import Testing
import VhostUser
import VhostUserBackend
import Virtio
import VirtioBlk
import VirtioDriver
import Volumes

/// A card applying slices of volumes: the applier on the channel's side
/// (checks, opens and sizes backends), the handoff, and `VolumeFunctions`
/// on the loop's side (attach, resize, replace, detach), on real files in
/// a temporary directory with a real KEK.
final class SliceVolumeCard {
  let fixture: SliceVolumeFixture
  let handoff: CardConfigurationHandoff
  var applier: SliceApplier
  let functions: VolumeFunctions
  var log: [String] = []

  init(_ fixture: SliceVolumeFixture) throws {
    self.fixture = fixture
    handoff = try CardConfigurationHandoff()
    applier = SliceApplier(
      base: fixture.base, handoff: handoff, keyEncryptionKey: try fixture.kek(),
      hostFunctionDirectory: fixture.directory)
    // The server's own lines (connections) are not needed here.
    functions = try VolumeFunctions([], log: { _ in })
  }

  /// Applies on the channel's side only.
  func publish(_ volumes: [VolumeSlice], generation: UInt64) throws(ApplyFailure) {
    try applier.apply(fixture.state(volumes, generation: generation))
  }

  /// Takes the pending generation on the loop's side; the failures.
  @discardableResult
  func takeOnLoop() throws -> Int {
    let pending = try #require(handoff.take())
    return functions.apply(pending.volumes, log: { self.log.append($0) })
  }

  /// Both sides, as the card does.
  @discardableResult
  func apply(_ volumes: [VolumeSlice], generation: UInt64) throws -> Int {
    try publish(volumes, generation: generation)
    return try takeOnLoop()
  }

  func function(_ hostFunction: String) -> VolumeFunctions.SliceFunction? {
    functions.sliceFunctions.first { $0.volume.hostFunction == hostFunction }
  }

  func stop() {
    functions.detachAll(log: { self.log.append($0) })
    fixture.remove()
  }
}

@Suite(.serialized) struct SliceVolumeApplyTests {
  @Test func volumesAreAttachedResizedReplacedAndDetachedByHostFunction() throws {
    let f = try SliceVolumeFixture()
    let card = try SliceVolumeCard(f)
    defer { card.stop() }
    // b.img exists and is larger than the volume: only 1 MiB is served.
    #expect(FileManager.default.createFile(atPath: f.path("b.img"), contents: Data(count: 2 << 20)))
    let a1 = try f.volume(id: 1, hostFunction: "a", file: "a.img")
    let b1 = try f.volume(id: 2, hostFunction: "b", file: "b.img")
    #expect(try card.apply([a1, b1], generation: 1) == 0)
    #expect(f.fileSize("a.img") == 1 << 20)
    #expect(f.fileSize("b.img") == 2 << 20)
    var st = stat()
    #expect(stat(f.path("a.img"), &st) == 0 && st.st_blocks == 0, "a missing file is created sparse")
    let a = try #require(card.function("a"))
    let b = try #require(card.function("b"))
    #expect(a.device.store.sectorCount == 2048 && b.device.store.sectorCount == 2048)
    #expect(UnixSocket.mayReplace(path: f.path("a")) && FileManager.default.fileExists(atPath: f.path("a")))
    #expect(card.log.contains { $0.hasPrefix("volume 1: attached (file:" + f.path("a.img")) })

    // a grows, b stays, c is new.
    var a2 = a1
    a2.sizeBytes = 2 << 20
    let c = try f.volume(id: 3, hostFunction: "c", file: "c.img", sizeBytes: 64 * 512, sectorSize: 512)
    #expect(try card.apply([a2, b1, c], generation: 2) == 0)
    #expect(f.fileSize("a.img") == 2 << 20)
    #expect(card.function("a")?.device === a.device, "resized in place")
    #expect(a.device.store.sectorCount == 4096 && a.device.advertisedCapacity == 4096)
    #expect(a.device.store.isAttached)
    #expect(card.function("b")?.device === b.device, "untouched")
    #expect(card.function("c")?.device.store.sectorCount == 64)
    #expect(card.log.contains("volume 1: resized to 2 MiB"))

    // a leaves; b turns read-only (replaced); c stays.
    var b2 = b1
    b2.readOnly = true
    let cDevice = try #require(card.function("c")).device
    #expect(try card.apply([b2, c], generation: 3) == 0)
    #expect(card.function("a") == nil && !a.device.store.isAttached)
    #expect(!FileManager.default.fileExists(atPath: f.path("a")))
    #expect(card.log.contains("volume 1: detached, key zeroed"))
    let newB = try #require(card.function("b"))
    #expect(newB.device !== b.device && newB.device.store.isReadOnly && !b.device.store.isAttached)
    #expect(card.log.contains("volume 2: detached, key zeroed"))
    #expect(card.function("c")?.device === cDevice)
    #expect(card.functions.sliceFunctions.count == 2)
  }

  @Test func shrinkingAndBackendsThatCannotBeOpenedRejectTheGeneration() throws {
    let f = try SliceVolumeFixture()
    let card = try SliceVolumeCard(f)
    defer { card.stop() }
    let a = try f.volume(id: 1, hostFunction: "a", file: "a.img", sizeBytes: 2 << 20)
    try card.apply([a], generation: 1)
    let device = try #require(card.function("a")).device

    var smaller = a
    smaller.sizeBytes = 1 << 20
    do {
      try card.publish([smaller], generation: 2)
      Issue.record("a volume shrank")
    } catch {
      #expect(error.message.contains("volume 1: bad sizeBytes (shrinking"), "\(error.message)")
    }
    var elsewhere = try f.volume(id: 4, hostFunction: "d", file: "no-such-dir/d.img")
    elsewhere.backend = "file:" + f.directory + "/no-such-dir/d.img"
    do {
      try card.publish([a, elsewhere], generation: 3)
      Issue.record("a backend that cannot be created was accepted")
    } catch {
      #expect(error.message.contains("volume 4: bad backend"), "\(error.message)")
    }
    // A socket path that is not a socket (here: a regular file) is kept.
    #expect(FileManager.default.createFile(atPath: f.path("card.state"), contents: Data([1, 2, 3])))
    let onAFile = try f.volume(id: 5, hostFunction: "card.state", file: "e.img")
    do {
      try card.publish([a, onAFile], generation: 4)
      Issue.record("a volume's socket replaced a file")
    } catch {
      #expect(error.message.contains("is not a socket"), "\(error.message)")
    }
    #expect(f.fileSize("card.state") == 3)
    // Nothing was handed over; the generation in force stays.
    #expect(card.handoff.take() == nil)
    #expect(card.function("a")?.device === device && device.store.sectorCount == 4096)
    #expect(f.fileSize("a.img") == 2 << 20)
  }

  @Test func whatAReplacedGenerationOpenedIsCarriedToTheNext() throws {
    let f = try SliceVolumeFixture()
    let card = try SliceVolumeCard(f)
    defer { card.stop() }
    let d = try f.volume(id: 8, hostFunction: "d", file: "d.img")
    try card.publish([d], generation: 1)
    // The loop has not taken generation 1 when 2 (d grown) arrives.
    var grown = d
    grown.sizeBytes = 3 << 20
    try card.publish([grown], generation: 2)
    #expect(try card.takeOnLoop() == 0)
    #expect(card.function("d")?.device.store.sectorCount == 6144)
    #expect(f.fileSize("d.img") == 3 << 20)
  }

  @Test func aVolumeDroppedAndBroughtBackBeforeTheLoopLooksIsServedAsWanted() throws {
    let f = try SliceVolumeFixture()
    let card = try SliceVolumeCard(f)
    defer { card.stop() }
    let x = try f.volume(id: 1, hostFunction: "x", file: "x.img", sizeBytes: 2 << 20)
    let y = try f.volume(id: 2, hostFunction: "y", file: "y.img", sizeBytes: 2 << 20)
    try card.apply([x, y], generation: 1)
    let xDevice = try #require(card.function("x")).device
    let yDevice = try #require(card.function("y")).device
    // Generation 2 drops both; before the loop takes it, generation 3 brings
    // x back as it was and y smaller (to the applier both are new).
    try card.publish([], generation: 2)
    var smallerY = y
    smallerY.sizeBytes = 1 << 20
    try card.publish([x, smallerY], generation: 3)
    #expect(try card.takeOnLoop() == 0)
    #expect(card.function("x")?.device === xDevice, "x untouched")
    let newY = try #require(card.function("y"))
    #expect(newY.device !== yDevice && newY.device.store.sectorCount == 2048 && !yDevice.store.isAttached)
  }

  @Test func aHostFunctionDirectoryThatCannotHoldSocketsRejectsTheGeneration() throws {
    let f = try SliceVolumeFixture()
    defer { f.remove() }
    let handoff = try CardConfigurationHandoff()
    var applier = SliceApplier(
      base: f.base, handoff: handoff, keyEncryptionKey: try f.kek(),
      hostFunctionDirectory: f.directory + "/missing")
    let volume = try f.volume(id: 3, hostFunction: "v", file: "v.img")
    do {
      try applier.apply(f.state([volume]))
      Issue.record("a socket in a missing directory was accepted")
    } catch {
      #expect(error.message.contains("volume 3: bad hostFunction (cannot listen on"), "\(error.message)")
    }
    #expect(handoff.take() == nil)
  }

  /// A front-end that gave a back-end channel hears of a resize at once
  /// (CONFIG_CHANGE_MSG) and reads the new capacity with GET_CONFIG, on the
  /// same connection; after its channel dies, a resize still goes through
  /// and the capacity is found on the next GET_CONFIG.
  @Test func aResizeIsAnnouncedOnTheBackendChannel() throws {
    let f = try SliceVolumeFixture()
    let card = try SliceVolumeCard(f)
    defer { card.stop() }
    var v = try f.volume(id: 6, hostFunction: "vol-6", file: "v.img")
    try card.apply([v], generation: 1)
    let frontend = try VhostUserFrontend(path: f.path("vol-6"))
    defer { frontend.close() }
    func serve() { for _ in 0..<3 { card.functions.serviceOnce() } }
    func ask(_ message: VhostUserMessage, fds: [Int32] = [], needsReply: Bool = false) throws {
      try frontend.send(message, fds: fds, needsReply: needsReply)
      serve()
    }
    func capacity() throws -> UInt64 {
      try ask(.getConfig(offset: 0, size: 8, flags: 0))
      let reply = try frontend.receiveReply(timeoutMilliseconds: 2000)
      #expect(reply.payload.count == 12 + 8)
      return reply.payload[12...].reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
    serve()
    try ask(.getFeatures)
    try frontend.send(.setFeatures(try frontend.receiveU64(timeoutMilliseconds: 2000)))
    try ask(.getProtocolFeatures)
    let offered = ProtocolFeatures(rawValue: try frontend.receiveU64(timeoutMilliseconds: 2000))
    #expect(offered.isSuperset(of: [.backendRequest, .config, .replyAck]))
    try ask(.setProtocolFeatures([.backendRequest, .config, .replyAck]))
    let (ours, theirs) = try UnixSocket.pair()
    try ask(.setBackendRequestFD, fds: [theirs.rawValue], needsReply: true)
    try theirs.close()
    #expect(try frontend.receiveU64(timeoutMilliseconds: 2000) == 0)
    #expect(try capacity() == 2048)

    v.sizeBytes = 2 << 20
    #expect(try card.apply([v], generation: 2) == 0)
    let epoll = try Epoll()
    defer { try? epoll.close() }
    try epoll.add(ours, events: .readable, token: 1)
    #expect(try epoll.wait(timeoutMilliseconds: 2000) { _ in } == 1)
    var bytes = [UInt8](repeating: 0, count: 64)
    let n = try bytes.withUnsafeMutableBytes { try ours.read(into: $0) }
    let header = try MessageHeader(parsing: Array(bytes[0..<n]))
    #expect(
      n == MessageHeader.size && header.request == BackendRequest.configChange.rawValue && header.size == 0)
    #expect(try capacity() == 4096)
    #expect(card.log.contains("volume 6: resized to 2 MiB (front-end told)"))

    // The channel dies; the next resize neither stalls nor breaks the
    // connection, and the capacity is read with GET_CONFIG.
    try ours.close()
    v.sizeBytes = 4 << 20
    #expect(try card.apply([v], generation: 3) == 0)
    #expect(try capacity() == 8192)
    let index = try #require(card.function("vol-6")).endpoint
    let endpoint = try #require(card.functions.server.endpoint(at: index))
    #expect(endpoint.totals.backendChannelFailures == 1 && endpoint.totals.configChangesAnnounced == 1)
    #expect(endpoint.totals.connections == 1 && endpoint.totals.disconnects == 0)
  }

  /// A block written through the device of a slice volume is ciphertext
  /// in the backing file, and reads back as written.
  @Test func theBackingFileHoldsOnlyCiphertext() throws {
    let f = try SliceVolumeFixture()
    let card = try SliceVolumeCard(f)
    defer { card.stop() }
    try card.apply([try f.volume(id: 2, hostFunction: "v", file: "v.img")], generation: 1)
    let device = try #require(card.function("v")).device
    let guest = BlockGuest()
    try device.activateQueue(0, ring: try guest.ring())
    let pattern = [UInt8]("bulkhead plaintext block 0123456789".utf8)
    var block: [UInt8] = []
    while block.count < 4096 { block += pattern }
    block = Array(block[0..<4096])
    #expect(guest.request(device, type: 1, sector: 8, write: block).status == 0)
    #expect(guest.request(device, type: 4, sector: 0).status == 0)  // FLUSH
    let file = try Data(contentsOf: URL(fileURLWithPath: f.path("v.img")))
    #expect(file.count == 1 << 20)
    #expect(file.range(of: Data(pattern)) == nil, "plaintext found in the backing file")
    #expect(file[4096..<8192] != Data(block) && file[4096..<8192].contains { $0 != 0 })
    #expect(guest.request(device, type: 0, sector: 8, readLength: 4096).data == block)
  }
}

/// A guest's requests to a virtio-blk device (virtio 1.2 §5.2.6: header,
/// data, status), on the project's test driver's split ring.
final class BlockGuest {
  let guest = SimulatedGuest(size: 1 << 20)
  let driver: SplitRingDriver

  init() { driver = SplitRingDriver(guest: guest, size: 16) }

  func ring() throws -> VirtqueueRing {
    try VirtqueueRing.make(
      addresses: driver.addresses, features: [.version1], memory: guest.memory, start: driver.start)
  }

  func buffer(_ bytes: [UInt8]) -> UInt64 {
    let address = guest.allocate(max(bytes.count, 1))
    guest.bytes(address, count: bytes.count).copyBytes(from: bytes)
    return address
  }

  /// One request, served at once; its status and what it read.
  func request<Store: BlockStore>(
    _ device: VirtioBlkDevice<Store>, type: UInt32, sector: UInt64, write data: [UInt8] = [],
    readLength: Int = 0
  ) -> (status: UInt8, data: [UInt8]) {
    var header = [UInt8](repeating: 0, count: 16)
    header.withUnsafeMutableBytes {
      $0.storeBytes(of: type.littleEndian, toByteOffset: 0, as: UInt32.self)
      $0.storeBytes(of: sector.littleEndian, toByteOffset: 8, as: UInt64.self)
    }
    var parts = [DriverBuffer(address: buffer(header), length: 16, isWritable: false)]
    if !data.isEmpty {
      parts.append(DriverBuffer(address: buffer(data), length: UInt32(data.count), isWritable: false))
    }
    let readAddress = buffer([UInt8](repeating: 0, count: readLength))
    if readLength > 0 {
      parts.append(DriverBuffer(address: readAddress, length: UInt32(readLength), isWritable: true))
    }
    let statusAddress = buffer([0xff])
    parts.append(DriverBuffer(address: statusAddress, length: 1, isWritable: true))
    guard driver.add(parts) != nil else { return (0xff, []) }
    _ = device.processQueue(0)
    _ = driver.popUsed()
    return (guest.bytes(statusAddress, count: 1)[0], Array(guest.bytes(readAddress, count: readLength)))
  }
}
