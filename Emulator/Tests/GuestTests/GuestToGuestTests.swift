import Foundation
import Testing

@testable import Emulator

extension Guests {
  @Suite struct GuestToGuestTests {
    /// Two guests wired NIC to NIC by a QEMU stream socket (no bridge, no
    /// host stack): static addresses, ping, then an iperf3 TCP transfer.
    /// Speed is the emulator's, so only "bytes moved" is asserted.
    @Test func twoGuestsPingAndMoveTcpDataOverAStreamSocket() throws {
      let image = try GuestFixture.image.get()
      let directory = try GuestFixture.directory("g2g")
      let socket = directory + "/wire.sock"

      var server = GuestConfiguration(
        name: "server", image: image,
        scenario: """
          ip addr add 10.0.1.1/24 dev eth0
          ip link set eth0 up
          iperf3 --server --one-off --json > /tmp/iperf.json
          step iperf-server test $? = 0
          """)
      server.nics = [GuestNIC(.streamListen(socket: socket), mac: "52:54:00:00:01:01")]
      var client = GuestConfiguration(
        name: "client", image: image,
        scenario: """
          ip addr add 10.0.1.2/24 dev eth0
          ip link set eth0 up
          # The server boots at the same time: wait for it, then for iperf3.
          for i in $(seq 30); do ping -c 1 -W 1 10.0.1.1 >/dev/null && break; done
          step ping ping -c 3 -W 2 10.0.1.1
          for i in $(seq 30); do
            iperf3 --client 10.0.1.1 --time 2 --json > /tmp/iperf.json && break
            sleep 1
          done
          sent=$(sed -n '/"sum_received"/,/}/s/.*"bytes":[[:space:]]*\\([0-9]*\\).*/\\1/p' /tmp/iperf.json | head -1)
          rate=$(sed -n '/"sum_received"/,/}/s/.*"bits_per_second":[[:space:]]*\\([0-9.e+]*\\).*/\\1/p' /tmp/iperf.json | head -1)
          report bytes=${sent:-0} bits_per_second=${rate:-0}
          test "${sent:-0}" -gt 0
          """)
      client.nics = [GuestNIC(.streamConnect(socket: socket), mac: "52:54:00:00:01:02")]

      let serverGuest = try Guest(server, directory: directory)
      let clientGuest = try Guest(client, directory: directory)
      let clientOutcome = try clientGuest.waitUntilDone(timeout: 90)
      let serverOutcome = try serverGuest.waitUntilDone(timeout: 30)
      print(
        "guest to guest: client done after \(clientOutcome.secondsToDone) s, "
          + "iperf3 \(clientOutcome.value(of: "bits_per_second") ?? "?") bit/s")

      #expect(clientOutcome.status == 0, "client console:\n\(clientOutcome.consoleLog)")
      #expect(serverOutcome.status == 0, "server console:\n\(serverOutcome.consoleLog)")
      #expect(clientOutcome.results.contains { $0["step"] == "ping" && $0["ok"] == "true" })
      let bytes = clientOutcome.value(of: "bytes").flatMap { Int($0) } ?? 0
      #expect(bytes > 0)
    }
  }
}
