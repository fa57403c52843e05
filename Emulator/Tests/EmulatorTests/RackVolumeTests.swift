import CardCrypto
import Foundation
import HostDriver
import Testing

@testable import Emulator

/// A rack's `[[volume]]` tables: what the topology accepts, the card's
/// `volume` line, the keys (only wrapped on disk), and the QEMU arguments
/// and QMP commands that put a volume in a guest and take it out.
struct RackVolumeTests {
  static let volume = """

    [[volume]]
    name = "v1"
    card = "c1"
    size = "64MiB"
    guest = "g1"
    sector-size = 512
    [[volume]]
    name = "v2"
    card = "c2"
    size = "1GiB"
    read-only = true
    """

  static var topologyText: String { RackTopologyTests.minimal + volume }

  @Test func readsVolumes() throws {
    let topology = try RackTopology(Self.topologyText)
    #expect(
      topology.volumes == [
        .init(
          name: "v1", card: "c1", sizeBytes: 64 << 20, guest: "g1", sectorSize: 512, isReadOnly: false,
          cipher: "aes-xts-256"),
        .init(
          name: "v2", card: "c2", sizeBytes: 1 << 30, guest: nil, sectorSize: 4096, isReadOnly: true,
          cipher: "aes-xts-256"),
      ])
  }

  /// Each bad table is refused with its line, the table and the field.
  @Test(
    arguments: [
      ("size = \"64MiB\"\nguest", "size = \"64MB\"\nguest", "line 33", "[volume] size: '64MB' is not a size"),
      ("size = \"64MiB\"\nguest", "size = 64\nguest", "line 33", "[volume] size: expected a non-empty"),
      ("size = \"64MiB\"\nguest", "size = \"65GiB\"\nguest", "line 33", "from 1MiB to 64GiB"),
      ("size = \"64MiB\"\nguest", "size = \"1000KiB\"\nguest", "line 33", "from 1MiB"),
      (
        "size = \"64MiB\"\nguest = \"g1\"\nsector-size = 512",
        "size = \"1025KiB\"\nguest = \"g1\"\nsector-size = 4096",
        "line 33", "not a whole number of 4096-byte"
      ),
      ("sector-size = 512", "sector-size = 1024", "line 35", "[volume] sector-size: 1024 is not 512 or 4096"),
      ("guest = \"g1\"", "guest = \"g2\"", "line 34", "guest g2 is on card c2, the volume on c1"),
      ("guest = \"g1\"", "guest = \"g9\"", "line 34", "[volume] guest: 'g9' is not a [[guest]]"),
      ("card = \"c1\"\nsize", "card = \"c9\"\nsize", "line 32", "[volume] card: 'c9' is not a [[card]]"),
      ("read-only = true", "read-only = \"yes\"", "line 40", "[volume] read-only: expected true or false"),
      ("read-only = true", "cipher = \"aes-cbc\"", "line 40", "[volume] cipher: 'aes-cbc' is not one of"),
      ("read-only = true", "queues = 2", "line 40", "[volume] queues: unknown key"),
      ("name = \"v2\"", "name = \"v1\"", nil, "two [[volume]] are named 'v1'"),
      ("name = \"v2\"", "name = \"g2\"", nil, "volume g2: a guest has that name"),
    ] as [(String, String, String?, String)])
  func refusesBadVolumes(original: String, replacement: String, line: String?, message: String) {
    let text = Self.topologyText.replacingOccurrences(of: original, with: replacement)
    do {
      _ = try RackTopology(text)
      Issue.record("accepted: \(text)")
    } catch {
      if let line { #expect(error.description.contains(line + ":"), "\(error)") }
      #expect(error.description.contains(message), "\(error)")
    }
  }

  @Test func theShippedExampleHasAVolumeForA1() throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
        "examples/two-cards.toml")
    let topology = try RackTopology(String(contentsOf: url, encoding: .utf8))
    #expect(topology.volumes.map(\.name) == ["data1"])
    #expect(topology.volumes.first?.guest == "a1" && topology.volumes.first?.card == "card1")
  }

  /// The keys: a KEK per card that serves a volume (0600), one wrapped data
  /// key per volume that unwraps under it to 64 bytes, kept across calls;
  /// the clear key is in no file of the state directory.
  @Test func volumeKeysAreKeptOnlyWrapped() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vol-\(getpid())").path
    for card in ["c1", "c2"] {
      try FileManager.default.createDirectory(
        atPath: directory + "/cards/" + card, withIntermediateDirectories: true)
    }
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let topology = try RackTopology(Self.topologyText)
    let keys = try VolumeKeyring.ensure(for: topology, stateDirectory: directory)
    #expect(keys.entries.map(\.volume) == ["v1", "v2"])
    #expect(keys.entries.allSatisfy { $0.wrappedKeyHex.count == 144 })
    #expect(try VolumeKeyring.ensure(for: topology, stateDirectory: directory) == keys)
    for file in ["/cards/c1/kek", "/cards/c2/kek", "/volume-keys"] {
      let mode = try FileManager.default.attributesOfItem(atPath: directory + file)[.posixPermissions] as? Int
      #expect(mode == 0o600, "\(file)")
    }
    let kekHex = try String(contentsOfFile: directory + "/cards/c1/kek", encoding: .utf8)
      .trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(kekHex.count == 64)
    let wrapped = try #require(keys.wrappedKey(volume: "v1", card: "c1"))
    let wrappedBytes = stride(from: 0, to: wrapped.count, by: 2).map {
      UInt8(wrapped.dropFirst($0).prefix(2), radix: 16)!
    }
    let dataKey = try KeyWrap.unwrap(wrappedBytes, kek: try SymmetricKey(hex: kekHex))
    #expect(dataKey.byteCount == 64)
    let clear = dataKey.withUnsafeBytes { Array($0) }
    let clearHex = clear.map { String(format: "%02x", $0) }.joined()
    var found: [String] = []
    for file in FileManager.default.enumerator(atPath: directory)?.compactMap({ $0 as? String }) ?? [] {
      guard let data = FileManager.default.contents(atPath: directory + "/" + file) else { continue }
      let text = String(decoding: data, as: UTF8.self)
      if text.contains(clearHex) || data.range(of: Data(clear)) != nil { found.append(file) }
    }
    #expect(found.isEmpty, "the clear data key is in \(found)")
  }

  @Test func theCardServesEachOfItsVolumesOnASocket() throws {
    let topology = try RackTopology(Self.topologyText)
    let keys = VolumeKeyring(entries: [
      .init(volume: "v1", card: "c1", wrappedKeyHex: String(repeating: "ab", count: 72)),
      .init(volume: "v2", card: "c2", wrappedKeyHex: String(repeating: "cd", count: 72)),
    ])
    let plan = RackPlan(topology, stateDirectory: "/s", volumeKeys: keys)
    let c1 = plan.cards[0].configuration.split(separator: "\n").filter { $0.hasPrefix("volume ") }
    #expect(
      c1 == [
        "volume id=1 vhost-user=/s/cards/c1/v1.vol.sock backend=file:/s/volumes/v1.img sector-size=512 wrapped-key=\(String(repeating: "ab", count: 72)) kek-file=/s/cards/c1/kek"
      ])
    let c2 = plan.cards[1].configuration.split(separator: "\n").filter { $0.hasPrefix("volume ") }
    #expect(c2.count == 1 && c2[0].hasPrefix("volume id=2 vhost-user=/s/cards/c2/v2.vol.sock "))
    #expect(c2[0].hasSuffix(" kek-file=/s/cards/c2/kek read-only"))
    #expect(plan.guests.map(\.volumes) == [["v1"], []])
  }

  /// g1 boots with v1 on the port after its NIC's, with the host agent's
  /// ids (so `detach --volume` takes it out), and keeps a spare port.
  @Test func aGuestBootsWithItsVolumeOnAHotPlugPort() throws {
    let plan = RackPlan(try RackTopology(Self.topologyText), stateDirectory: "/s")
    let image = GuestImage(directory: "/img")
    let g1 = QemuCommandLine(plan.qemuConfiguration(of: plan.guests[0], image: image), scenarioFile: "/x")
      .command.joined(separator: " ")
    #expect(g1.contains("-device pcie-root-port,id=bh-port2,chassis=3,slot=3"), "\(g1)")
    #expect(!g1.contains("bh-port3"))
    #expect(
      g1.contains(
        "-chardev socket,id=bh-v1-c,path=/s/cards/c1/v1.vol.sock,reconnect-ms=1000 -device vhost-user-blk-pci,bus=bh-port1,chardev=bh-v1-c,id=bh-v1"
      ), "\(g1)")
    let g2 = QemuCommandLine(plan.qemuConfiguration(of: plan.guests[1], image: image), scenarioFile: "/x")
      .command.joined(separator: " ")
    #expect(!g2.contains("vhost-user-blk-pci") && !g2.contains("bh-port2"), "\(g2)")
  }

  /// What `dpuctl guest attach|detach --volume` sends QEMU for a rack
  /// volume: the card's socket as a reconnecting chardev, the device on
  /// the free port; then device_del and the chardev's removal.
  @Test func hotPlugCommandsOfARackVolume() throws {
    let plan = RackPlan(try RackTopology(Self.topologyText), stateDirectory: "/s")
    let rack = Rack(stateDirectory: "/s")
    let function = try rack.function(.volume("v2"), plan: plan)
    #expect(
      function == HostFunction(name: "v2", kind: .block, path: .vhostUser(socket: "/s/cards/c2/v2.vol.sock")))
    let commands = try FunctionPlan(function, bus: "bh-port1")
    #expect(
      commands.attach.map(\.json) == [
        #"{"arguments":{"backend":{"data":{"addr":{"data":{"path":"/s/cards/c2/v2.vol.sock"},"type":"unix"},"reconnect-ms":1000,"server":false},"type":"socket"},"id":"bh-v2-c"},"execute":"chardev-add"}"#,
        #"{"arguments":{"bus":"bh-port1","chardev":"bh-v2-c","driver":"vhost-user-blk-pci","id":"bh-v2"},"execute":"device_add"}"#,
      ])
    #expect(commands.unplug.json == #"{"arguments":{"id":"bh-v2"},"execute":"device_del"}"#)
    #expect(commands.release.map(\.json) == [#"{"arguments":{"id":"bh-v2-c"},"execute":"chardev-remove"}"#])
    #expect(throws: RackError.self) { try rack.function(.volume("v9"), plan: plan) }
  }
}
