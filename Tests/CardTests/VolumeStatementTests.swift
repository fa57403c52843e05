import Card
import CardCrypto
import Testing
import Volumes

@Suite struct VolumeStatementTests {
  /// 72 bytes: a 64-byte key wrapped by RFC 5649 (the bytes need not
  /// unwrap: the parser checks only the form).
  static let wrappedHex = String(repeating: "a5", count: 72)
  static let head = """
    card underlay=10.255.0.1 mac=02:ca:00:00:00:01 router-mac=02:ee:00:00:00:01 gateway-mac=02:00:5e:00:00:01
    uplink ring
    """

  static func parse(_ volume: String) throws(ConfigurationFileError) -> CardConfiguration {
    try ConfigurationFileParser.parse(head + "\n" + volume)
  }

  @Test func aFileVolume() throws {
    let c = try Self.parse(
      "volume id=1 vhost-user=/run/v1.sock backend=file:/var/lib/v1.img sector-size=4096 wrapped-key="
        + Self.wrappedHex + " kek-file=/etc/bulkhead/kek")
    #expect(c.volumes.count == 1)
    let v = c.volumes[0]
    #expect(v.id == 1)
    #expect(v.socketPath == "/run/v1.sock")
    #expect(v.location == .file(path: "/var/lib/v1.img"))
    #expect(v.spec.encryptionSectorSize == .bytes4096)
    #expect(v.spec.wrappedKey == [UInt8](repeating: 0xa5, count: 72))
    #expect(!v.spec.isReadOnly)
    #expect(v.kekPath == "/etc/bulkhead/kek")
    #expect(v.queueCount == 2)
    #expect(v.serial == "bulkhead-vol-1")
  }

  @Test func nbdVolumesReadOnlyWithQueues() throws {
    let c = try Self.parse(
      """
      volume id=2 vhost-user=a.sock backend=nbd:127.0.0.1:10809 export=disk2 sector-size=512 wrapped-key=\(Self.wrappedHex) kek-file=k queues=4 read-only
      volume id=3 vhost-user=b.sock backend=nbd:unix:/run/nbd.sock sector-size=512 wrapped-key=\(Self.wrappedHex) kek-file=k
      """)
    #expect(c.volumes[0].location == .nbd(.tcp4(address: 0x7f00_0001, port: 10809), export: "disk2"))
    #expect(c.volumes[0].spec.isReadOnly)
    #expect(c.volumes[0].queueCount == 4)
    #expect(c.volumes[0].spec.encryptionSectorSize == .bytes512)
    #expect(c.volumes[1].location == .nbd(.unix(path: "/run/nbd.sock"), export: ""))
  }

  static let good =
    "id=1 vhost-user=v.sock backend=file:v.img sector-size=4096 wrapped-key=" + wrappedHex + " kek-file=k"

  /// Each bad line is reported on its line (3) and names its field.
  @Test(arguments: [
    (
      "volume vhost-user=v.sock backend=file:v.img sector-size=4096 wrapped-key=\(wrappedHex) kek-file=k",
      "id"
    ),
    ("volume id=1 backend=file:v.img sector-size=4096 wrapped-key=\(wrappedHex) kek-file=k", "vhost-user"),
    (
      "volume id=1 vhost-user=v.sock backend=tape:x sector-size=4096 wrapped-key=\(wrappedHex) kek-file=k",
      "backend"
    ),
    (
      "volume id=1 vhost-user=v.sock backend=file: sector-size=4096 wrapped-key=\(wrappedHex) kek-file=k",
      "backend"
    ),
    (
      "volume id=1 vhost-user=v.sock backend=nbd:host:1 sector-size=4096 wrapped-key=\(wrappedHex) kek-file=k",
      "backend"
    ),
    (
      "volume id=1 vhost-user=v.sock backend=file:v.img export=x sector-size=4096 wrapped-key=\(wrappedHex) kek-file=k",
      "export"
    ),
    (
      "volume id=1 vhost-user=v.sock backend=file:v.img sector-size=1024 wrapped-key=\(wrappedHex) kek-file=k",
      "sector-size"
    ),
    (
      "volume id=1 vhost-user=v.sock backend=file:v.img sector-size=4096 wrapped-key=abc kek-file=k",
      "wrapped-key"
    ),
    (
      "volume id=1 vhost-user=v.sock backend=file:v.img sector-size=4096 wrapped-key=\(String(repeating: "0", count: 128)) kek-file=k",
      "wrapped-key"
    ),
    (
      "volume id=1 vhost-user=v.sock backend=file:v.img sector-size=4096 wrapped-key=\(wrappedHex)",
      "kek-file"
    ),
    (
      "volume id=1 vhost-user=v.sock backend=file:v.img sector-size=4096 wrapped-key=\(wrappedHex) kek-file=k queues=0",
      "queues"
    ),
    (
      "volume id=1 vhost-user=v.sock backend=file:v.img sector-size=4096 wrapped-key=\(wrappedHex) kek-file=k kek=00",
      "kek"
    ),
    ("volume \(good)\nvolume \(good)", "id"),
    (
      "volume \(good)\nvolume id=2 vhost-user=v.sock backend=file:w.img sector-size=512 wrapped-key=\(wrappedHex) kek-file=k",
      "vhost-user"
    ),
  ])
  func badVolumeLines(_ text: String, _ field: String) {
    do {
      _ = try Self.parse(text)
      Issue.record("accepted: \(text)")
    } catch {
      #expect(error.field == field, "\(error)")
      #expect(error.line == 3 || (text.contains("\n") && error.line == 4), "\(error)")
    }
  }

  /// The KEK never appears in the configuration, so the parsed value (which
  /// may be logged) holds only the wrapped key.
  @Test func theConfigurationHoldsNoPlainKey() throws {
    let c = try Self.parse("volume " + Self.good)
    #expect(c.volumes[0].spec.wrappedKey.count == KeyWrap.wrappedByteCount(forKeyByteCount: 64))
  }
}
