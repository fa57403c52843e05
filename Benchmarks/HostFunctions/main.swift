// bench-hostfunctions: guest-to-guest traffic through the card's host
// functions, beside the same two guests through DPDK's vhost PMD.
//
//   scripts/bench.sh hostfunctions
//   (or: swift build -c release --product bulkhead-card &&
//        swift run -c release bench-hostfunctions [--seconds=N])
//
// Two stock Debian guests (QEMU, TCG, virtio_net over vhost-user) are
// joined by
//   1. bulkhead-card: each NIC a virtio-net device on the card, frames
//      through the VPC pipeline (anti-spoofing, security groups, conntrack,
//      flow table) from one NIC to the other;
//   2. dpdk-testpmd --vdev net_vhost0 --vdev net_vhost1 --forward-mode=io:
//      frames copied from one vhost port to the other, no processing.
// In each, iperf3 TCP from one guest to the other (bits/s) and iperf3 UDP
// with 64-byte datagrams at an unlimited rate (datagrams received per
// second). Both guests use MTU 1400, the VPC's MTU (what the card's DHCP
// server hands out). Under TCG the guests' CPUs are emulated, so the figures are the
// emulator's; what compares is the two rows of one run.
import Emulator
import Foundation

let seconds =
  CommandLine.arguments.first { $0.hasPrefix("--seconds=") }.flatMap { Int($0.dropFirst(10)) } ?? 10
let repository = GuestImage.repository(containing: #filePath)
let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
  .deletingLastPathComponent()
let card = binaries.appendingPathComponent("bulkhead-card").path
guard FileManager.default.isExecutableFile(atPath: card) else {
  print(
    "bench-hostfunctions: \(card) is missing; build it first: swift build -c release --product bulkhead-card")
  exit(1)
}
print("bench-hostfunctions: building or reusing the guest image")
let image = try GuestImage.build(repository: repository) { print("  " + $0) }
let folder = NSTemporaryDirectory() + "bench-hostfunctions-\(getpid())"
try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
print("bench-hostfunctions: logs in \(folder) (removed at the end)")
defer { try? FileManager.default.removeItem(atPath: folder) }

/// What one pair of guests measured.
struct Figures {
  var tcpBitsPerSecond: Double
  var udpDatagramsPerSecond: Double
  var udpLossPercent: Double
}

/// Boots the two guests on `sockets`, runs the transfers, returns figures.
func measure(name: String, sockets: (String, String)) throws -> Figures {
  var server = GuestConfiguration(
    name: name + "s", image: image,
    scenario: """
      ip addr add 172.16.1.10/16 dev eth0
      ip link set eth0 mtu 1400 up
      iperf3 --server > /tmp/iperf.log 2>&1 &
      busybox nc -l -p 7000 > /tmp/done
      """)
  server.nics = [GuestNIC(.vhostUser(socket: sockets.0), mac: "52:54:00:16:01:0a")]
  var client = GuestConfiguration(
    name: name + "c", image: image,
    scenario: """
      ip addr add 172.16.1.11/16 dev eth0
      ip link set eth0 mtu 1400 up
      for i in $(seq 60); do ping -c 1 -W 1 172.16.1.10 >/dev/null && break; done
      for i in $(seq 30); do iperf3 --client 172.16.1.10 --time \(seconds) --json > /tmp/tcp.json && break; sleep 1; done
      tcp=$(sed -n '/"sum_received"/,/}/s/.*"bits_per_second":[[:space:]]*\\([0-9.e+]*\\).*/\\1/p' /tmp/tcp.json | head -1)
      report tcp_bps=${tcp:-0}
      iperf3 --client 172.16.1.10 --udp --length 64 --bitrate 0 --time \(seconds) > /tmp/udp.txt
      line=$(grep receiver /tmp/udp.txt | tail -1)
      lost=$(echo "$line" | sed -n 's|.* \\([0-9]*\\)/\\([0-9]*\\) (.*|\\1|p')
      total=$(echo "$line" | sed -n 's|.* \\([0-9]*\\)/\\([0-9]*\\) (.*|\\2|p')
      report udp_total=${total:-0} udp_lost=${lost:-0}
      for i in $(seq 10); do echo done | busybox nc 172.16.1.10 7000 && break; sleep 1; done
      """)
  client.nics = [GuestNIC(.vhostUser(socket: sockets.1), mac: "52:54:00:16:01:0b")]
  let serverGuest = try Guest(server, directory: folder)
  let clientGuest = try Guest(client, directory: folder)
  let outcome = try clientGuest.waitUntilDone(timeout: Double(120 + 4 * seconds))
  _ = try? serverGuest.waitUntilDone(timeout: 30)
  serverGuest.stop()
  let total = Double(outcome.value(of: "udp_total") ?? "") ?? 0
  let lost = Double(outcome.value(of: "udp_lost") ?? "") ?? 0
  return Figures(
    tcpBitsPerSecond: Double(outcome.value(of: "tcp_bps") ?? "") ?? 0,
    udpDatagramsPerSecond: (total - lost) / Double(seconds),
    udpLossPercent: total > 0 ? 100 * lost / total : 0)
}

// 1. The card.
let cardConfiguration = """
  card underlay=10.255.0.1 mac=02:ca:00:00:00:01 router-mac=02:ee:00:00:00:01 gateway-mac=02:00:5e:00:00:01
  uplink ring
  tenant id=1 name=bench
  vpc id=1 tenant=1 cidr=172.16.0.0/16 vni=1001 encap=geneve
  subnet id=1 vpc=1 cidr=172.16.0.0/16 gateway=172.16.0.1
  security-group id=1
  rule group=1 direction=inbound protocol=any peer=group:1
  nic id=10 subnet=1 mac=52:54:00:16:01:0a ip=172.16.1.10 groups=1 port=1 vhost-user=\(folder)/c1.sock
  nic id=11 subnet=1 mac=52:54:00:16:01:0b ip=172.16.1.11 groups=1 port=2 vhost-user=\(folder)/c2.sock
  """
try cardConfiguration.write(toFile: folder + "/card.conf", atomically: true, encoding: .utf8)
let cardProcess = try PeerProcess([card, folder + "/card.conf"], logPath: folder + "/card.log")
for socket in ["c1.sock", "c2.sock"] { _ = cardProcess.waitForFile(folder + "/" + socket, timeout: 10) }
print("bench-hostfunctions: two guests through bulkhead-card, \(seconds) s per transfer")
let throughCard = try measure(name: "bc", sockets: (folder + "/c1.sock", folder + "/c2.sock"))
cardProcess.stop()

// 2. The peer: DPDK's vhost PMD, io forwarding between the two ports.
let prefix = "bhbench\(getpid())"
let testpmd = try PeerProcess(
  [
    "dpdk-testpmd", "--no-huge", "-m", "1024", "--no-pci", "--no-shconf", "-l", "0,1", "--file-prefix",
    prefix,
    "--vdev", "net_vhost0,iface=\(folder)/t1.sock,client=0", "--vdev",
    "net_vhost1,iface=\(folder)/t2.sock,client=0",
    "--", "--total-num-mbufs=16384", "--forward-mode=io", "-a",
  ], logPath: folder + "/testpmd.log")
for socket in ["t1.sock", "t2.sock"] { _ = testpmd.waitForFile(folder + "/" + socket, timeout: 30) }
print("bench-hostfunctions: the same guests through dpdk-testpmd (vhost PMD, io forwarding)")
let throughTestpmd = try measure(name: "bt", sockets: (folder + "/t1.sock", folder + "/t2.sock"))
testpmd.stop()
try? FileManager.default.removeItem(atPath: "/var/run/dpdk/" + prefix)

func row(_ name: String, _ f: Figures) -> String {
  name + " | " + String(format: "%.1f", f.tcpBitsPerSecond / 1e6) + " | "
    + String(format: "%.0f", f.udpDatagramsPerSecond) + " | " + String(format: "%.1f", f.udpLossPercent)
}
print("path | iperf3 TCP Mbit/s | UDP 64 B datagrams received/s | UDP loss %")
print(row("bulkhead-card (VPC pipeline)", throughCard))
print(row("dpdk-testpmd io (peer)", throughTestpmd))
