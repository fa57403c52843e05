import CardCrypto
import Foundation
import Testing

@testable import Emulator

/// The card's firmware (`bulkhead-card`) serving an encrypted volume to a
/// stock Debian guest over vhost-user-blk: the guest makes an ext4 file
/// system, writes files and syncs; a second guest on the same volume reads
/// every byte back; the backing file holds no plaintext; and a guest that
/// opens the backing file itself with dm-crypt (`cryptsetup --type plain
/// --cipher aes-xts-plain64`) and the volume's key reads the same files.
/// Then the firmware is killed (SIGKILL) while a guest writes with
/// O_DIRECT: QEMU reconnects and every acknowledged write reads back.
extension Guests {
  @Suite struct CardVolumeTests {
    /// A line the guest writes thousands of times: if the volume leaked
    /// plaintext, the backing file would hold it.
    static let pattern = "BULKHEAD-PLAINTEXT-PATTERN-7f3a9c"
    static let volumeBytes: UInt64 = 64 << 20

    /// The volume's key material, made fresh for each test: the KEK (in its
    /// own file, as on a provisioned card), the data key (which only the
    /// dm-crypt guest sees in the clear) and the data key wrapped under the
    /// KEK (RFC 5649), which goes into the card's configuration.
    struct Keys {
      var kekHex: String
      var dataKey: [UInt8]
      var wrapped: [UInt8]

      init() throws {
        var kek = [UInt8](repeating: 0, count: 32)
        var data = [UInt8](repeating: 0, count: 64)
        for i in kek.indices { kek[i] = UInt8.random(in: 0...255) }
        for i in data.indices { data[i] = UInt8.random(in: 0...255) }
        kekHex = kek.map { String(format: "%02x", $0) }.joined()
        dataKey = data
        let dataHex = data.map { String(format: "%02x", $0) }.joined()
        wrapped = try KeyWrap.wrap(try SymmetricKey(hex: dataHex), kek: try SymmetricKey(hex: kekHex))
      }

      /// The data key as a shell `printf` format (octal escapes, which
      /// busybox's printf understands), to write the guest's key file.
      var printfKey: String {
        dataKey.map { byte in
          let digits = String(byte, radix: 8)
          return "\\" + String(repeating: "0", count: 3 - digits.count) + digits
        }.joined()
      }
    }

    /// Where the card keeps the volume's ciphertext: the file itself, or
    /// the same file exported by qemu-nbd (which the test starts).
    enum Backend: String, CaseIterable, Sendable {
      case file
      case nbd
    }

    /// A card with a ring uplink, no NICs, and one volume.
    static func configuration(directory: String, keys: Keys, sectorSize: Int, backend: Backend) -> String {
      let hex = keys.wrapped.map { String(format: "%02x", $0) }.joined()
      let location =
        backend == .file ? "file:\(directory)/v7.img" : "nbd:unix:\(directory)/nbd.sock export=v7"
      return """
        card underlay=10.255.0.1 mac=02:ca:00:00:00:01 router-mac=02:ee:00:00:00:01 gateway-mac=02:00:5e:00:00:01
        uplink ring
        volume id=7 vhost-user=\(directory)/v7.sock backend=\(location) sector-size=\(sectorSize) wrapped-key=\(hex) kek-file=\(directory)/kek
        """
    }

    static func prepare(directory: String, keys: Keys, sectorSize: Int, backend: Backend = .file) throws {
      try (keys.kekHex + "\n").write(toFile: directory + "/kek", atomically: true, encoding: .utf8)
      try configuration(directory: directory, keys: keys, sectorSize: sectorSize, backend: backend).write(
        toFile: directory + "/card.conf", atomically: true, encoding: .utf8)
      let image = directory + "/v7.img"
      #expect(FileManager.default.createFile(atPath: image, contents: nil))
      let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: image))
      try handle.truncate(atOffset: volumeBytes)
      try handle.close()
    }

    static func startCard(directory: String, log: String, aarch64: Bool = false) throws -> PeerProcess {
      let card = try PeerProcess(
        CardHostFunctionTests.firmwareCommand(aarch64: aarch64) + [directory + "/card.conf"], logPath: log)
      _ = card.waitForFile(directory + "/v7.sock", timeout: 10)
      return card
    }

    /// The files' checksum, as each guest reports it.
    static let checksum =
      "cat /mnt/v/pattern.txt /mnt/v/random.bin /mnt/v/dir/small.txt | sha256sum | cut -c1-64"

    static func guest(
      _ name: String, directory: String, disk: GuestDisk.Backend, scenario: String
    ) throws -> GuestOutcome {
      var configuration = GuestConfiguration(
        name: name, image: try GuestFixture.image.get(), scenario: scenario, initrd: .storage)
      configuration.disks = [GuestDisk(disk)]
      let guest = try Guest(configuration, directory: directory)
      return try guest.waitUntilDone(timeout: 240)
    }

    static func stepsPassed(_ outcome: GuestOutcome, _ steps: [String]) -> Bool {
      steps.allSatisfy { step in outcome.results.contains { $0["step"] == step && $0["ok"] == "true" } }
    }

    @Test(arguments: [(4096, Backend.file), (512, Backend.file), (4096, Backend.nbd)])
    func guestFileSystemSurvivesReattachAndOpensWithDmCrypt(sectorSize: Int, backend: Backend) throws {
      let directory = try GuestFixture.directory("cv\(sectorSize)\(backend.rawValue)")
      let keys = try Keys()
      try Self.prepare(directory: directory, keys: keys, sectorSize: sectorSize, backend: backend)
      // The NBD server outlives the card's restart (--persistent).
      var server: PeerProcess? = nil
      if backend == .nbd {
        server = try PeerProcess(
          [
            "qemu-nbd", "--persistent", "--format=raw", "--export-name=v7",
            "--socket=" + directory + "/nbd.sock",
            directory + "/v7.img",
          ], logPath: directory + "/qemu-nbd.log")
        #expect(server?.waitForFile(directory + "/nbd.sock", timeout: 10) == true)
      }
      defer { server?.stop() }
      var card = try Self.startCard(directory: directory, log: directory + "/card1.log")
      defer { card.stop() }
      let socket = GuestDisk.Backend.vhostUserBlk(socket: directory + "/v7.sock")

      // 1. Make a file system, write files, sync.
      let writer = try Self.guest(
        "cvw", directory: directory, disk: socket,
        scenario: """
          report sectors=$(cat /sys/block/vda/size) block=$(cat /sys/block/vda/queue/logical_block_size) serial=$(cat /sys/block/vda/serial)
          step mkfs mke2fs -q -F -t ext4 /dev/vda
          mkdir -p /mnt/v
          step mount mount -t ext4 /dev/vda /mnt/v
          i=0; while [ $i -lt 4096 ]; do echo "\(Self.pattern) line $i"; i=$((i+1)); done > /mnt/v/pattern.txt
          head -c 6000000 /dev/urandom > /mnt/v/random.bin
          mkdir /mnt/v/dir; echo small > /mnt/v/dir/small.txt
          step sync sync
          report written=$(\(Self.checksum))
          step umount umount /mnt/v
          """)
      var logs = "writer:\n\(writer.consoleLog.suffix(3000))\ncard:\n\(card.log.suffix(2000))"
      #expect(writer.status == 0, "\(logs)")
      #expect(Self.stepsPassed(writer, ["mkfs", "mount", "sync", "umount"]), "\(logs)")
      #expect(writer.value(of: "sectors") == String(Self.volumeBytes / 512), "\(logs)")
      #expect(writer.value(of: "block") == String(sectorSize), "\(logs)")
      #expect(writer.value(of: "serial") == "bulkhead-vol-7", "\(logs)")
      let written = try #require(writer.value(of: "written"), "\(logs)")
      #expect(written.count == 64)

      // 2. Detach (the card stops: flush, key zeroed) and attach again; a
      // new guest reads everything back.
      card.stop()
      #expect(card.log.contains("volume 7: detached, key zeroed"), "\(card.log)")
      card = try Self.startCard(directory: directory, log: directory + "/card2.log")
      let reader = try Self.guest(
        "cvr", directory: directory, disk: socket,
        scenario: """
          mkdir -p /mnt/v
          step mount mount -t ext4 /dev/vda /mnt/v
          report read=$(\(Self.checksum))
          step umount umount /mnt/v
          """)
      logs = "reader:\n\(reader.consoleLog.suffix(3000))\ncard:\n\(card.log.suffix(2000))"
      #expect(reader.status == 0 && Self.stepsPassed(reader, ["mount", "umount"]), "\(logs)")
      #expect(reader.value(of: "read") == written, "\(logs)")
      card.stop()
      server?.stop()

      // 3. The backing file holds ciphertext only.
      let backing = try Data(contentsOf: URL(fileURLWithPath: directory + "/v7.img"))
      #expect(
        backing.range(of: Data(Self.pattern.utf8)) == nil, "plaintext pattern found in the backing file")
      #expect(backing.contains { $0 != 0 }, "the backing file was never written")

      // 4. dm-crypt in a guest, with the volume's data key, reads the same
      // files from the backing file itself.
      let cryptGuest = try Self.guest(
        "cvd", directory: directory, disk: .rawFile(path: directory + "/v7.img"),
        scenario: """
          modprobe -a dm_crypt xts aesni_intel
          printf '\(keys.printfKey)' > /tmp/key
          step open cryptsetup open --type plain --cipher aes-xts-plain64 --key-size 512 --sector-size \(sectorSize) --key-file /tmp/key /dev/vda vol
          mkdir -p /mnt/v
          step mount mount -t ext4 -o ro,noload /dev/mapper/vol /mnt/v
          report decrypted=$(\(Self.checksum))
          grep -c "\(Self.pattern)" /mnt/v/pattern.txt > /tmp/count
          report patterns=$(cat /tmp/count)
          """)
      logs = "dm-crypt guest:\n\(cryptGuest.consoleLog.suffix(3000))"
      #expect(Self.stepsPassed(cryptGuest, ["open", "mount"]), "\(logs)")
      #expect(cryptGuest.value(of: "decrypted") == written, "\(logs)")
      #expect(cryptGuest.value(of: "patterns") == "4096", "\(logs)")
    }

    /// The guest writes 40 chunks of 256 KiB with O_DIRECT and fsync, one
    /// every half second; the firmware is killed (SIGKILL) and started again
    /// in the middle. QEMU reconnects, the stalled write completes, and
    /// every acknowledged chunk reads back unchanged.
    @Test func acknowledgedWritesSurviveAFirmwareKill() throws {
      try killWhileWriting(aarch64: false)
    }

    @Test(
      .enabled(
        if: CardHostFunctionTests.aarch64Firmware != nil,
        "needs .build-aarch64/release/bulkhead-card (Firmware/build.sh) and qemu-aarch64"))
    func theSameWithTheAArch64FirmwareUnderQemuUser() throws {
      try killWhileWriting(aarch64: true)
    }

    func killWhileWriting(aarch64: Bool) throws {
      let directory = try GuestFixture.directory(aarch64 ? "cvka" : "cvk")
      let keys = try Keys()
      try Self.prepare(directory: directory, keys: keys, sectorSize: 4096)
      var card = try Self.startCard(directory: directory, log: directory + "/card1.log", aarch64: aarch64)
      defer { card.stop() }

      var configuration = GuestConfiguration(
        name: "cvk", image: try GuestFixture.image.get(),
        scenario: """
          head -c 10485760 /dev/urandom > /tmp/data
          echo "BULKHEAD phase=write"
          acked=0
          while [ $acked -lt 40 ]; do
            dd if=/tmp/data of=/dev/vda bs=262144 skip=$acked seek=$acked count=1 oflag=direct conv=notrunc,fsync 2>/dev/null || break
            acked=$((acked+1))
            sleep 0.5
          done
          report acked=$acked
          report expected=$(head -c $((acked*262144)) /tmp/data | sha256sum | cut -c1-64)
          report readback=$(dd if=/dev/vda bs=262144 count=$acked iflag=direct 2>/dev/null | sha256sum | cut -c1-64)
          """, initrd: .storage)
      configuration.disks = [GuestDisk(.vhostUserBlk(socket: directory + "/v7.sock"))]
      let guest = try Guest(configuration, directory: directory)
      let writing = Guests.BulkheadVhostUserTests.waitForConsole(
        guest, "BULKHEAD phase=write", timeout: 180)
      if writing {
        // Into the writes (they last about 20 s).
        Thread.sleep(forTimeInterval: 5)
        kill(card.pid, SIGKILL)
        card.stop()
        card = try Self.startCard(directory: directory, log: directory + "/card2.log", aarch64: aarch64)
      }
      let outcome = try guest.waitUntilDone(timeout: 240)
      let logs = "guest:\n\(outcome.consoleLog.suffix(3000))\ncard:\n\(card.log.suffix(3000))"
      #expect(writing, "\(logs)")
      #expect(outcome.value(of: "acked") == "40", "\(logs)")
      let expected = outcome.value(of: "expected")
      #expect(expected?.count == 64 && expected == outcome.value(of: "readback"), "\(logs)")
      #expect(card.log.contains("front-end connected"), "QEMU did not reconnect\n\(logs)")
    }
  }
}
