import Foundation
import Testing

@testable import Emulator

extension Guests {
  /// A volume the provider makes and attaches through `dpuctl` reaches a
  /// stock Debian guest through the card, and grows under it: the real
  /// controller pushes the volume to the real card (native build), QEMU
  /// connects the guest's virtio-blk to the card's host-function socket,
  /// and `dpuctl volumes resize` reaches the running guest's driver
  /// (the card's CONFIG_CHANGE_MSG, QEMU's config interrupt): the kernel
  /// sees the new size without a reboot, and the new end takes data.
  @Suite struct ControllerVolumeGuestTests {
    @Test func aControllerVolumeGrowsUnderARunningGuest() throws {
      let directory = try GuestFixture.directory("cvg")
      let pki = directory + "/pki"
      let controller = try Guests.EmulatedCardBootTests.Controller(directory: directory, pki: pki)
      defer { controller.stop() }
      try controller.dpuctl(["cards", "register", "card0", "--underlay-ip", "192.0.2.7"])
      try controller.dpuctl(["tenants", "create", "acme"])
      try controller.dpuctl([
        "volumes", "create", "data", "--tenant", "acme", "--size", "64MiB", "--backend",
        "file://" + directory + "/data.img",
      ])
      try controller.dpuctl([
        "attachments", "create", "data-c", "--tenant", "acme", "--card", "card0", "--volume", "data",
        "--host-function", "data.sock",
      ])

      // The card: its own settings and a ring uplink in its file; the
      // volume from the controller.
      try """
      card underlay=192.0.2.7 mac=02:ca:00:00:00:01 router-mac=02:ee:00:00:00:01 gateway-mac=02:00:5e:00:00:01
      uplink ring

      """.write(toFile: directory + "/card.conf", atomically: true, encoding: .utf8)
      let card = try PeerProcess(
        Guests.CardHostFunctionTests.firmwareCommand(aarch64: false) + [
          directory + "/card.conf", "--controller", "127.0.0.1:\(controller.managementPort)", "--pki-dir",
          pki,
          "--card-name", "card0", "--heartbeat-ms", "100", "--host-function-dir", directory,
        ], logPath: directory + "/card.log")
      defer { card.stop() }
      #expect(card.waitForFile(directory + "/data.sock", timeout: 60), "\(card.log)")

      var configuration = GuestConfiguration(
        name: "cvg", image: try GuestFixture.image.get(),
        scenario: """
          s1=$(cat /sys/block/vda/size)
          report size1=$s1 serial=$(cat /sys/block/vda/serial)
          i=0
          while [ $i -lt 1500 ] && [ "$(cat /sys/block/vda/size)" = "$s1" ]; do sleep 0.2; i=$((i+1)); done
          report size2=$(cat /sys/block/vda/size)
          head -c 1048576 /dev/urandom > /tmp/tail.bin
          step write dd if=/tmp/tail.bin of=/dev/vda bs=1M seek=127 count=1 oflag=direct
          report wrote=$(sha256sum /tmp/tail.bin | cut -c1-64)
          step read dd if=/dev/vda of=/tmp/back.bin bs=1M skip=127 count=1 iflag=direct
          report read=$(sha256sum /tmp/back.bin | cut -c1-64)
          """, initrd: .storage)
      configuration.disks = [GuestDisk(.vhostUserBlk(socket: directory + "/data.sock"))]
      let guest = try Guest(configuration, directory: directory)
      defer { guest.stop() }
      let first = guest.waitForResult("size1", timeout: 240)
      #expect(
        first?["size1"] == String(64 << 20 / 512), "console:\n\(guest.recentConsole)\ncard:\n\(card.log)")
      #expect(first?["serial"]?.hasPrefix("bulkhead-vol-") == true, "\(first ?? [:])")

      try controller.dpuctl(["volumes", "resize", "data", "--tenant", "acme", "--size", "128MiB"])
      let outcome = try guest.waitUntilDone(timeout: 420)
      let logs = "console:\n\(outcome.consoleLog.suffix(3000))\ncard:\n\(card.log.suffix(2000))"
      #expect(outcome.value(of: "size2") == String(128 << 20 / 512), "\(logs)")
      #expect(CardVolumeTests.stepsPassed(outcome, ["write", "read"]), "\(logs)")
      let wrote = outcome.value(of: "wrote")
      #expect(wrote != nil && wrote == outcome.value(of: "read"), "\(logs)")
    }
  }
}
