import BlockStorage
// bench-volumes: a guest's disk served by the card's encrypted volume,
// beside the same guest on qemu-storage-daemon (plain, and with its LUKS
// driver), in one run; and the card's AES-XTS beside `openssl speed`.
//
//   scripts/bench.sh volumes
//   (or: swift build -c release --product bulkhead-card &&
//        swift run -c release bench-volumes [--seconds=N])
//
// One stock Debian guest (QEMU, TCG, virtio_blk over vhost-user-blk, one
// request queue) runs fio against /dev/vda, O_DIRECT with libaio:
// 4 KiB random read and write at queue depth 16, 1 MiB sequential read and
// write at queue depth 4, N seconds each. The disk is a 256 MiB file on
// the host, opened with O_DIRECT by every server:
//   1. bulkhead-card: a `volume` with AES-XTS-256 (dm-crypt layout,
//      4096-byte sectors), key wrapped under a KEK;
//   2. qemu-storage-daemon --export type=vhost-user-blk, raw file;
//   3. the same with `--blockdev driver=luks` (aes-256-xts, plain64).
// Guests run under TCG: the figures are the emulator's as much as the
// servers'; what compares is the rows of one run.
import CardCrypto
import Emulator
import Foundation
import Volumes

let seconds =
  CommandLine.arguments.first { $0.hasPrefix("--seconds=") }.flatMap { Int($0.dropFirst(10)) } ?? 10
let repository = GuestImage.repository(containing: #filePath)
let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
  .deletingLastPathComponent()
let card = binaries.appendingPathComponent("bulkhead-card").path
guard FileManager.default.isExecutableFile(atPath: card) else {
  print("bench-volumes: \(card) is missing; build it first: swift build -c release --product bulkhead-card")
  exit(1)
}
print("bench-volumes: building or reusing the guest image")
let image = try GuestImage.build(repository: repository) { print("  " + $0) }
let folder = NSTemporaryDirectory() + "bench-volumes-\(getpid())"
try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
print("bench-volumes: logs in \(folder) (removed at the end)")
defer { try? FileManager.default.removeItem(atPath: folder) }
let diskBytes: UInt64 = 256 << 20

/// What fio measured in one guest.
struct Figures {
  var randomReadIOPS = 0.0
  var randomWriteIOPS = 0.0
  var sequentialReadMBps = 0.0
  var sequentialWriteMBps = 0.0
}

/// Boots a guest on the vhost-user-blk socket and runs the four fio jobs.
func measure(name: String, socket: String) throws -> Figures {
  // fio's JSON lists "iops" and "bw_bytes" for read, write and trim, in
  // that order: a read job's figure is the first, a write job's the second.
  func job(_ label: String, _ arguments: String, _ key: String, _ index: Int) -> String {
    """
    fio --name=\(label) --filename=/dev/vda --direct=1 --ioengine=libaio \(arguments) --runtime=\(seconds) --time_based --output-format=json > /tmp/\(label).json 2>/tmp/\(label).err
    report \(label)=$(grep '"\(key)" :' /tmp/\(label).json | sed -n '\(index)s/.*: *\\([0-9.]*\\).*/\\1/p')
    """
  }
  var configuration = GuestConfiguration(
    name: name, image: image,
    scenario: [
      // Fill the disk once so that reads hit written blocks everywhere.
      "dd if=/dev/zero of=/dev/vda bs=1M count=\(diskBytes >> 20) oflag=direct 2>/dev/null",
      job("randread", "--rw=randread --bs=4k --iodepth=16", "iops", 1),
      job("randwrite", "--rw=randwrite --bs=4k --iodepth=16", "iops", 2),
      job("seqread", "--rw=read --bs=1M --iodepth=4", "bw_bytes", 1),
      job("seqwrite", "--rw=write --bs=1M --iodepth=4", "bw_bytes", 2),
    ].joined(separator: "\n"), initrd: .storage)
  configuration.disks = [GuestDisk(.vhostUserBlk(socket: socket))]
  let guest = try Guest(configuration, directory: folder)
  let outcome = try guest.waitUntilDone(timeout: Double(300 + 6 * seconds))
  func value(_ key: String) -> Double { Double(outcome.value(of: key) ?? "") ?? 0 }
  return Figures(
    randomReadIOPS: value("randread"), randomWriteIOPS: value("randwrite"),
    sequentialReadMBps: value("seqread") / 1e6, sequentialWriteMBps: value("seqwrite") / 1e6)
}

func makeDisk(_ path: String) throws {
  _ = FileManager.default.createFile(atPath: path, contents: nil)
  let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
  try handle.truncate(atOffset: diskBytes)
  try handle.close()
}

// 1. The card: a volume with a fresh data key wrapped under a fresh KEK.
let kek = try SymmetricKey.random(byteCount: 32)
let kekHex = kek.withUnsafeBytes { $0.map { String(format: "%02x", $0) }.joined() }
try (kekHex + "\n").write(toFile: folder + "/kek", atomically: true, encoding: .utf8)
let wrapped = try VolumeSpec.newWrappedDataKey(kek: kek)
try makeDisk(folder + "/card.img")
try """
card underlay=10.255.0.1 mac=02:ca:00:00:00:01 router-mac=02:ee:00:00:00:01 gateway-mac=02:00:5e:00:00:01
uplink ring
volume id=1 vhost-user=\(folder)/card.sock backend=file:\(folder)/card.img sector-size=4096 wrapped-key=\(wrapped.map { String(format: "%02x", $0) }.joined()) kek-file=\(folder)/kek queues=1
""".write(toFile: folder + "/card.conf", atomically: true, encoding: .utf8)
let cardProcess = try PeerProcess([card, folder + "/card.conf"], logPath: folder + "/card.log")
_ = cardProcess.waitForFile(folder + "/card.sock", timeout: 10)
print("bench-volumes: fio in a guest on bulkhead-card's volume, \(seconds) s per job")
let onCard = try measure(name: "bvc", socket: folder + "/card.sock")
cardProcess.stop()

// 2. qemu-storage-daemon, raw file.
try makeDisk(folder + "/raw.img")
let plainDaemon = try PeerProcess(
  [
    "qemu-storage-daemon", "--blockdev",
    "driver=file,node-name=f,filename=\(folder)/raw.img,cache.direct=on,aio=threads",
    "--export",
    "type=vhost-user-blk,id=e,node-name=f,addr.type=unix,addr.path=\(folder)/raw.sock,writable=on",
  ], logPath: folder + "/qsd-raw.log")
_ = plainDaemon.waitForFile(folder + "/raw.sock", timeout: 30)
print("bench-volumes: the same guest on qemu-storage-daemon (raw)")
let onPlain = try measure(name: "bvr", socket: folder + "/raw.sock")
plainDaemon.stop()

// 3. qemu-storage-daemon with its LUKS driver (aes-256-xts-plain64).
let created = try HostCommand.run([
  "qemu-img", "create", "-f", "luks", "--object", "secret,id=s0,data=bench", "-o",
  "key-secret=s0,cipher-alg=aes-256,cipher-mode=xts,ivgen-alg=plain64,iter-time=10",
  folder + "/luks.img", String(diskBytes >> 20) + "M",
])
guard created.status == 0 else {
  print("bench-volumes: qemu-img create -f luks failed: \(created.output)")
  exit(1)
}
let luksDaemon = try PeerProcess(
  [
    "qemu-storage-daemon", "--object", "secret,id=s0,data=bench", "--blockdev",
    "driver=file,node-name=f,filename=\(folder)/luks.img,cache.direct=on,aio=threads",
    "--blockdev", "driver=luks,node-name=l,file=f,key-secret=s0",
    "--export",
    "type=vhost-user-blk,id=e,node-name=l,addr.type=unix,addr.path=\(folder)/luks.sock,writable=on",
  ], logPath: folder + "/qsd-luks.log")
_ = luksDaemon.waitForFile(folder + "/luks.sock", timeout: 30)
print("bench-volumes: the same guest on qemu-storage-daemon (LUKS)")
let onLUKS = try measure(name: "bvl", socket: folder + "/luks.sock")
luksDaemon.stop()

func row(_ name: String, _ f: Figures) -> String {
  name + " | " + String(format: "%.0f", f.randomReadIOPS) + " | " + String(format: "%.0f", f.randomWriteIOPS)
    + " | " + String(format: "%.1f", f.sequentialReadMBps) + " | "
    + String(format: "%.1f", f.sequentialWriteMBps)
}
print(
  "server | 4 KiB randread IOPS (qd 16) | 4 KiB randwrite IOPS (qd 16) | 1 MiB read MB/s (qd 4) | 1 MiB write MB/s (qd 4)"
)
print(row("bulkhead-card (AES-XTS-256, 4096 B sectors)", onCard))
print(row("qemu-storage-daemon raw (peer)", onPlain))
print(row("qemu-storage-daemon LUKS aes-256-xts (peer)", onLUKS))

// 4. The card's cipher at 4096 B: the volume's write path (encrypt a
// unit, new tweak each) over memory, beside openssl speed.
let unitCount = 4096
let backend = MemoryBackend(byteCount: unitCount * 4096)
let volumeKEK = try SymmetricKey.random(byteCount: 32)
let volume = try EncryptedVolume(
  spec: VolumeSpec(
    wrappedKey: try VolumeSpec.newWrappedDataKey(kek: volumeKEK), encryptionSectorSize: .bytes4096),
  kek: volumeKEK, backend: backend)
let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 4096)
defer { buffer.deallocate() }
var runs: [Double] = []
for _ in 0..<5 {
  let start = DispatchTime.now().uptimeNanoseconds
  for round in 0..<8 {
    for unit in 0..<unitCount {
      buffer.initializeMemory(as: UInt8.self, repeating: UInt8(truncatingIfNeeded: round))
      try volume.write(sector: UInt64(unit * 8), consuming: buffer)
    }
  }
  let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
  runs.append(Double(8 * unitCount * 4096) / elapsed / 1e9)
}
runs.sort()
print(
  "card volume write path (AES-XTS-256 encrypt + copy to memory), 4096 B units: "
    + String(format: "%.2f GB/s (median of 5, %.2f-%.2f)", runs[2], runs[0], runs[4]))
let speed = try HostCommand.run([
  "openssl", "speed", "-evp", "aes-256-xts", "-bytes", "4096", "-seconds", "2",
])
if let line = speed.output.split(separator: "\n").last(where: {
  $0.hasPrefix("AES-256-XTS") || $0.hasPrefix("aes-256-xts")
}),
  let last = line.split(separator: " ").last, let kilobytes = Double(last.dropLast(1))
{
  print(
    "openssl speed -evp aes-256-xts -bytes 4096 (peer): "
      + String(format: "%.2f GB/s", kilobytes * 1000 / 1e9))
} else {
  print("openssl speed: no figure in its output:\n\(speed.output)")
}
