import Card
import CardCrypto
import Foundation
import Testing
import Volumes

/// Attaching the configured volumes: the KEK file unwraps each data key,
/// a socket listens per volume, stopping zeroes the keys; a wrong KEK or a
/// missing backing file stops the card with the volume named.
@Suite struct VolumeFunctionsTests {
  struct Setup {
    let directory: String
    let volume: HostVolume

    /// A 1 MiB backing file, a KEK file and a volume whose key is wrapped
    /// under `wrappingKEK` (the KEK file holds `fileKEK`).
    init(wrappingKEK: [UInt8], fileKEK: [UInt8], makeBackingFile: Bool = true) throws {
      directory = NSTemporaryDirectory() + "bulkhead-card-volumes-" + UUID().uuidString
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
      let hex = fileKEK.map { String(format: "%02x", $0) }.joined()
      try (hex + "\n").write(toFile: directory + "/kek", atomically: true, encoding: .utf8)
      if makeBackingFile {
        #expect(FileManager.default.createFile(atPath: directory + "/v.img", contents: Data(count: 1 << 20)))
      }
      let kek = try SymmetricKey(hex: wrappingKEK.map { String(format: "%02x", $0) }.joined())
      volume = HostVolume(
        id: 9, socketPath: directory + "/v.sock", location: .file(path: directory + "/v.img"),
        spec: VolumeSpec(
          wrappedKey: try VolumeSpec.newWrappedDataKey(kek: kek), encryptionSectorSize: .bytes4096),
        kekPath: directory + "/kek")
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
  }

  static let kek = [UInt8](repeating: 7, count: 32)

  @Test func attachesListensAndZeroesKeysWhenStopped() throws {
    let setup = try Setup(wrappingKEK: Self.kek, fileKEK: Self.kek)
    defer { setup.remove() }
    var lines: [String] = []
    let functions = try VolumeFunctions([setup.volume], log: { lines.append($0) })
    #expect(functions.functions.count == 1)
    #expect(functions.functions[0].device.store.isAttached)
    #expect(functions.functions[0].device.store.sectorCount == 2048)
    #expect(FileManager.default.fileExists(atPath: setup.volume.socketPath))
    #expect(lines.contains { $0.hasPrefix("volume 9: attached") })
    functions.serviceOnce()
    #expect(!functions.prepareToSleep())
    functions.detachAll(log: { lines.append($0) })
    #expect(!functions.functions[0].device.store.isAttached)
    #expect(lines.contains("volume 9: detached, key zeroed"))
    #expect(!FileManager.default.fileExists(atPath: setup.volume.socketPath))
  }

  @Test func aWrongKEKIsRefusedWithTheVolumeNamed() throws {
    let setup = try Setup(wrappingKEK: Self.kek, fileKEK: [UInt8](repeating: 8, count: 32))
    defer { setup.remove() }
    do {
      _ = try VolumeFunctions([setup.volume], log: { _ in })
      Issue.record("a volume attached under the wrong KEK")
    } catch {
      #expect(error.volume == 9)
      #expect(error.description.contains("wrapped key was rejected"), "\(error)")
    }
  }

  @Test func aMissingBackingFileIsNamed() throws {
    let setup = try Setup(wrappingKEK: Self.kek, fileKEK: Self.kek, makeBackingFile: false)
    defer { setup.remove() }
    do {
      _ = try VolumeFunctions([setup.volume], log: { _ in })
      Issue.record("a volume attached without its backing file")
    } catch {
      #expect(error.volume == 9)
      #expect(error.description.contains("file:" + setup.directory + "/v.img"), "\(error)")
    }
  }
}
