// bench-ports: an AF_PACKET port's two modes side by side in the same run:
// PACKET_MMAP rings (TPACKET_V2) and copy mode (recvmmsg/sendmmsg), each
// sending bursts through a veth pair to a port of the same mode on the
// other end, on one core. Needs root: it makes a network namespace with
// the veth pair and deletes it afterwards.
//
//   swift build -c release --product bench-ports && .build/release/bench-ports [--packets=N] [--runs=N] [--size=BYTES]
//
// One figure per mode: nanoseconds per frame for the whole trip (load the
// frame into a pool buffer, transmit the burst, the kernel's veth, receive
// the burst, give the buffer back), batch 32. Runs alternate between the
// modes so that both see the same machine.
import CPacketSocket
import DataPlane
import Foundation
import Ports

let arguments = CommandLine.arguments.dropFirst()
func option(_ name: String, _ fallback: Int) -> Int {
  arguments.first { $0.hasPrefix("--" + name + "=") }.flatMap { Int($0.split(separator: "=")[1]) } ?? fallback
}
let packetsPerRun = option("packets", 1_000_000)
let runs = option("runs", 5)
let frameSize = option("size", 64)

@discardableResult
func sh(_ command: String) -> Int32 {
  let p = Process()
  p.executableURL = URL(fileURLWithPath: "/bin/sh")
  p.arguments = ["-c", command]
  try! p.run()
  p.waitUntilExit()
  return p.terminationStatus
}

let namespace = "benchports\(getpid())"
guard getuid() == 0, sh("ip netns add \(namespace)") == 0 else {
  print("bench-ports: needs root and iproute2 (ip netns add failed)")
  exit(1)
}
defer { sh("ip netns delete \(namespace)") }
sh("ip -n \(namespace) link add a0 type veth peer name b0")
sh("ip netns exec \(namespace) sysctl -qw net.ipv6.conf.all.disable_ipv6=1")
sh("ip -n \(namespace) link set a0 up && ip -n \(namespace) link set b0 up")

/// Opens the pair's two ports inside the namespace (this thread moves
/// there for the call and back).
func openPair(_ mode: PacketSocketMode) -> (AFPacketPort, AFPacketPort) {
  let home = cps_open_network_namespace("/proc/thread-self/ns/net")
  let there = cps_open_network_namespace("/var/run/netns/" + namespace)
  precondition(home >= 0 && there >= 0 && cps_set_network_namespace(there) == 0)
  defer {
    precondition(cps_set_network_namespace(home) == 0)
    close(there)
    close(home)
  }
  return (
    try! AFPacketPort(number: 0, interface: "a0", mode: mode),
    try! AFPacketPort(number: 1, interface: "b0", mode: mode)
  )
}

let frame: [UInt8] =
  [2, 0, 0, 0, 0xb0, 0, 2, 0, 0, 0, 0xa0, 0, 0x88, 0xb5]
  + [UInt8](repeating: 0x5a, count: max(frameSize, 60) - 14)

/// One run: nanoseconds per frame received, and how many frames were lost.
func run(_ a: AFPacketPort, _ b: AFPacketPort, pool: PacketPool, frame: [UInt8]) -> (Double, Int) {
  var out = PacketBatch()
  var into = PacketBatch()
  var sent = 0
  var received = 0
  let start = DispatchTime.now().uptimeNanoseconds
  while sent < packetsPerRun {
    for _ in 0..<PacketBatch.capacity {
      var buffer = pool.take()!
      _ = frame.withUnsafeBytes { buffer.load($0, headroom: pool.headroom) }
      out.append(buffer)
    }
    sent += out.count
    a.transmit(&out, pool: pool)
    // The veth hands frames over within the sending call; a second look
    // catches any the kernel delivered late.
    for _ in 0..<2 {
      let n = b.receive(into: &into, pool: pool)
      for i in 0..<into.count { pool.give(into[i]) }
      into.removeAll()
      received += n
      if n == PacketBatch.capacity { break }
    }
  }
  let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start)
  return (elapsed / Double(max(received, 1)), sent - received)
}

let modes: [PacketSocketMode] = [.ring, .copy]
var figures: [PacketSocketMode: [Double]] = [:]
var lost: [PacketSocketMode: Int] = [:]
let pool = PacketPool(bufferCount: 1024)
let pairs = modes.map { openPair($0) }
for round in 0...runs {
  for (i, mode) in modes.enumerated() {
    let (ns, loss) = run(pairs[i].0, pairs[i].1, pool: pool, frame: frame)
    if round > 0 {  // round 0 warms up
      figures[mode, default: []].append(ns)
      lost[mode, default: 0] += loss
    }
  }
}
print(
  "bench-ports: \(frameSize)-byte frames, batch \(PacketBatch.capacity), \(runs) runs of \(packetsPerRun)")
var medians: [PacketSocketMode: Double] = [:]
for mode in modes {
  let f = figures[mode]!.sorted()
  medians[mode] = f[f.count / 2]
  print(
    "\(mode) mode: \(String(format: "%.1f", f[f.count / 2])) ns/frame (\(String(format: "%.1f", f.first!))–\(String(format: "%.1f", f.last!))), \(String(format: "%.3f", 1e3 / f[f.count / 2])) Mpps, lost \(lost[mode]!)"
  )
}
print("copy / ring: \(String(format: "%.2f", medians[.copy]! / medians[.ring]!))")
