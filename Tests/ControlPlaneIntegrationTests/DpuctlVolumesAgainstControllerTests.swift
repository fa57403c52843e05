import Foundation
import Testing

/// `dpuctl volumes` and `dpuctl attachments` against the real controller
/// (started with a PKI folder, so it has a key seed to wrap data keys):
/// JSON and table output, refusals with the field named and exit code 4,
/// and the data key never printed.
@Suite(.serialized) struct DpuctlVolumesAgainstControllerTests {
  @Test func volumesAndAttachmentsThroughDpuctl() async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "dpuctl-volumes-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let pki = folder.appendingPathComponent("pki").path
    try makeProviderPKI(pki, cards: [])
    let controller = try await RunningController(
      vniRange: "100-101", pki: pki, directory: folder.appendingPathComponent("controller"))
    defer { controller.stop() }
    let at = "unix:\(controller.socket)"
    func run(_ arguments: String..., token: String = "admin-token") throws -> Invocation {
      try dpuctl(arguments, token: token, controller: at)
    }
    #expect(try run("cards", "register", "c1").status == 0)
    #expect(try run("cards", "register", "c2").status == 0)
    #expect(try run("tenants", "create", "acme").status == 0)

    let made = try run(
      "volumes", "create", "data", "--tenant", "acme", "--size", "10GiB", "--backend",
      "file:///srv/volumes/data.img", "--queues", "4", "-o", "json")
    #expect(made.status == 0, "\(made.errorOutput)")
    #expect(made.object["name"] as? String == "tenants/acme/volumes/data")
    #expect(made.object["sizeBytes"] as? String == String(10 << 30))
    #expect(made.object["sectorSize"] as? Int == 4096 && made.object["queues"] as? Int == 4)
    let number = try #require(made.object["number"] as? Int)
    let encryption = try #require(made.object["encryption"] as? [String: Any])
    #expect(
      encryption["cipher"] as? String == "AES_XTS_256"
        && encryption["keyHandle"] as? String == "vol-\(number)")
    #expect(made.object["wrappedDataKey"] == nil)

    let readOnly = try run(
      "volumes", "create", "base", "--tenant", "acme", "--size", "1048576", "--sector-size", "512",
      "--read-only",
      "--backend", "nbd+unix:///base?socket=/run/nbd.sock", "-o", "json")
    #expect(readOnly.status == 0, "\(readOnly.errorOutput)")
    #expect(readOnly.object["readOnly"] as? Bool == true && readOnly.object["number"] as? Int == number + 1)

    let got = try run("volumes", "get", "data", "--tenant", "acme", "-o", "json")
    #expect(got.status == 0 && got.object["number"] as? Int == number)
    #expect(!got.output.contains("wrapped"))
    let listed = try run("volumes", "list", "--tenant", "acme", "-o", "json")
    #expect(
      listed.array.compactMap { $0["name"] as? String } == [
        "tenants/acme/volumes/base", "tenants/acme/volumes/data",
      ])
    #expect(!listed.output.contains("wrapped"))
    let table = try run("volumes", "list", "--tenant", "acme")
    #expect(
      table.output.hasPrefix("NAME") && table.output.contains("10 GiB")
        && table.output.contains("vol-\(number)"))

    // Refusals: the field, the value, the fix; exit code 4.
    let badBackend = try run(
      "volumes", "create", "bad", "--tenant", "acme", "--size", "1GiB", "--backend", "nbd://storage.example/x"
    )
    #expect(
      badBackend.status == 4
        && badBackend.errorOutput.contains("volume.backend_uri 'nbd://storage.example/x'"))
    #expect(badBackend.errorOutput.contains("nbd://192.0.2.10:10809/export"))
    let badSize = try run(
      "volumes", "create", "bad", "--tenant", "acme", "--size", "1000", "--backend", "file:///srv/bad.img")
    #expect(badSize.status == 4 && badSize.errorOutput.contains("volume.size_bytes '1000'"))
    let badSuffix = try run(
      "volumes", "create", "bad", "--tenant", "acme", "--size", "1GB", "--backend", "file:///srv/bad.img")
    #expect(badSuffix.status == 64 && badSuffix.errorOutput.contains("--size"))

    let resized = try run("volumes", "resize", "data", "--tenant", "acme", "--size", "20GiB", "-o", "json")
    #expect(resized.status == 0, "\(resized.errorOutput)")
    #expect(
      resized.object["sizeBytes"] as? String == String(20 << 30) && resized.object["number"] as? Int == number
    )
    let shrunk = try run("volumes", "resize", "data", "--tenant", "acme", "--size", "1GiB")
    #expect(shrunk.status == 4 && shrunk.errorOutput.contains("only grows"))

    let updated = try run("volumes", "update", "data", "--tenant", "acme", "--queues", "8", "-o", "json")
    #expect(updated.status == 0 && updated.object["queues"] as? Int == 8, "\(updated.errorOutput)")
    #expect(updated.object["sizeBytes"] as? String == String(20 << 30))
    let tooMany = try run("volumes", "update", "data", "--tenant", "acme", "--queues", "17")
    #expect(tooMany.status == 4 && tooMany.errorOutput.contains("volume.queues '17'"))

    // Attachments: one writer per read-write volume; plain host functions.
    let attached = try run(
      "attachments", "create", "data-c1", "--tenant", "acme", "--card", "c1", "--volume", "data",
      "--host-function", "data.sock", "-o", "json")
    #expect(attached.status == 0, "\(attached.errorOutput)")
    #expect(attached.object["volume"] as? String == "tenants/acme/volumes/data")
    #expect(
      attached.object["card"] as? String == "cards/c1"
        && attached.object["hostFunction"] as? String == "data.sock")
    let second = try run(
      "attachments", "create", "data-c2", "--tenant", "acme", "--card", "c2", "--volume", "data",
      "--host-function", "data.sock")
    #expect(second.status == 4 && second.errorOutput.contains("data-c1"))
    let hostile = try run(
      "attachments", "create", "evil", "--tenant", "acme", "--card", "c2", "--volume", "base",
      "--host-function", "../x.sock")
    #expect(hostile.status == 4 && hostile.errorOutput.contains("guest_attachment.host_function '../x.sock'"))
    let neither = try run(
      "attachments", "create", "none", "--tenant", "acme", "--card", "c1", "--host-function", "x")
    #expect(neither.status == 64 && neither.errorOutput.contains("--volume"))
    for card in ["c1", "c2"] {
      let shared = try run(
        "attachments", "create", "base-\(card)", "--tenant", "acme", "--card", card, "--volume", "base",
        "--host-function", "base.sock")
      #expect(shared.status == 0, "\(shared.errorOutput)")
    }
    let attachments = try run("attachments", "list", "--tenant", "acme", "-o", "json")
    #expect(attachments.array.count == 3)
    let shown = try run("attachments", "get", "data-c1", "--tenant", "acme")
    #expect(shown.status == 0 && shown.output.contains("volume tenants/acme/volumes/data"))

    let busy = try run("volumes", "delete", "data", "--tenant", "acme")
    #expect(busy.status == 4 && busy.errorOutput.contains("tenants/acme/guestAttachments/data-c1"))
    #expect(try run("attachments", "delete", "data-c1", "--tenant", "acme").status == 0)
    let deleted = try run("volumes", "delete", "data", "--tenant", "acme")
    #expect(deleted.status == 0 && deleted.output.contains("deleted tenants/acme/volumes/data"))
    #expect(try run("volumes", "get", "data", "--tenant", "acme").status == 3)

    let help = try run("volumes", "create", "--help")
    #expect(help.output.contains("nbd+unix:///EXPORT?socket=") && help.output.contains("Example"))
    let attachHelp = try run("attachments", "--help")
    #expect(attachHelp.output.contains("dpuctl guest"))
  }
}
