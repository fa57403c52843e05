import Foundation
import Testing

/// A tenant volume made and attached only through `dpuctl`: the real
/// controller draws its data key and pushes it to the real `bulkhead-card`
/// wrapped with the card's key-encryption key; the card serves it as a
/// vhost-user-blk function, which a front-end (`BlockFrontend`, QEMU's part
/// without a guest) reads and writes. The backing file holds only
/// ciphertext; a resize reaches the connected front-end as a config change;
/// a detach closes the function and a new attachment finds every byte.
@Suite(.serialized) struct VolumesThroughControllerTests {
  @Test func aVolumeIsAttachedResizedDetachedAndAttachedAgainFromTheController() async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("volumes-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let pki = folder.appendingPathComponent("pki").path
    try makeProviderPKI(pki, cards: ["c1"])
    var controller = try await RunningController(
      vniRange: "100-200", pki: pki, directory: folder.appendingPathComponent("controller"))
    let port = try #require(controller.managementPort)
    let at = "unix:\(controller.socket)"
    @discardableResult func run(_ arguments: String...) throws -> Invocation {
      let invocation = try dpuctl(arguments, controller: at)
      #expect(invocation.status == 0, "dpuctl \(arguments.joined(separator: " ")): \(invocation.errorOutput)")
      return invocation
    }
    try run("cards", "register", "c1", "--underlay-ip", "192.0.2.1")
    try run("tenants", "create", "acme")
    let image = folder.appendingPathComponent("data.img").path
    try run(
      "volumes", "create", "data", "--tenant", "acme", "--size", "8MiB", "--backend", "file://" + image,
      "--sector-size", "4096")
    let volume = try run("volumes", "get", "data", "--tenant", "acme", "-o", "json").object
    let number = try #require(volume["number"] as? Int, "\(volume)")
    #expect(volume["wrappedDataKey"] == nil && !"\(volume)".contains("wrapped"), "\(volume)")

    let functions = folder.appendingPathComponent("functions")
    try FileManager.default.createDirectory(at: functions, withIntermediateDirectories: true)
    let socket = functions.appendingPathComponent("data.sock").path
    let card = try RunningCard(
      name: "c1", underlay: "192.0.2.1", folder: folder.appendingPathComponent("card"),
      arguments: [
        "--controller", "127.0.0.1:\(port)", "--pki-dir", pki, "--card-name", "c1", "--heartbeat-ms", "100",
        "--host-function-dir", functions.path, "--volume-dir", folder.path,
      ])
    defer {
      card.stop()
      controller.stop()
    }

    // A host function that is not a plain name is refused by the API,
    // which names the field.
    let hostile = try dpuctl(
      [
        "attachments", "create", "evil", "--tenant", "acme", "--card", "c1", "--volume", "data",
        "--host-function", "../../etc/x.sock",
      ], controller: at)
    #expect(hostile.status != 0 && hostile.errorOutput.contains("host_function"), "\(hostile.errorOutput)")

    // Attach: the card unwraps the key and listens on the function.
    var mark = card.mark
    try run(
      "attachments", "create", "data-c1", "--tenant", "acme", "--card", "c1", "--volume", "data",
      "--host-function", "data.sock")
    #expect(card.line(containing: "volume \(number): attached", after: mark) != nil, "\(card.output)")
    var frontend: BlockFrontend? = try BlockFrontend(path: socket)
    #expect(try frontend!.identifier() == "bulkhead-vol-\(number)")
    #expect(try frontend!.capacity == 8 << 20 / 512)
    let pattern = Array(String(repeating: "BULKHEAD-PLAINTEXT-", count: 3500).utf8.prefix(64 << 10))
    let wrote = try frontend!.write(sector: 8, pattern)
    #expect(wrote == BlockFrontend.statusOK, "\(card.output.suffix(2000))")
    #expect(try frontend!.flush() == BlockFrontend.statusOK)
    var back = try frontend!.read(sector: 8, count: pattern.count)
    var same = back.data == pattern
    #expect(back.status == BlockFrontend.statusOK && same, "status \(back.status), \(back.data.count) bytes")
    // Past the end: an I/O error, and the device keeps serving.
    #expect(try frontend!.read(sector: 8 << 20 / 512, count: 4096).status != BlockFrontend.statusOK)

    // What the backend holds is ciphertext.
    let stored = try Data(contentsOf: URL(fileURLWithPath: image))
    #expect(stored.count >= 8 << 20)
    #expect(stored.range(of: Data("BULKHEAD-PLAINTEXT-".utf8)) == nil)
    #expect(stored.range(of: Data(pattern[4096..<8192])) == nil)

    // Resize: the connected front-end hears of it and sees the new size;
    // what it wrote is still there, and the new end takes writes.
    try run("volumes", "resize", "data", "--tenant", "acme", "--size", "16MiB")
    if frontend!.hasBackendChannel { try frontend!.waitForConfigChange() }
    var capacity: UInt64 = 0
    let deadline = Date().addingTimeInterval(30)
    while Date() < deadline {
      capacity = try frontend!.capacity
      if capacity == 16 << 20 / 512 { break }
      usleep(50_000)
    }
    #expect(capacity == 16 << 20 / 512, "\(card.output)")
    #expect(frontend!.hasBackendChannel, "the card should offer its request channel for config changes")
    back = try frontend!.read(sector: 8, count: pattern.count)
    same = back.data == pattern
    #expect(same, "status \(back.status), \(back.data.count) bytes")
    #expect(
      try frontend!.write(sector: 16 << 20 / 512 - 8, Array(pattern.prefix(4096))) == BlockFrontend.statusOK)
    #expect(try frontend!.flush() == BlockFrontend.statusOK)

    // Detach: the card closes the function and zeroes the key.
    mark = card.mark
    try run("attachments", "delete", "data-c1", "--tenant", "acme")
    #expect(
      card.line(containing: "volume \(number): detached, key zeroed", after: mark) != nil, "\(card.output)")
    frontend = nil
    #expect(!FileManager.default.fileExists(atPath: socket))
    // A volume that is attached cannot be deleted; a detached one could.
    // Attach it again: every byte written is read back.
    mark = card.mark
    try run(
      "attachments", "create", "data-c1", "--tenant", "acme", "--card", "c1", "--volume", "data",
      "--host-function", "data.sock")
    #expect(card.line(containing: "volume \(number): attached", after: mark) != nil, "\(card.output)")
    let again = try BlockFrontend(path: socket)
    #expect(try again.capacity == 16 << 20 / 512)
    same = try again.read(sector: 8, count: pattern.count).data == pattern
    #expect(same, "the pattern did not read back after a detach and attach")
    same = try again.read(sector: 16 << 20 / 512 - 8, count: 4096).data == Array(pattern.prefix(4096))
    #expect(same, "the block past the old end did not read back")
    let refused = try dpuctl(["volumes", "delete", "data", "--tenant", "acme"], controller: at)
    #expect(refused.status != 0 && refused.errorOutput.contains("data-c1"), "\(refused.errorOutput)")
  }
}
