import CardAgent
import Foundation
import Management
import Testing

@Suite struct StateFileTests {
  let folder = FileManager.default.temporaryDirectory.appendingPathComponent("statefile-\(UUID().uuidString)")

  init() throws { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }

  static let state = DesiredState(
    generation: 42,
    nics: [
      NicSlice(
        id: 1, vni: 4096, mac: [2, 0, 0, 0, 1, 5], addresses: [.host([10, 0, 1, 5])], securityGroups: [],
        sourceGuard: true, maxBandwidthMbps: 0, maxPacketsPerSecond: 0)
    ],
    routes: [
      RouteSlice(vni: 4096, destination: IPPrefix(address: [10, 0, 0, 0], length: 16), target: .local)
    ])

  @Test func savedStateLoadsBack() throws {
    let file = StateFile(path: folder.appendingPathComponent("card.state").path)
    #expect(try file.load() == nil)
    try file.save(Self.state)
    #expect(try file.load() == Self.state)
    // The temporary file was renamed over the state, not left behind.
    #expect(!FileManager.default.fileExists(atPath: file.path + ".new"))
  }

  @Test func saveReplacesTheWholeState() throws {
    let file = StateFile(path: folder.appendingPathComponent("card.state").path)
    try file.save(Self.state)
    try file.save(DesiredState(generation: 43))
    #expect(try file.load() == DesiredState(generation: 43))
  }

  @Test func damagedFileIsRefusedNotTrusted() throws {
    let path = folder.appendingPathComponent("card.state").path
    try StateFile(path: path).save(Self.state)
    var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    bytes.removeLast(3)
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    #expect(throws: StateFileError.self) { try StateFile(path: path).load() }
  }

  @Test func oversizedFileIsRefusedBeforeReading() throws {
    let path = folder.appendingPathComponent("card.state").path
    try Data(repeating: 0, count: 100).write(to: URL(fileURLWithPath: path))
    #expect(throws: StateFileError.tooLarge(100)) { try StateFile(path: path, sizeLimit: 64).load() }
  }

  @Test func saveIntoAMissingFolderFailsWithErrno() throws {
    let file = StateFile(path: folder.appendingPathComponent("missing/card.state").path)
    #expect(throws: StateFileError.system(2)) { try file.save(Self.state) }
  }
}

@Suite struct ReconnectBackoffTests {
  @Test func delaysGrowAndStayWithinBounds() {
    var backoff = ReconnectBackoff(initialMilliseconds: 100, maximumMilliseconds: 1_000, seed: 7)
    let delays = (0..<8).map { _ in backoff.nextDelayMilliseconds() }
    #expect((50...100).contains(delays[0]))
    #expect((100...200).contains(delays[1]))
    #expect(delays[5...].allSatisfy { (500...1_000).contains($0) })
    backoff.reset()
    #expect((50...100).contains(backoff.nextDelayMilliseconds()))
  }

  @Test func differentSeedsSpreadCards() {
    let firsts = Set(
      (1...50).map { seed -> UInt32 in
        var backoff = ReconnectBackoff(
          initialMilliseconds: 1_000, maximumMilliseconds: 1_000, seed: UInt64(seed))
        return backoff.nextDelayMilliseconds()
      })
    #expect(firsts.count > 10)
  }
}
