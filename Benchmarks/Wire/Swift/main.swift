// bench-wire: ns/packet to parse and rebuild an Ethernet/IPv4/UDP/VXLAN
// packet (outer and inner parsed, outer destination, VNI and source port
// rewritten, inner TTL decremented, outer IPv4 and UDP checksums
// recomputed), in batches of 32, beside a C peer doing the same job.
//
//   swift run -c release bench-wire
import Foundation
import Wire
import WirePeer

let batchSize = 32
let poolSize = 1024  // frames, reused round robin (about 160 KiB)
let runs = 11
let innerPayload = 64
let newVTEP = IPv4Address(172, 16, 0, 9)

/// One VXLAN frame built with Wire's builders.
func makeFrame(_ index: Int) -> [UInt8] {
  let innerLength = 14 + 20 + 8 + innerPayload
  let total = 14 + 20 + 8 + 8 + innerLength
  var bytes = [UInt8](repeating: 0, count: total)
  bytes.withUnsafeMutableBytes { b in
    func at(_ o: Int) -> UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(rebasing: b[o...]) }
    EthernetHeader(
      destination: MACAddress(2, 0, 0, 0, 0, 2), source: MACAddress(2, 0, 0, 0, 0, 1), etherType: .ipv4
    ).emit(into: b)
    IPv4Header(
      source: IPv4Address(10, 0, 0, 1), destination: IPv4Address(10, 0, 0, 2), protocol: .udp,
      payloadLength: 16 + innerLength
    )
    .emit(into: at(14))
    UDPHeader(sourcePort: 49152, destinationPort: VXLANPacket.udpPort, payloadLength: 8 + innerLength).emit(
      into: at(34))
    VXLANHeader(vni: 100).emit(into: at(42))
    EthernetHeader(
      destination: MACAddress(2, 0, 0, 0, 1, 2), source: MACAddress(2, 0, 0, 0, 1, 1), etherType: .ipv4
    ).emit(into: at(50))
    IPv4Header(
      source: IPv4Address(192, 168, 0, 1),
      destination: IPv4Address(192, 168, UInt8(index >> 8 & 0xff), UInt8(index & 0xff)), protocol: .udp,
      payloadLength: 8 + innerPayload
    )
    .emit(into: at(64))
    UDPHeader(sourcePort: UInt16(1024 + index), destinationPort: 80, payloadLength: innerPayload).emit(
      into: at(84))
  }
  return bytes
}

/// The Swift job for one batch. Per packet: views and raw loads only.
@inline(never)
func processBatch(_ frames: UnsafePointer<UnsafeMutableRawBufferPointer>, count: Int) -> Int {
  var done = 0
  for i in 0..<count {
    do throws(WireError) {
      let outerFrame = try EthernetFrame(checking: frames[i])
      guard outerFrame.etherType == .ipv4 else { continue }
      let ip = try IPv4Packet(checking: outerFrame.payload)
      guard ip.protocol == .udp else { continue }
      let udp = try UDPDatagram(checking: ip.payload)
      guard udp.destinationPort == VXLANPacket.udpPort else { continue }
      let vxlan = try VXLANPacket(checking: udp.payload)
      let innerFrame = try EthernetFrame(checking: vxlan.payload)
      guard innerFrame.etherType == .ipv4 else { continue }
      let innerIP = try IPv4Packet(checking: innerFrame.payload)
      let innerUDP = try UDPDatagram(checking: innerIP.payload)
      innerIP.decrementTimeToLive()
      ip.replaceDestination(with: newVTEP)
      vxlan.vni = 0x654321
      udp.sourcePort = 0xc000 | (innerUDP.sourcePort ^ innerUDP.destinationPort) & 0x3fff
      ip.fillChecksum()
      udp.fillChecksum(pseudoHeaderSum: ip.pseudoHeaderSum)
      done += 1
    } catch {
      continue
    }
  }
  return done
}

/// PacketParser alone over one batch.
@inline(never)
func parseBatch(_ frames: UnsafePointer<UnsafeMutableRawBufferPointer>, count: Int) -> Int {
  var sum = 0
  var parsed = ParsedPacket()
  for i in 0..<count {
    do throws(WireError) {
      try PacketParser.parse(UnsafeRawBufferPointer(frames[i]), into: &parsed)
      sum &+= Int(parsed.inner.destinationPort)
    } catch {
      continue
    }
  }
  return sum
}

// The pool: one allocation, frames laid out back to back.
let frameBytes = (0..<poolSize).map(makeFrame)
let frameLength = frameBytes[0].count
let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: frameLength * poolSize, alignment: 64)
var views: [UnsafeMutableRawBufferPointer] = []
var pointers: [UnsafeMutablePointer<UInt8>?] = []
for i in 0..<poolSize {
  let region = UnsafeMutableRawBufferPointer(rebasing: storage[(i * frameLength)..<((i + 1) * frameLength)])
  region.copyBytes(from: frameBytes[i])
  views.append(region)
  pointers.append(region.baseAddress!.assumingMemoryBound(to: UInt8.self))
}
let lengths = [Int](repeating: frameLength, count: poolSize)

/// ns/packet for `job` over the pool, `rounds` times.
func measure(rounds: Int, _ job: (Int) -> Int) -> Double {
  var sink = 0
  let start = ContinuousClock.now
  for _ in 0..<rounds {
    var batchStart = 0
    while batchStart < poolSize {
      sink &+= job(batchStart)
      batchStart += batchSize
    }
  }
  let elapsed = ContinuousClock.now - start
  if sink == -1 { print("") }
  let ns = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
  return ns / Double(rounds * poolSize)
}

struct Figures {
  let name: String
  var samples: [Double] = []
  var median: Double { samples.sorted()[samples.count / 2] }
  var minimum: Double { samples.min() ?? 0 }
  var maximum: Double { samples.max() ?? 0 }
}

let vtepRaw = newVTEP.rawValue
let jobs: [(String, (Int) -> Int)] = [
  (
    "Swift Wire: parse outer+inner, rewrite, checksums",
    { start in
      views.withUnsafeBufferPointer { processBatch($0.baseAddress! + start, count: batchSize) }
    }
  ),
  (
    "C peer: same job in C (clang -O2)",
    { start in
      pointers.withUnsafeBufferPointer { p in
        lengths.withUnsafeBufferPointer { l in
          Int(wire_peer_process(p.baseAddress! + start, l.baseAddress! + start, Int32(batchSize), vtepRaw))
        }
      }
    }
  ),
  (
    "Swift PacketParser.parse (outer+inner, read only)",
    { start in
      views.withUnsafeBufferPointer { parseBatch($0.baseAddress! + start, count: batchSize) }
    }
  ),
]

// Check that both implementations do the job before timing them.
precondition(views.withUnsafeBufferPointer { processBatch($0.baseAddress!, count: batchSize) } == batchSize)
precondition(
  pointers.withUnsafeBufferPointer { p in
    lengths.withUnsafeBufferPointer { l in
      Int(wire_peer_process(p.baseAddress!, l.baseAddress!, Int32(batchSize), vtepRaw))
    }
  } == batchSize)
for i in 0..<batchSize {
  let ip = IPv4Packet(unchecked: UnsafeMutableRawBufferPointer(rebasing: views[i][14...]))
  precondition(ip.isChecksumValid && ip.destination == newVTEP)
  precondition(UDPDatagram(unchecked: ip.payload).isChecksumValid(pseudoHeaderSum: ip.pseudoHeaderSum))
}

var results = jobs.map { Figures(name: $0.0) }
for job in jobs { _ = measure(rounds: 200, job.1) }  // warm-up
for _ in 0..<runs {
  // Interleave the jobs so that machine noise hits all of them alike.
  for (index, job) in jobs.enumerated() { results[index].samples.append(measure(rounds: 400, job.1)) }
}

func fixed(_ v: Double) -> String { String(format: "%6.1f", v) }
print(
  "bench-wire: \(frameLength)-byte VXLAN frames (inner UDP, \(innerPayload)-byte payload), batches of \(batchSize), pool of \(poolSize), \(runs) runs after warm-up"
)
print("| job | ns/packet median | min – max | Mpps (median) | vs C peer |")
print("| --- | ---: | ---: | ---: | ---: |")
let peer = results[1].median
for r in results {
  print(
    "| \(r.name) | \(fixed(r.median)) | \(fixed(r.minimum)) – \(fixed(r.maximum)) | \(String(format: "%.1f", 1000 / r.median)) | \(String(format: "%.2f×", r.median / peer)) |"
  )
}
