// bench-rack: tenant traffic between two cards of the emulated rack, with
// the underlay in clear Geneve and protected by the cards' ESP
// (AES-GCM-128 and -256), in the same run.
//
//   scripts/bench.sh rack
//   (or: swift build -c release --product bulkhead-card &&
//        swift run -c release bench-rack [--seconds=N] [--runs=N])
//
// For each mode the shipped two-card topology comes up (`Rack.up`, the
// code behind `dpuctl emu up`) with `[rack] esp` set accordingly; guest a1
// on card1 sends iperf3 TCP to a2 on card2 (`--runs` transfers of
// `--seconds` each) and pings it 20 times (RTT). The guests take the MTU
// the card hands out by DHCP (the VPC's 1400; ESP's overhead fits under it). Under TCG the
// guests' CPUs are emulated: absolute figures are the emulator's; what
// compares is the rows of one run. Needs root (namespaces).
import Emulator
import Foundation

let arguments = CommandLine.arguments
let seconds = arguments.first { $0.hasPrefix("--seconds=") }.flatMap { Int($0.dropFirst(10)) } ?? 5
let runs = arguments.first { $0.hasPrefix("--runs=") }.flatMap { Int($0.dropFirst(7)) } ?? 3
let repository = GuestImage.repository(containing: #filePath)
let binaries = URL(fileURLWithPath: arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
let card = binaries.appendingPathComponent("bulkhead-card").path
guard FileManager.default.isExecutableFile(atPath: card) else {
  print("bench-rack: \(card) is missing; build it first: swift build -c release --product bulkhead-card")
  exit(1)
}
guard getuid() == 0 else {
  print("bench-rack: needs root (network namespaces)")
  exit(1)
}
let folder = NSTemporaryDirectory() + "bench-rack-\(getpid())"
try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: folder) }
let example = try String(contentsOfFile: repository + "/examples/two-cards.toml", encoding: .utf8)

struct Row {
  var mode: String
  var megabits: [Double]
  var rttMilliseconds: Double
  var mtu: String
}

func median(_ values: [Double]) -> Double {
  let sorted = values.sorted()
  return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
}

func measure(mode: String) throws -> Row {
  let name = "b\(getpid() % 10_000)"
  var topology = example.replacingOccurrences(of: "name = \"demo\"", with: "name = \"\(name)\"")
  if mode != "off" {
    topology = topology.replacingOccurrences(
      of: "name = \"\(name)\"\n", with: "name = \"\(name)\"\nesp = \"\(mode)\"\n")
  }
  let topologyPath = folder + "/\(mode).toml"
  try topology.write(toFile: topologyPath, atomically: true, encoding: .utf8)
  let rack = Rack(stateDirectory: folder + "/state-\(mode)") { print("  " + $0) }
  defer { _ = rack.down() }
  _ = try rack.up(
    topologyPath: topologyPath,
    options: Rack.Options(cardCommand: [card], architecture: "native", repository: repository))
  let a1 = try rack.agent(for: "a1")
  let a2 = try rack.agent(for: "a2")
  let server = try a2.run("iperf3 -s -D && sleep 1")
  let reach = try a1.run("ping -c 3 -W 5 172.16.2.10", timeout: 30)
  guard server.status == 0, reach.output.contains("3 packets received") else {
    throw RackError("a1 cannot reach a2 (\(mode)):\n\(server.output)\n\(reach.output)")
  }
  let mtu = try a1.run("cat /sys/class/net/eth0/mtu").output.trimmingCharacters(in: .whitespacesAndNewlines)
  var megabits: [Double] = []
  for _ in 0..<runs {
    let result = try a1.run(
      "timeout \(30 + seconds) iperf3 -c 172.16.2.10 -t \(seconds) -f m", timeout: Double(60 + seconds))
    // "[  5]   0.00-5.00   sec  90.1 MBytes   151 Mbits/sec   receiver"
    let line = result.output.split(separator: "\n").last { $0.contains("receiver") } ?? ""
    let fields = line.split(separator: " ")
    if let unit = fields.firstIndex(of: "Mbits/sec"), unit > 0, let value = Double(fields[unit - 1]) {
      megabits.append(value)
    } else {
      print("  iperf3 gave no figure:\n\(result.output)")
    }
  }
  let ping = try a1.run("ping -c 20 -i 0.2 172.16.2.10", timeout: 60).output
  // busybox: "round-trip min/avg/max = 0.532/0.802/1.513 ms"
  let rtt =
    ping.split(separator: "\n").last { $0.contains("min/avg/max") }
    .flatMap { $0.split(separator: "=").last?.split(separator: "/").dropFirst().first }
    .flatMap { Double($0.trimmingCharacters(in: .whitespaces)) } ?? 0
  return Row(mode: mode, megabits: megabits, rttMilliseconds: rtt, mtu: mtu)
}

print("bench-rack: \(runs) iperf3 runs of \(seconds) s per mode, a1 (card1) -> a2 (card2)")
var rows: [Row] = []
for mode in ["off", "aes-gcm-128", "aes-gcm-256"] {
  print("bench-rack: underlay \(mode == "off" ? "clear Geneve" : "ESP " + mode)")
  do {
    rows.append(try measure(mode: mode))
  } catch {
    print("bench-rack: \(mode): \(error)")
    exit(1)
  }
}
let clear = median(rows[0].megabits)
print("")
print("| underlay | guest MTU | TCP Mbit/s, median (min–max) | vs clear | ping RTT avg ms |")
print("| --- | --- | --- | --- | --- |")
for row in rows {
  let m = median(row.megabits)
  let range = String(format: "%.0f–%.0f", row.megabits.min() ?? 0, row.megabits.max() ?? 0)
  print(
    "| \(row.mode == "off" ? "clear Geneve" : "ESP " + row.mode) | \(row.mtu) | "
      + String(format: "%.0f (%@)", m, range) + " | "
      + (clear > 0 ? String(format: "%.0f %%", 100 * m / clear) : "-") + " | "
      + String(format: "%.2f", row.rttMilliseconds) + " |")
}
