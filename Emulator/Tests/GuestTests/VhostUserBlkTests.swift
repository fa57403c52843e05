import Foundation
import Testing

@testable import Emulator

extension Guests {
  @Suite struct VhostUserBlkTests {
    /// A guest disk served over vhost-user-blk by qemu-storage-daemon from a
    /// raw file: the guest sees its size, reads what the test wrote, and what
    /// it writes reaches the file.
    @Test func guestReadsAndWritesADiskServedByQemuStorageDaemon() throws {
      let image = try GuestFixture.image.get()
      let directory = try GuestFixture.directory("vhblk")
      let socket = directory + "/vhost-blk0.sock"
      let disk = directory + "/disk.raw"
      let diskBytes = 32 << 20
      let block = 4096
      // Block 256 holds a marker; the rest is zeros.
      var contents = Data(count: diskBytes)
      let marker = Data("bulkhead-block-256-marker".utf8)
      contents.replaceSubrange(256 * block..<256 * block + marker.count, with: marker)
      try contents.write(to: URL(fileURLWithPath: disk))

      let daemon = try PeerProcess(
        [
          "qemu-storage-daemon",
          "--blockdev", "driver=file,node-name=f,filename=\(disk)",
          "--export",
          "type=vhost-user-blk,id=e,node-name=f,addr.type=unix,addr.path=\(socket),writable=on",
        ], logPath: directory + "/storage-daemon.log")
      defer { daemon.stop() }
      try #require(daemon.waitForFile(socket, timeout: 30), "no socket:\n\(daemon.log)")

      var configuration = GuestConfiguration(
        name: "vhblk", image: image,
        scenario: """
          report sectors=$(cat /sys/block/vda/size)
          report marker=$(dd if=/dev/vda bs=4096 skip=256 count=1 2>/dev/null | head -c 25)
          printf 'written-by-guest' | dd of=/dev/vda bs=4096 seek=300 conv=notrunc,fsync 2>/dev/null
          step write test $? = 0
          """)
      configuration.disks = [GuestDisk(.vhostUserBlk(socket: socket))]
      let guest = try Guest(configuration, directory: directory)
      let outcome = try guest.waitUntilDone(timeout: 60)
      print("vhost-user-blk: done after \(outcome.secondsToDone) s")

      #expect(outcome.status == 0, "console:\n\(outcome.consoleLog)\ndaemon:\n\(daemon.log)")
      #expect(outcome.value(of: "sectors") == String(diskBytes / 512))
      #expect(outcome.value(of: "marker") == "bulkhead-block-256-marker")
      daemon.stop()
      let after = try Data(contentsOf: URL(fileURLWithPath: disk))
      #expect(after[300 * block..<300 * block + 16] == Data("written-by-guest".utf8))
    }
  }
}
