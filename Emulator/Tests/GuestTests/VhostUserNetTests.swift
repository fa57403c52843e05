import Foundation
import Testing

@testable import Emulator

extension Guests {
  @Suite struct VhostUserNetTests {
    /// A guest's virtio-net NIC served over vhost-user by DPDK's vhost PMD in
    /// testpmd, whose icmpecho mode answers ARP requests and pings for any
    /// address: the guest's pings must come back.
    @Test func guestPingsThroughTestpmdOverVhostUser() throws {
      let image = try GuestFixture.image.get()
      let directory = try GuestFixture.directory("vhnet")
      let socket = directory + "/vhost-net0.sock"
      let prefix = GuestFixture.unique("vhnet")
      let testpmd = try PeerProcess(
        [
          "dpdk-testpmd", "--no-huge", "-m", "1024", "--no-pci", "--no-shconf", "-l", "0,1",
          "--file-prefix", prefix,
          "--vdev", "net_vhost0,iface=\(socket),client=0",
          "--", "--total-num-mbufs=16384", "--forward-mode=icmpecho", "-a",
        ], logPath: directory + "/testpmd.log")
      defer {
        testpmd.stop()
        // EAL leaves its runtime folder behind even with --no-shconf.
        try? FileManager.default.removeItem(atPath: "/var/run/dpdk/" + prefix)
      }
      try #require(
        testpmd.waitForFile(socket, timeout: 30), "testpmd made no socket:\n\(testpmd.log)")

      var configuration = GuestConfiguration(
        name: "vhnet", image: image,
        scenario: """
          ip addr add 10.0.0.1/24 dev eth0
          ip link set eth0 up
          step ping ping -c 3 -W 5 10.0.0.2
          report replies=$(ping -c 2 -W 5 10.0.0.2 | sed -n 's/.* \\([0-9]*\\) packets received.*/\\1/p')
          """)
      configuration.nics = [GuestNIC(.vhostUser(socket: socket), mac: "52:54:00:12:34:01")]
      let guest = try Guest(configuration, directory: directory)
      let outcome = try guest.waitUntilDone(timeout: 60)
      print("vhost-user ping: done after \(outcome.secondsToDone) s")

      #expect(
        outcome.status == 0,
        "console:\n\(outcome.consoleLog)\ntestpmd:\n\(testpmd.log.suffix(2000))")
      #expect(outcome.results.contains { $0["step"] == "ping" && $0["ok"] == "true" })
      #expect(outcome.value(of: "replies") == "2")
    }
  }
}
