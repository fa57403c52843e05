// bench-dataplane: ns/packet and Mpps on one core for the VPC pipeline,
// beside dpdk-testpmd io forwarding between two net_null ports (the
// per-packet floor of a tuned C poll-mode loop) in the same run.
//
//   swift run -c release bench-dataplane [--quick] [--flows=N] [--packets=N] [--no-peer]
//                                        [--job=encap|decap] [--sweep=SLOTS]
//
// --job runs only that fast-path job after the set-up (for instruction
// counts: valgrind --tool=callgrind --toggle-collect='*DataPlaneAAC7process*'
// at two --packets values; the difference over the packets is per packet).
//
// (a) guest→underlay: fast-path hit (flow key, conntrack update, meter,
//     MAC rewrite, Geneve encapsulation with checksums), the flow's first
//     packet having gone through SG + conntrack + LPM + mapping;
// (b) underlay→guest: fast-path hit with decapsulation;
// (c) slow path: the first packet of each new flow (anti-spoofing, SG
//     rules, new connection, LPM among 100 k routes, mapping, template,
//     flow insert, execution), one pass per run over emptied tables.
// 64-byte inner frames, batches of 32, flows visited in random order.
// Two figures per fast-path job: the time inside `DataPlane.process`
// (read around each batch; the clock reads are included), and the whole
// loop, which adds copying each frame into its buffer (what a NIC does by
// DMA, without the CPU), measured alone as "reload". As a NIC's DMA lands
// frames in the cache ahead of the poll loop, the loop prefetches the
// next batch's frames while this batch is processed.
import CPacketMemory
import DataPlane
import Foundation
import Wire

let quick = CommandLine.arguments.contains("--quick")
let runs = quick ? 3 : 7
let packetsArgument = CommandLine.arguments.first { $0.hasPrefix("--packets=") }.flatMap {
  Int($0.dropFirst(10))
}
let packetsPerRun = packetsArgument ?? (quick ? 500_000 : 2_000_000)
let flowsArgument = CommandLine.arguments.first { $0.hasPrefix("--flows=") }.flatMap { Int($0.dropFirst(8)) }
let flowCounts = flowsArgument.map { [$0] } ?? (quick ? [1_000, 100_000] : [1_000, 100_000, 1_000_000])
let job = CommandLine.arguments.first { $0.hasPrefix("--job=") }.map { String($0.dropFirst(6)) }
let runsEncap = job == nil || job == "encap"
let runsDecap = job == nil || job == "decap"
/// Slots of each table the idle sweep visits per batch (DataPlane's default: 64).
let sweepArgument = CommandLine.arguments.first { $0.hasPrefix("--sweep=") }.flatMap { Int($0.dropFirst(8)) }
let routeCount = 100_000
let batchSize = PacketBatch.capacity
let innerPayload = 22  // 14 + 20 + 8 + 22 = 64-byte inner frame

let cardA = IPv4Address(10, 255, 0, 1)
let cardMAC = MACAddress(2, 0xca, 0, 0, 0, 1)
let gatewayMAC = MACAddress(2, 0, 0x5e, 0, 0, 1)
let guestMAC = MACAddress(2, 0, 0, 0, 0, 1)
let guestIP = IPv4Address(172, 16, 0, 10)
let remoteNICs = 1024
func remoteIP(_ j: Int) -> IPv4Address { IPv4Address(172, 16, UInt8(4 + j / 250), UInt8(1 + j % 250)) }
func remoteMAC(_ j: Int) -> MACAddress { MACAddress(rawValue: 0x0200_0001_0000 | UInt64(j)) }
func remoteCard(_ j: Int) -> IPv4Address { IPv4Address(10, 255, 1, UInt8(1 + j % 16)) }

func configuration() -> NetworkConfiguration {
  var routes: [IPv4Route] = []
  for i in 0..<routeCount {
    let prefix = IPv4Prefix(address: IPv4Address(rawValue: 0x6400_0000 &+ UInt32(i) << 8), length: 24)!
    routes.append(IPv4Route(prefix, .gateway(vtep: .v4(IPv4Address(10, 255, 2, 1)))))
  }
  var nics = [
    NIC(id: 1, subnet: 1, mac: guestMAC, primaryIPv4: guestIP, securityGroups: [1], card: .v4(cardA), port: 1)
  ]
  for j in 0..<remoteNICs {
    nics.append(
      NIC(
        id: UInt32(10 + j), subnet: 1, mac: remoteMAC(j), primaryIPv4: remoteIP(j), securityGroups: [1],
        card: .v4(remoteCard(j)), port: 0))
  }
  return NetworkConfiguration(
    card: CardSettings(
      underlayAddress: .v4(cardA), underlayMAC: cardMAC, underlayRouterMAC: MACAddress(2, 0xee, 0, 0, 0, 1),
      gatewayMAC: gatewayMAC),
    vpcs: [
      VPC(
        id: 1, tenant: 1, ipv4CIDRs: [IPv4Prefix("172.16.0.0/16")!], vni: 1001, encapsulation: .geneve,
        routeTable: RouteTable(ipv4: routes))
    ],
    subnets: [
      Subnet(id: 1, vpc: 1, ipv4: IPv4Prefix("172.16.0.0/16")!, gatewayIPv4: IPv4Address(172, 16, 0, 1))
    ],
    nics: nics,
    securityGroups: [SecurityGroup(id: 1, inbound: [SecurityRule(.any, .ipv4(IPv4Prefix("172.16.0.0/16")!))])]
  )
}

/// Frame `i` of a flow set: guest → remote NIC (egress) or remote → guest.
func writeFrame(_ i: Int, ingress: Bool, into b: UnsafeMutableRawBufferPointer) -> Int {
  let j = i % remoteNICs
  let port = UInt16(1024 + i / remoteNICs)
  func at(_ o: Int) -> UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(rebasing: b[o...]) }
  let inner = ingress ? 50 : 0
  EthernetHeader(
    destination: ingress ? guestMAC : gatewayMAC, source: ingress ? remoteMAC(j) : guestMAC, etherType: .ipv4
  )
  .emit(into: at(inner))
  IPv4Header(
    source: ingress ? remoteIP(j) : guestIP, destination: ingress ? guestIP : remoteIP(j), protocol: .udp,
    payloadLength: 8 + innerPayload
  ).emit(into: at(inner + 14))
  UDPHeader(
    sourcePort: ingress ? 80 : port, destinationPort: ingress ? port : 80, payloadLength: innerPayload
  )
  .emit(into: at(inner + 34))
  let innerLength = 14 + 20 + 8 + innerPayload
  guard ingress else { return innerLength }
  EthernetHeader(destination: cardMAC, source: MACAddress(2, 0xee, 0, 0, 0, 1), etherType: .ipv4).emit(
    into: b)
  IPv4Header(source: remoteCard(j), destination: cardA, protocol: .udp, payloadLength: 16 + innerLength)
    .emit(into: at(14))
  UDPHeader(sourcePort: 50000, destinationPort: GenevePacket.udpPort, payloadLength: 8 + innerLength).emit(
    into: at(34))
  GeneveHeader(vni: 1001).emit(into: at(42))
  return 50 + innerLength
}

struct FrameSet {
  let stride = 128
  var bytes: [UInt8]
  var lengths: [Int]
  init(count: Int, ingress: Bool) {
    bytes = [UInt8](repeating: 0, count: count * stride)
    lengths = [Int](repeating: 0, count: count)
    bytes.withUnsafeMutableBytes { b in
      for i in 0..<count {
        lengths[i] = writeFrame(
          i, ingress: ingress, into: UnsafeMutableRawBufferPointer(rebasing: b[(i * stride)...]))
      }
    }
  }
}

func nanoseconds() -> UInt64 {
  var t = timespec()
  clock_gettime(CLOCK_MONOTONIC, &t)
  return UInt64(t.tv_sec) &* 1_000_000_000 &+ UInt64(t.tv_nsec)
}

/// What one clock read costs here (the median of 21 runs of 10 000
/// reads), printed beside the figures: two reads per batch are inside the
/// "inside process" figure.
func clockReadCost() -> Double {
  var costs: [Double] = []
  for _ in 0..<21 {
    let start = nanoseconds()
    // clock_gettime is an outside call: the compiler keeps every one.
    for _ in 0..<10_000 { _ = nanoseconds() }
    costs.append(Double(nanoseconds() - start) / 10_000)
  }
  return median(costs)
}

/// Runs `order` (frame indices) through `plane` in batches; returns the
/// whole loop's ns, and the ns spent inside `process`.
func drive(
  _ plane: DataPlane?, _ frames: FrameSet, order: [Int32], port: UInt16, pool: PacketPool, now: inout UInt64
) -> (whole: UInt64, inside: UInt64) {
  var batch = PacketBatch()
  for _ in 0..<batchSize { batch.append(pool.take()!) }
  let headroom = pool.headroom
  var inside: UInt64 = 0
  let start = nanoseconds()
  frames.bytes.withUnsafeBytes { all in
    var k = 0
    while k + batchSize <= order.count {
      if k + 2 * batchSize <= order.count {
        for s in 0..<batchSize {
          let frame = all.baseAddress! + Int(order[k + batchSize + s]) * frames.stride
          // A frame (128 B) may straddle three lines of the array.
          packet_memory_prefetch(frame)
          packet_memory_prefetch(frame + 64)
          packet_memory_prefetch(frame + 127)
        }
      }
      for s in 0..<batchSize {
        let f = Int(order[k + s])
        _ = batch.buffers[s].load(
          UnsafeRawBufferPointer(
            rebasing: all[(f * frames.stride)..<(f * frames.stride + frames.lengths[f])]),
          headroom: headroom)
        batch.buffers[s].inputPort = port
      }
      if let plane {
        let before = nanoseconds()
        plane.process(&batch, now: now)
        inside &+= nanoseconds() &- before
      }
      now &+= 1000
      k += batchSize
    }
  }
  let elapsed = nanoseconds() - start
  for s in 0..<batchSize { pool.give(batch.buffers[s]) }
  return (elapsed, inside)
}

/// The process's anonymous memory on transparent huge pages, in MiB (nil
/// where /proc does not say).
func transparentHugePageMiB() -> Int? {
  guard let text = try? String(contentsOfFile: "/proc/self/smaps_rollup", encoding: .utf8),
    let line = text.split(separator: "\n").first(where: { $0.hasPrefix("AnonHugePages:") }),
    let kB = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
  else { return nil }
  return kB / 1024
}

func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
func fmt(_ x: Double) -> String { String(format: "%.1f", x) }

func report(_ name: String, inside: [Double], whole: [Double], reload: Double) {
  let m = median(inside)
  print(
    "\(name): \(fmt(m)) ns/packet inside process (min \(fmt(inside.min()!)), max \(fmt(inside.max()!))), "
      + "\(String(format: "%.2f", 1000 / m)) Mpps; whole loop \(fmt(median(whole))) ns "
      + "(min \(fmt(whole.min()!)), max \(fmt(whole.max()!))) with reload alone \(fmt(reload)) ns")
}

// MARK: dpdk-testpmd, the per-packet floor.
func testpmdFloor(seconds: Double) -> Double? {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/dpdk-testpmd")
  process.arguments = [
    "--no-huge", "-m", "1024", "--no-pci", "-l", "0,1", "--vdev", "net_null0", "--vdev", "net_null1",
    "--file-prefix", "bench-dataplane-\(getpid())", "--", "--total-num-mbufs=16384", "--forward-mode=io",
    "--stats-period", "1",
  ]
  let pipe = Pipe()
  process.standardOutput = pipe
  process.standardError = FileHandle.nullDevice
  do { try process.run() } catch { return nil }
  Thread.sleep(forTimeInterval: seconds)
  kill(process.processIdentifier, SIGINT)
  process.waitUntilExit()
  let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
  // The last "Rx-pps:" of each port, summed: packets the io loop moved per second.
  var last: [Double] = []
  for line in text.split(separator: "\n") where line.contains("Rx-pps:") {
    let fields = line.split(separator: " ")
    if let i = fields.firstIndex(of: "Rx-pps:"), i + 1 < fields.count, let v = Double(fields[i + 1]) {
      last.append(v)
    }
  }
  // Port 0 and port 1 alternate; the best period's sum is the loop's rate.
  var best = 0.0
  var i = 0
  while i + 1 < last.count {
    best = max(best, last[i] + last[i + 1])
    i += 2
  }
  return best > 0 ? best : nil
}

print(
  "bench-dataplane: batch \(batchSize), 64-byte inner frames, \(routeCount) IPv4 routes, \(runs) runs after warm-up"
)
if let cpu = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
  let model = cpu.split(separator: "\n").first(where: { $0.hasPrefix("model name") })
{
  print(
    "machine: \(model.split(separator: ":").last!.trimmingCharacters(in: .whitespaces)), \(ProcessInfo.processInfo.activeProcessorCount) cores"
  )
}
print(
  "clock read: \(fmt(clockReadCost())) ns (two per batch of \(batchSize) are inside the fast-path figures)")
if CommandLine.arguments.contains("--no-peer") {
  print("peer dpdk-testpmd: skipped (--no-peer)")
} else if let pps = testpmdFloor(seconds: 6) {
  print(
    "peer dpdk-testpmd io (net_null0 <-> net_null1, one forwarding core): \(fmt(pps / 1e6)) Mpps, \(fmt(1e9 / pps)) ns/packet"
  )
} else {
  print("peer dpdk-testpmd: no figure (missing: install dpdk-dev; or it reported no forwarding period)")
}

let config = configuration()
var rng = SystemRandomNumberGenerator()
for flows in flowCounts {
  let pool = PacketPool(bufferCount: 64)
  // Each connection has two flow entries (guest->underlay and back):
  // both tables are sized for a load of at most 1/2.
  let plane = try! DataPlane(
    configuration: config, portCount: 4, flowCapacity: flows * 4, connectionCapacity: flows * 2)
  if flows == flowCounts[0] {
    print(
      "routes: \(routeCount) in \(plane.tables.routeMemoryBytes / 1024) KiB, "
        + "\(fmt(Double(plane.tables.routeMemoryBytes) / Double(routeCount))) bytes/route")
  }
  if let sweepArgument { plane.sweepBudget = sweepArgument }
  let egressFrames = FrameSet(count: flows, ingress: false)
  let ingressFrames = FrameSet(count: flows, ingress: true)
  let all = (0..<flows).map { Int32($0) }
  var now: UInt64 = 1_000_000_000

  // (c) slow path: every flow's first packet, egress, on a fresh table.
  let firstPass = Double(
    drive(plane, egressFrames, order: all.shuffled(using: &rng), port: 1, pool: pool, now: &now).inside)
  _ = drive(plane, ingressFrames, order: all, port: 0, pool: pool, now: &now)
  let order = (0..<packetsPerRun).map { _ in Int32.random(in: 0..<Int32(flows), using: &rng) }
  let packets = Double(order.count)
  var reload: [Double] = []
  var reloadIngress: [Double] = []
  var egress: [Double] = []
  var egressWhole: [Double] = []
  var ingress: [Double] = []
  var ingressWhole: [Double] = []
  // Warm-up.
  if runsEncap { _ = drive(plane, egressFrames, order: order, port: 1, pool: pool, now: &now) }
  if runsDecap { _ = drive(plane, ingressFrames, order: order, port: 0, pool: pool, now: &now) }
  for _ in 0..<runs {
    reload.append(
      Double(drive(nil, egressFrames, order: order, port: 1, pool: pool, now: &now).whole) / packets)
    if runsEncap {
      let t = drive(plane, egressFrames, order: order, port: 1, pool: pool, now: &now)
      egress.append(Double(t.inside) / packets)
      egressWhole.append(Double(t.whole) / packets)
    }
    if runsDecap {
      reloadIngress.append(
        Double(drive(nil, ingressFrames, order: order, port: 0, pool: pool, now: &now).whole) / packets)
      let t = drive(plane, ingressFrames, order: order, port: 0, pool: pool, now: &now)
      ingress.append(Double(t.inside) / packets)
      ingressWhole.append(Double(t.whole) / packets)
    }
  }
  print(
    "--- \(flows) flows (huge pages: \(plane.flows.isHugePageBacked ? "requested" : "no"), \(transparentHugePageMiB().map { "\($0) MiB" } ?? "unknown") granted; flow table \(plane.flows.capacity) slots × \(FlowTable.bytesPerSlot) B, connections \(plane.connections.capacity) × \(ConnectionTable.bytesPerSlot) B: \(fmt(Double(plane.flows.memoryBytes + plane.connections.memoryBytes) / Double(flows))) B/flow)"
  )
  print(
    "flow entries cached: \(plane.flows.count) (load \(fmt(Double(plane.flows.count) / Double(plane.flows.capacity)))), "
      + "connections: \(plane.connections.count); per connection (two flow entries): "
      + "\(fmt(Double(4 * FlowTable.bytesPerSlot + 2 * ConnectionTable.bytesPerSlot))) B at this sizing")
  if runsEncap {
    report(
      "(a) guest->underlay Geneve encap, fast path", inside: egress, whole: egressWhole,
      reload: median(reload))
  }
  // Underlay frames are 114 bytes (two cache lines of the frame set), so
  // their reload is measured on its own.
  if runsDecap {
    report(
      "(b) underlay->guest decap, fast path", inside: ingress, whole: ingressWhole,
      reload: median(reloadIngress))
  }
  // (c) again on emptied tables, so that it too has a median: each pass
  // sees every flow as new (the emptied tables keep their memory, as a
  // card's do).
  var slow = [firstPass / Double(flows)]
  if job == nil {
    for _ in 1..<runs {
      plane.flows.removeAll()
      plane.connections.removeAll()
      slow.append(
        Double(
          drive(plane, egressFrames, order: all.shuffled(using: &rng), port: 1, pool: pool, now: &now).inside)
          / Double(flows))
    }
  }
  print(
    "(c) slow path, first packet of a flow: \(fmt(median(slow))) ns/packet inside process (min \(fmt(slow.min()!)), "
      + "max \(fmt(slow.max()!)); \(slow.count) passes over \(flows) new flows)"
  )
  let forwarded = (1...4).map { p in plane.counters.packets(port: UInt16(p % 4), direction: .ingress) }
    .reduce(0, +)
  if forwarded == 0 { print("warning: nothing was delivered") }
}
