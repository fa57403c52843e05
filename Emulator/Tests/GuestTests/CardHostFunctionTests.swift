import Foundation
import Testing

@testable import Emulator

/// The card's firmware (`bulkhead-card`) serving two stock Debian guests'
/// virtio-net NICs over vhost-user, with the VPC pipeline between them:
/// each guest asks the card for its address by DHCP, pings the VPC gateway
/// (answered by the card) and the other guest, and moves TCP data to it
/// with iperf3. Then the firmware is killed (SIGKILL, by PID) in the middle
/// of a second transfer and started again: QEMU reconnects, the guests'
/// NICs recover without a reboot, and the transfer completes. The same
/// again with the aarch64 firmware under qemu-aarch64.
extension Guests {
  @Suite struct CardHostFunctionTests {
    static let serverMAC = "52:54:00:16:01:0a"
    static let clientMAC = "52:54:00:16:01:0b"

    /// One VPC, one subnet, both NICs on this card in one security group
    /// that admits its own members. The uplink is an in-memory ring: this
    /// test is about the host side.
    static func configuration(directory: String) -> String {
      """
      card underlay=10.255.0.1 mac=02:ca:00:00:00:01 router-mac=02:ee:00:00:00:01 gateway-mac=02:00:5e:00:00:01
      uplink ring
      tenant id=1 name=acme
      vpc id=1 tenant=1 cidr=172.16.0.0/16 vni=1001 encap=geneve
      subnet id=1 vpc=1 cidr=172.16.0.0/16 gateway=172.16.0.1
      security-group id=1
      rule group=1 direction=inbound protocol=any peer=group:1
      rule group=1 direction=outbound protocol=any peer=0.0.0.0/0
      nic id=10 subnet=1 mac=\(serverMAC) ip=172.16.1.10 groups=1 port=1 vhost-user=\(directory)/n1.sock
      nic id=11 subnet=1 mac=\(clientMAC) ip=172.16.1.11 groups=1 port=2 vhost-user=\(directory)/n2.sock
      nic id=12 subnet=1 mac=52:54:00:16:01:0c ip=172.16.1.12 groups=1 port=3 vhost-user=\(directory)/n3.sock
      """
    }

    /// The aarch64 firmware (Embedded Swift, `Firmware/build.sh`), run
    /// under qemu-aarch64 as the card's ARM cores would; the test script
    /// builds it before the tests.
    static let aarch64Firmware: String? = {
      let path = GuestImage.repository(containing: #filePath) + "/.build-aarch64/release/bulkhead-card"
      let usable =
        FileManager.default.isExecutableFile(atPath: path)
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/qemu-aarch64")
      return usable ? path : nil
    }()

    static func firmwareCommand(aarch64: Bool) -> [String] {
      if aarch64, let path = aarch64Firmware { return ["/usr/bin/qemu-aarch64", path] }
      return [Guests.BulkheadVhostUserTests.binary("bulkhead-card")]
    }

    static func startCard(directory: String, log: String, aarch64: Bool) throws -> PeerProcess {
      let card = try PeerProcess(
        Self.firmwareCommand(aarch64: aarch64) + [directory + "/card.conf"], logPath: log)
      for socket in ["n1.sock", "n2.sock", "n3.sock"] {
        _ = card.waitForFile(directory + "/" + socket, timeout: 10)
      }
      return card
    }

    /// DHCP through busybox's udhcpc; the script it runs sets what the
    /// card offered (address and mask, router, MTU).
    static let dhcp =
      RackPlan.dhcpClientScript + """

        ip link set eth0 up
        step dhcp busybox udhcpc -i eth0 -n -q -t 10 -T 2 -s /tmp/dhcp.sh
        report address=$(ip -4 -o addr show eth0 | awk '{print $4}') mtu=$(cat /sys/class/net/eth0/mtu)
        report gateway=$(ip route show default | awk '{print $3}')
        """

    /// Shell functions for the transfers that cross the restart: `paced`
    /// writes 20 chunks of 256 KiB of random data, one a second, so that a
    /// stream outlasts the restart whatever the guest's speed; `paced_sum`
    /// is the SHA-256 of what `paced` writes. Busybox's nc stops reading
    /// the socket once its stdin ends, so receivers read stdin from fd 3, a
    /// FIFO held open that never delivers anything. `received` reads the
    /// bytes the receiver counted from iperf3's JSON.
    static let pacedStreams = """

      head -c 262144 /dev/urandom > /tmp/chunk
      paced() { for i in $(seq 20); do cat /tmp/chunk; sleep 1; done; }
      paced_sum() { for i in $(seq 20); do cat /tmp/chunk; done | sha256sum | cut -c1-64; }
      mkfifo /tmp/quiet
      exec 3<>/tmp/quiet
      received() {
        sent=$(sed -n '/"sum_received"/,/}/s/.*"bytes":[[:space:]]*\\([0-9]*\\).*/\\1/p' "$1" | head -1)
        echo ${sent:-0}
      }
      """

    @Test func twoGuestsOnOneCardPingAndMoveDataAcrossAFirmwareRestart() throws {
      try run(aarch64: false)
    }

    @Test(
      .enabled(
        if: aarch64Firmware != nil,
        "needs .build-aarch64/release/bulkhead-card (Firmware/build.sh) and qemu-aarch64"))
    func theSameWithTheAArch64FirmwareUnderQemuUser() throws {
      try run(aarch64: true)
    }

    func run(aarch64: Bool) throws {
      let image = try GuestFixture.image.get()
      let directory = try GuestFixture.directory(aarch64 ? "chfa" : "chf")
      try Self.configuration(directory: directory).write(
        toFile: directory + "/card.conf", atomically: true, encoding: .utf8)
      var card = try Self.startCard(directory: directory, log: directory + "/card1.log", aarch64: aarch64)
      defer { card.stop() }

      var server = GuestConfiguration(
        name: "chfs", image: image,
        scenario: Self.dhcp + Self.pacedStreams + """

          step gateway ping -c 3 -W 2 172.16.0.1
          # The streams that cross the firmware restart: the client uploads
          # to port 7003 and downloads from port 7004.
          busybox nc -l -p 7003 <&3 > /tmp/up.bin &
          upload=$!
          paced | busybox nc -l -p 7004 &
          download=$!
          iperf3 --server > /tmp/iperf.log 2>&1 &
          report downsent=$(paced_sum)
          step peer sh -c 'for i in $(seq 60); do ping -c 1 -W 1 172.16.1.11 >/dev/null && exit 0; done; exit 1'
          step upload wait $upload
          report upreceived=$(sha256sum < /tmp/up.bin | cut -c1-64) upbytes=$(wc -c < /tmp/up.bin)
          step download wait $download
          # Wait for the client's "done" datagram, then stop.
          step done sh -c 'busybox nc -l -p 7000 <&3 > /tmp/done; grep -q done /tmp/done'
          """)
      server.nics = [GuestNIC(.vhostUser(socket: directory + "/n1.sock"), mac: Self.serverMAC)]
      var client = GuestConfiguration(
        name: "chfc", image: image,
        scenario: Self.dhcp + Self.pacedStreams + """

          step gateway ping -c 3 -W 2 172.16.0.1
          for i in $(seq 60); do ping -c 1 -W 1 172.16.1.10 >/dev/null && break; done
          step ping ping -c 3 -W 2 172.16.1.10
          for i in $(seq 30); do iperf3 --client 172.16.1.10 --time 2 --json > /tmp/iperf1.json && break; sleep 1; done
          report bytes1=$(received /tmp/iperf1.json)
          iperf3 --client 172.16.1.10 --time 2 --reverse --json > /tmp/iperf1r.json
          report bytes1r=$(received /tmp/iperf1r.json)
          report upsent=$(paced_sum)
          # The host kills and restarts the firmware during these transfers
          # (each lasts about 20 s).
          echo "BULKHEAD phase=restart"
          paced | busybox nc 172.16.1.10 7003 &
          upload=$!
          for i in $(seq 10); do
            busybox nc 172.16.1.10 7004 <&3 > /tmp/down.bin; rc=$?
            [ -s /tmp/down.bin ] && break; sleep 1
          done
          step download-across-restart test $rc = 0
          report downreceived=$(sha256sum < /tmp/down.bin | cut -c1-64) downbytes=$(wc -c < /tmp/down.bin)
          step upload-across-restart wait $upload
          step ping-after ping -c 3 -W 2 172.16.1.10
          for i in $(seq 10); do echo done | busybox nc 172.16.1.10 7000 && break; sleep 1; done
          """)
      client.nics = [GuestNIC(.vhostUser(socket: directory + "/n2.sock"), mac: Self.clientMAC)]

      let serverGuest = try Guest(server, directory: directory)
      let clientGuest = try Guest(client, directory: directory)

      // The restart: once the second transfer has begun, kill the firmware
      // and start it again from the same configuration.
      let reachedRestart = Guests.BulkheadVhostUserTests.waitForConsole(
        clientGuest, "BULKHEAD phase=restart", timeout: 240)
      if reachedRestart {
        // Into the transfer (iperf3 connects, then sends for 20 s).
        Thread.sleep(forTimeInterval: 4)
        kill(card.pid, SIGKILL)
        card.stop()
        card = try Self.startCard(directory: directory, log: directory + "/card2.log", aarch64: aarch64)
      }
      let clientOutcome = try clientGuest.waitUntilDone(timeout: 240)
      let serverOutcome = try serverGuest.waitUntilDone(timeout: 60)
      let logs =
        "client:\n\(clientOutcome.consoleLog.suffix(4000))\nserver:\n\(serverOutcome.consoleLog.suffix(3000))\n"
        + "card:\n\(card.log.suffix(3000))"
      #expect(reachedRestart, "\(logs)")

      for (outcome, address) in [(serverOutcome, "172.16.1.10/16"), (clientOutcome, "172.16.1.11/16")] {
        #expect(outcome.results.contains { $0["step"] == "dhcp" && $0["ok"] == "true" }, "\(logs)")
        #expect(outcome.value(of: "address") == address, "\(logs)")
        #expect(outcome.value(of: "gateway") == "172.16.0.1", "\(logs)")
        #expect(outcome.results.contains { $0["step"] == "gateway" && $0["ok"] == "true" }, "\(logs)")
      }
      for step in ["ping", "download-across-restart", "upload-across-restart", "ping-after"] {
        #expect(
          clientOutcome.results.contains { $0["step"] == step && $0["ok"] == "true" }, "step \(step)\n\(logs)"
        )
      }
      for step in ["peer", "upload", "download"] {
        #expect(
          serverOutcome.results.contains { $0["step"] == step && $0["ok"] == "true" }, "step \(step)\n\(logs)"
        )
      }
      // Both ways before the restart (iperf3, then iperf3 --reverse).
      #expect((clientOutcome.value(of: "bytes1").flatMap { Int($0) } ?? 0) > 0, "\(logs)")
      #expect((clientOutcome.value(of: "bytes1r").flatMap { Int($0) } ?? 0) > 0, "\(logs)")
      // Both ways across the restart: every byte arrived, unchanged.
      let streamBytes = String(20 * 262_144)
      #expect(serverOutcome.value(of: "upbytes") == streamBytes, "\(logs)")
      #expect(clientOutcome.value(of: "downbytes") == streamBytes, "\(logs)")
      let upSent = clientOutcome.value(of: "upsent")
      let downSent = serverOutcome.value(of: "downsent")
      #expect(upSent?.count == 64 && upSent == serverOutcome.value(of: "upreceived"), "\(logs)")
      #expect(downSent?.count == 64 && downSent == clientOutcome.value(of: "downreceived"), "\(logs)")
      // QEMU re-attached both NICs to the restarted firmware.
      #expect(card.log.components(separatedBy: "front-end connected").count - 1 >= 2, "\(logs)")
    }

    /// Guests that ignore the MTU the card's DHCP server announces (1400,
    /// the VPC's) and set 1500 by hand still move TCP data: the sender's
    /// full-size segments (MSS 1460, as both ends advertise) are dropped,
    /// counted (mtu-exceeded) and answered with ICMP "fragmentation
    /// needed", and its path MTU discovery settles on 1400 (RFC 1191).
    @Test func aGuestAtMTU1500MovesTCPDataThroughPathMTUDiscovery() throws {
      let image = try GuestFixture.image.get()
      let directory = try GuestFixture.directory("chm")
      try Self.configuration(directory: directory).write(
        toFile: directory + "/card.conf", atomically: true, encoding: .utf8)
      let card = try Self.startCard(directory: directory, log: directory + "/card.log", aarch64: false)
      defer { card.stop() }

      var server = GuestConfiguration(
        name: "chms", image: image,
        scenario: Self.dhcp + Self.pacedStreams + """

          ip link set eth0 mtu 1500
          busybox nc -l -p 7005 <&3 > /tmp/in.bin &
          receiver=$!
          step peer sh -c 'for i in $(seq 60); do ping -c 1 -W 1 172.16.1.11 >/dev/null && exit 0; done; exit 1'
          step receive wait $receiver
          report received=$(sha256sum < /tmp/in.bin | cut -c1-64) bytes=$(wc -c < /tmp/in.bin)
          """)
      server.nics = [GuestNIC(.vhostUser(socket: directory + "/n1.sock"), mac: Self.serverMAC)]
      var client = GuestConfiguration(
        name: "chmc", image: image,
        scenario: Self.dhcp + """

          ip link set eth0 mtu 1500
          report mtu1500=$(cat /sys/class/net/eth0/mtu)
          for i in $(seq 60); do ping -c 1 -W 1 172.16.1.10 >/dev/null && break; done
          head -c 1048576 /dev/urandom > /tmp/out.bin
          report sent=$(sha256sum < /tmp/out.bin | cut -c1-64)
          sleep 1
          step send busybox nc 172.16.1.10 7005 < /tmp/out.bin
          report pmtu=$(ip route get 172.16.1.10 | sed -n 's/.* mtu \\([0-9]*\\).*/\\1/p' | head -1)
          """)
      client.nics = [GuestNIC(.vhostUser(socket: directory + "/n2.sock"), mac: Self.clientMAC)]

      let serverGuest = try Guest(server, directory: directory)
      let clientGuest = try Guest(client, directory: directory)
      let clientOutcome = try clientGuest.waitUntilDone(timeout: 240)
      let serverOutcome = try serverGuest.waitUntilDone(timeout: 60)
      card.stop()
      let logs =
        "client:\n\(clientOutcome.consoleLog.suffix(3000))\nserver:\n\(serverOutcome.consoleLog.suffix(3000))\n"
        + "card:\n\(card.log.suffix(3000))"
      #expect(clientOutcome.value(of: "mtu1500") == "1500", "\(logs)")
      #expect(clientOutcome.results.contains { $0["step"] == "send" && $0["ok"] == "true" }, "\(logs)")
      #expect(serverOutcome.results.contains { $0["step"] == "receive" && $0["ok"] == "true" }, "\(logs)")
      #expect(serverOutcome.value(of: "bytes") == "1048576", "\(logs)")
      // Path MTU discovery: the route to the peer learned the VPC's MTU.
      #expect(clientOutcome.value(of: "pmtu") == "1400", "\(logs)")
      let sent = clientOutcome.value(of: "sent")
      #expect(sent?.count == 64 && sent == serverOutcome.value(of: "received"), "\(logs)")
      // The card dropped and counted the client's oversized segments.
      #expect(
        card.log.split(separator: "\n").contains {
          $0.contains("port 2 pipeline drops:") && $0.contains("mtu-exceeded")
        },
        "\(logs)")
    }

    /// `vhost-user-hostile` attacks the card's third NIC (malformed
    /// messages, hostile memory tables, rings outside memory, hostile
    /// descriptor chains) while a guest on the first NIC pings the gateway
    /// through the card all along: the guest's traffic keeps flowing, every
    /// attack gets a sound answer, and the firmware stays up.
    @Test func hostileFrontendBesideAHealthyGuestOnTheCard() throws {
      let image = try GuestFixture.image.get()
      let directory = try GuestFixture.directory("chh")
      try Self.configuration(directory: directory).write(
        toFile: directory + "/card.conf", atomically: true, encoding: .utf8)
      let card = try Self.startCard(directory: directory, log: directory + "/card.log", aarch64: false)
      defer { card.stop() }

      var configuration = GuestConfiguration(
        name: "chh", image: image,
        scenario: Self.dhcp + """

          step gateway ping -c 3 -W 2 172.16.0.1
          echo "BULKHEAD phase=attack"
          ping -c 150 -i 0.2 -W 2 172.16.0.1 > /tmp/ping.txt
          tail -2 /tmp/ping.txt
          received=$(sed -n 's/.*transmitted, \\([0-9]*\\) .*received.*/\\1/p' /tmp/ping.txt)
          report received=${received:-0}
          """)
      configuration.nics = [GuestNIC(.vhostUser(socket: directory + "/n1.sock"), mac: Self.serverMAC)]
      let guest = try Guest(configuration, directory: directory)
      let attacking = Guests.BulkheadVhostUserTests.waitForConsole(
        guest, "BULKHEAD phase=attack", timeout: 120)
      #expect(attacking, "card:\n\(card.log.suffix(3000))")
      let hostile = try PeerProcess(
        [Guests.BulkheadVhostUserTests.binary("vhost-user-hostile"), directory + "/n3.sock"],
        logPath: directory + "/hostile.log")
      #expect(hostile.waitForLog(containing: "hostile:", timeout: 120))
      hostile.stop()
      let outcome = try guest.waitUntilDone(timeout: 120)
      let logs =
        "guest:\n\(outcome.consoleLog.suffix(3000))\nhostile:\n\(hostile.log.suffix(3000))\n"
        + "card:\n\(card.log.suffix(3000))"
      #expect(hostile.log.contains(" 0 unexpected answers"), "\(logs)")
      // The card offers packed rings: the packed attacks ran, none skipped.
      #expect(hostile.log.contains("attack packed chain with no end: ignored it and carried on"), "\(logs)")
      #expect(!hostile.log.contains("skipped"), "\(logs)")
      // The bogus wrap counter left its queue broken, and the card said so.
      #expect(card.log.contains("broken (needs reset): packed ring start slot 0"), "\(logs)")
      #expect(hostile.log.contains("back-end still serves: yes"), "\(logs)")
      #expect(card.isRunning, "\(logs)")
      #expect(outcome.status == 0, "\(logs)")
      // Under TCG on shared cores a few echoes may be late; the flow must
      // not stop.
      #expect((outcome.value(of: "received").flatMap { Int($0) } ?? 0) >= 140, "\(logs)")
      // The guest's own connection was never refused nor dropped.
      let guestLines = card.log.split(separator: "\n").filter { $0.contains("/n1.sock") }
      #expect(guestLines.filter { $0.contains("front-end connected") }.count == 1, "\(logs)")
      #expect(!guestLines.contains { $0.contains("refused:") }, "\(logs)")
    }
  }
}
