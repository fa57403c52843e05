import Foundation
import HostDriver
import Testing

@testable import Emulator

/// A stock Debian guest whose virtio-net NIC uses packed rings (virtio 1.2
/// §2.8): QEMU's `virtio-net-pci` with `packed=on`, plugged through the
/// guest's QEMU monitor into a PCIe root port (as the host agent does) and
/// served by the card's firmware over vhost-user. The guest checks that
/// its driver negotiated VIRTIO_F_RING_PACKED, gets its address by DHCP and
/// pings the VPC gateway (answered by the card) with full-size payloads.
/// Then the firmware is killed (SIGKILL) in the middle of a ping flood and
/// started again: QEMU reconnects and sends the stale ring base it kept;
/// the restarted card resumes each packed ring from its resume record, and
/// the guest's traffic goes on without a reboot.
extension Guests {
  @Suite struct PackedRingGuestTests {
    static let mac = "52:54:00:16:01:0a"

    /// Counts "received" in ping's summary.
    static let received = """
      received() { r=$(sed -n 's/.*transmitted, \\([0-9]*\\) .*received.*/\\1/p' "$1"); echo ${r:-0}; }
      """

    @Test func aPackedRingNICMovesDataAcrossAFirmwareKill() throws {
      let image = try GuestFixture.image.get()
      let directory = try GuestFixture.directory("pk")
      try Guests.CardHostFunctionTests.configuration(directory: directory).write(
        toFile: directory + "/card.conf", atomically: true, encoding: .utf8)
      var card = try Guests.CardHostFunctionTests.startCard(
        directory: directory, log: directory + "/card1.log", aarch64: false)
      defer { card.stop() }

      var configuration = GuestConfiguration(
        name: "pk", image: image,
        scenario: Self.received + """

          echo "BULKHEAD phase=plug"
          for i in $(seq 120); do [ -e /sys/class/net/eth0 ] && break; sleep 1; done
          # The NIC's negotiated features, bit 0 first: bit 34 is RING_PACKED.
          for d in /sys/bus/virtio/devices/*; do
            [ "$(cat $d/device)" = "0x0001" ] && report packed=$(cut -c35 $d/features)
          done

          """ + Guests.CardHostFunctionTests.dhcp + """

            step gateway ping -c 3 -W 2 172.16.0.1
            ping -c 100 -i 0.05 -s 1300 -W 2 172.16.0.1 > /tmp/bulk.txt
            report bulk=$(received /tmp/bulk.txt)
            echo "BULKHEAD phase=restart"
            ping -c 80 -i 0.25 -s 1000 -W 2 172.16.0.1 > /tmp/across.txt
            report across=$(received /tmp/across.txt)
            step ping-after ping -c 3 -W 2 172.16.0.1
            ping -c 100 -i 0.05 -s 1300 -W 2 172.16.0.1 > /tmp/after.txt
            report after=$(received /tmp/after.txt)
            """)
      configuration.monitorSocket = directory + "/qmp.sock"
      configuration.hotplugPorts = 1
      let guest = try Guest(configuration, directory: directory)
      defer { guest.stop() }

      // The NIC goes in once the guest runs, with packed rings.
      let plugging = Guests.BulkheadVhostUserTests.waitForConsole(guest, "BULKHEAD phase=plug", timeout: 240)
      var plan = try FunctionPlan(
        HostFunction(
          name: "pk", kind: .net(mac: Self.mac, queuePairs: 1),
          path: .vhostUser(socket: directory + "/n1.sock")),
        bus: FunctionPlan.rootPortName(0))
      for i in plan.attach.indices where plan.attach[i].execute == "device_add" {
        plan.attach[i].arguments["packed"] = true
      }
      var plugged = false
      if plugging {
        let monitor = try GuestMonitor(socketPath: directory + "/qmp.sock")
        for command in plan.attach { _ = try monitor.execute(command) }
        plugged = true
      }

      // The restart: into the second ping run, kill the firmware and start
      // it again from the same configuration (and the same run directory,
      // where the resume records are).
      let reachedRestart =
        plugged && Guests.BulkheadVhostUserTests.waitForConsole(guest, "BULKHEAD phase=restart", timeout: 240)
      var firstLog = ""
      if reachedRestart {
        Thread.sleep(forTimeInterval: 4)
        kill(card.pid, SIGKILL)
        card.stop()
        firstLog = card.log
        card = try Guests.CardHostFunctionTests.startCard(
          directory: directory, log: directory + "/card2.log", aarch64: false)
      }
      let outcome = try guest.waitUntilDone(timeout: 300)
      let logs =
        "guest:\n\(outcome.consoleLog.suffix(4000))\ncard before:\n\(firstLog.suffix(2000))\n"
        + "card after:\n\(card.log.suffix(3000))"
      #expect(plugging && plugged && reachedRestart, "\(logs)")
      // The guest's driver took packed rings.
      #expect(outcome.value(of: "packed") == "1", "\(logs)")
      #expect(outcome.results.contains { $0["step"] == "gateway" && $0["ok"] == "true" }, "\(logs)")
      // Full-size echoes before, across and after the restart. Under TCG on
      // shared cores a few may be late; the flow must not stop.
      #expect((outcome.value(of: "bulk").flatMap { Int($0) } ?? 0) >= 95, "\(logs)")
      #expect((outcome.value(of: "across").flatMap { Int($0) } ?? 0) >= 40, "\(logs)")
      #expect(outcome.results.contains { $0["step"] == "ping-after" && $0["ok"] == "true" }, "\(logs)")
      #expect((outcome.value(of: "after").flatMap { Int($0) } ?? 0) >= 95, "\(logs)")
      // QEMU re-attached the NIC, and the card took the rings' positions
      // from its record, not from QEMU's stale base.
      let restarted = card.log
      #expect(restarted.contains("front-end connected"), "\(logs)")
      #expect(restarted.contains("(packed, resumed from the record)"), "\(logs)")
      #expect(!restarted.contains("contradicts the ring"), "\(logs)")
    }
  }
}
