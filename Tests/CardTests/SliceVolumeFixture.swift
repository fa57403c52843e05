import Card
import CardCrypto
import DataPlane
import Foundation
import Management
import Volumes
import Wire

/// A card with a KEK and a temporary host-function directory, and slices
/// of volumes for it: the key material and files are real, made here.
struct SliceVolumeFixture {
  static let kekBytes: [UInt8] = (0..<32).map { UInt8($0 &* 5 &+ 3) }
  let directory: String
  let base: CardConfiguration

  init(fileVolumes: [HostVolume] = []) throws {
    directory = NSTemporaryDirectory() + "bh-slice-volumes-" + UUID().uuidString.prefix(8)
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    var base = CardConfiguration(
      network: NetworkConfiguration(
        card: CardSettings(
          underlayAddress: .v4(IPv4Address(192, 0, 2, 1)), underlayMAC: MACAddress(2, 0xca, 0, 0, 0, 1),
          underlayRouterMAC: MACAddress(2, 0xee, 0, 0, 0, 1), gatewayMAC: MACAddress(2, 0, 0x5e, 0, 0, 1))),
      uplink: .ring, hostFunctions: [])
    base.volumes = fileVolumes
    self.base = base
  }

  func remove() { try? FileManager.default.removeItem(atPath: directory) }

  static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

  func kek(_ bytes: [UInt8] = SliceVolumeFixture.kekBytes) throws -> CardKeyEncryptionKey {
    CardKeyEncryptionKey(try SymmetricKey(hex: Self.hex(bytes)))
  }

  /// `material` (64 bytes for AES-XTS-256) wrapped with the card's KEK.
  func wrapped(_ material: [UInt8], kek: [UInt8] = SliceVolumeFixture.kekBytes) throws -> [UInt8] {
    try KeyWrap.wrap(try SymmetricKey(hex: Self.hex(material)), kek: try SymmetricKey(hex: Self.hex(kek)))
  }

  static let dataKey: [UInt8] = (0..<64).map { UInt8($0 &* 3 &+ 11) }

  /// A volume on the file `name` in the temporary directory.
  func volume(
    id: UInt32, hostFunction: String, file name: String, sizeBytes: UInt64 = 1 << 20,
    sectorSize: UInt16 = 4096,
    readOnly: Bool = false, key: [UInt8] = SliceVolumeFixture.dataKey
  ) throws -> VolumeSlice {
    VolumeSlice(
      id: id, sizeBytes: sizeBytes, cipher: .aesXTS256, wrappedKey: try wrapped(key),
      backend: "file:" + directory + "/" + name, sectorSize: sectorSize, readOnly: readOnly,
      hostFunction: hostFunction)
  }

  func state(_ volumes: [VolumeSlice], generation: UInt64 = 1) -> DesiredState {
    DesiredState(generation: generation, volumes: volumes)
  }

  func path(_ name: String) -> String { directory + "/" + name }

  func fileSize(_ name: String) -> UInt64? {
    (try? FileManager.default.attributesOfItem(atPath: path(name))[.size] as? NSNumber)?.uint64Value
  }
}
