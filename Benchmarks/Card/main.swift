// bench-card: the card's run loop moving packets ring to ring in process
// (no guests, no kernel), on one core, beside dpdk-testpmd io forwarding
// between two net_ring ports (DPDK's in-memory rings, the same shape as
// our RingPort) in the same run.
//
//   swift run -c release bench-card [--packets=N] [--runs=N] [--no-peer]
//
// Two figures for the loop: `patch` forwards every frame untouched between
// two ring ports (receive, dispatch, transmit: the loop's own cost);
// `pipeline` sends a NIC's 64-byte UDP frames, 1024 flows, through the VPC
// pipeline to the uplink (fast-path hit, VXLAN encapsulation). Buffers go
// round without allocation: `patch` moves them from each port's outbound
// ring back to its inbound ring; `pipeline` reloads the original 64 bytes
// into each encapsulated buffer (a copy per packet, counted in the figure,
// like net_ring's enqueue).
import Card
import DataPlane
import Foundation
import Ports
import Wire

let arguments = CommandLine.arguments.dropFirst()
func option(_ name: String, _ fallback: Int) -> Int {
  arguments.first { $0.hasPrefix("--" + name + "=") }.flatMap { Int($0.split(separator: "=")[1]) } ?? fallback
}
let packetsPerRun = option("packets", 4_000_000)
let runs = option("runs", 5)
let withPeer = !arguments.contains("--no-peer")
let flowCount = 1024

func fmt(_ v: Double) -> String { String(format: "%.2f", v) }

/// Median, minimum and maximum of `runs` timed runs after one warm-up;
/// each run returns nanoseconds per packet.
func measure(_ run: () -> Double) -> (median: Double, min: Double, max: Double) {
  _ = run()
  let figures = (0..<runs).map { _ in run() }.sorted()
  return (figures[figures.count / 2], figures.first!, figures.last!)
}

func report(_ name: String, _ f: (median: Double, min: Double, max: Double)) {
  print(
    "\(name): \(fmt(f.median)) ns/packet (\(fmt(f.min))–\(fmt(f.max))), \(fmt(1e3 / f.median)) Mpps on one core"
  )
}

// MARK: patch: the loop's own cost.
func patchRun() -> Double {
  let pool = PacketPool(bufferCount: 4096)
  let a = RingPort(number: 0, capacity: 2048, pool: pool)
  let b = RingPort(number: 1, capacity: 2048, pool: pool)
  let frame = [UInt8](repeating: 0x5a, count: 64)
  for _ in 0..<1024 { _ = frame.withUnsafeBytes { a.inject($0, pool: pool) } }
  let loop = RunLoop(ports: [a, b], pool: pool, processor: PortPatch(0, 1))
  let start = DispatchTime.now().uptimeNanoseconds
  var moved = 0
  while moved < packetsPerRun {
    moved += loop.pollOnce(now: 0)
    while let buffer = b.outbound.pop() { _ = b.inbound.push(buffer) }
    while let buffer = a.outbound.pop() { _ = a.inbound.push(buffer) }
  }
  return Double(DispatchTime.now().uptimeNanoseconds - start) / Double(moved)
}

// MARK: pipeline: a NIC's frames through the VPC pipeline to the uplink.
let configurationText = """
  card underlay=10.255.0.1 mac=02:ca:00:00:00:01 router-mac=02:ee:00:00:00:01 gateway-mac=02:00:5e:00:00:01 buffers=4096
  uplink ring
  tenant id=2 name=blue
  vpc id=2 tenant=2 cidr=172.16.0.0/16 vni=2002 encap=vxlan
  subnet id=2 vpc=2 cidr=172.16.0.0/16 gateway=172.16.0.1
  security-group id=2
  rule group=2 direction=outbound protocol=any peer=0.0.0.0/0
  nic id=3 subnet=2 mac=02:00:00:00:0c:01 ip=172.16.1.10 groups=2 port=2 ring
  nic id=4 subnet=2 mac=02:00:00:00:0d:01 ip=172.16.2.20 groups=2 card=10.255.0.2
  """

/// The NIC's UDP frame of flow `flow` (its source port).
func udpFrame(flow: Int) -> [UInt8] {
  var b = [UInt8](repeating: 0, count: 64)
  b.withUnsafeMutableBytes { p in
    EthernetHeader(
      destination: MACAddress("02:00:5e:00:00:01")!, source: MACAddress("02:00:00:00:0c:01")!,
      etherType: .ipv4
    ).emit(into: p)
    IPv4Header(
      source: IPv4Address(172, 16, 1, 10), destination: IPv4Address(172, 16, 2, 20), protocol: .udp,
      payloadLength: 30
    ).emit(into: UnsafeMutableRawBufferPointer(rebasing: p[14...]))
    UDPHeader(sourcePort: UInt16(20000 + flow), destinationPort: 4000, payloadLength: 22)
      .emit(into: UnsafeMutableRawBufferPointer(rebasing: p[34...]))
  }
  return b
}

func pipelineRun() -> Double {
  let configuration = try! ConfigurationFileParser.parse(configurationText)
  let pool = PacketPool(bufferCount: 4096)
  let uplink = RingPort(number: 0, capacity: 2048, pool: pool)
  let nic = RingPort(number: 2, capacity: 2048, pool: pool)
  let plane = try! DataPlane(configuration: configuration.network)
  let frames = (0..<flowCount).map { udpFrame(flow: $0) }
  for frame in frames { _ = frame.withUnsafeBytes { nic.inject($0, pool: pool) } }
  let loop = RunLoop(ports: [uplink, nic], pool: pool, processor: plane)
  var next = 0
  let start = DispatchTime.now().uptimeNanoseconds
  var moved = 0
  var now: UInt64 = 1_000_000_000
  while moved < packetsPerRun {
    moved += loop.pollOnce(now: now)
    now &+= 1000
    while var buffer = uplink.outbound.pop() {
      _ = frames[next].withUnsafeBytes { buffer.load($0, headroom: pool.headroom) }
      next = next + 1 == flowCount ? 0 : next + 1
      if !nic.inbound.push(buffer) { pool.give(buffer) }
    }
  }
  let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start)
  precondition(uplink.statistics.transmittedPackets >= UInt64(packetsPerRun), "frames were dropped")
  return elapsed / Double(moved)
}

// MARK: dpdk-testpmd io between two net_ring ports.
func testpmdRing(seconds: Double) -> Double? {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/dpdk-testpmd")
  process.arguments = [
    "--no-huge", "-m", "1024", "--no-pci", "-l", "0,1", "--vdev", "net_ring0", "--vdev", "net_ring1",
    "--file-prefix", "bench-card-\(getpid())", "--", "--total-num-mbufs=16384", "--forward-mode=io",
    "--stats-period", "1", "--tx-first",
  ]
  let pipe = Pipe()
  process.standardOutput = pipe
  process.standardError = FileHandle.nullDevice
  do { try process.run() } catch { return nil }
  Thread.sleep(forTimeInterval: seconds)
  kill(process.processIdentifier, SIGINT)
  process.waitUntilExit()
  let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
  // "Rx-pps:" lines alternate port 0 and port 1; the best period's sum.
  let rates = text.split(separator: "\n").compactMap { line -> Double? in
    let fields = line.split(separator: " ")
    guard let i = fields.firstIndex(of: "Rx-pps:"), i + 1 < fields.count else { return nil }
    return Double(fields[i + 1])
  }
  let best = stride(from: 0, to: rates.count - 1, by: 2).map { rates[$0] + rates[$0 + 1] }.max() ?? 0
  return best > 0 ? best : nil
}

print(
  "bench-card: batch \(PacketBatch.capacity), 64-byte frames, \(packetsPerRun) packets a run, \(runs) runs after warm-up"
)
if let cpu = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
  let model = cpu.split(separator: "\n").first(where: { $0.hasPrefix("model name") })
{
  print(
    "machine: \(model.split(separator: ":").last!.trimmingCharacters(in: .whitespaces)), \(ProcessInfo.processInfo.activeProcessorCount) cores"
  )
}
if !withPeer {
  print("peer dpdk-testpmd: skipped (--no-peer)")
} else if let pps = testpmdRing(seconds: 6) {
  print(
    "peer dpdk-testpmd io (net_ring0 <-> net_ring1, one forwarding core): \(fmt(pps / 1e6)) Mpps, \(fmt(1e9 / pps)) ns/packet"
  )
} else {
  print("peer dpdk-testpmd: no figure (dpdk-testpmd missing or no forwarding period reported)")
}
report("run loop, patch (ring <-> ring)", measure(patchRun))
report("run loop, pipeline (NIC ring -> VXLAN -> uplink ring, \(flowCount) flows)", measure(pipelineRun))
