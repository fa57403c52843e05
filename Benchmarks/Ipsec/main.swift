// bench-ipsec: ESP seal and open throughput per core (Sources/Ipsec),
// side by side with `openssl speed` doing AES-GCM at the same sizes in the
// same run (Docs/benchmarks.md).
//
//   swift run -c release bench-ipsec [--runs N] [--seconds S]
//
// Sizes are the plain IP packet handed to `seal` (64, 512, 1420 B); ESP
// tunnel mode, ESN on, so each packet gains an outer IPv4 header, ESP
// header, IV, trailer and ICV. Gbps counts plain IP bytes (what a tenant
// gets through), 10^9 bits per second, wall clock, median of N runs
// (default 5) after a warm-up, min-max beside it.
//
// Each seal starts from a fresh copy of the frame (a memcpy of the packet,
// included in the figure; the card's own path seals the buffer it
// received). Open runs over 1024 distinct sealed packets, copied in the
// same way, with the replay window reset between rounds.
//
// Peers: `openssl speed -aead -evp aes-N-gcm` (per buffer: IV, 13-byte AAD,
// update, final, tag: the per-packet EVP work ESP needs) and `openssl speed
// -evp aes-N-gcm` (one long stream: the cipher's ceiling).
import CardCrypto
import DataPlane
import Foundation
import Ipsec
import Wire

func option(_ name: String, default value: Int) -> Int {
  let args = CommandLine.arguments
  guard let i = args.firstIndex(of: name), i + 1 < args.count, let v = Int(args[i + 1]) else { return value }
  return v
}
let runs = max(1, option("--runs", default: 5))
let seconds = max(1, option("--seconds", default: 1))
let sizes = [64, 512, 1420]
let suites: [CipherSuite] = [.aesGCM128, .aesGCM256]
nonisolated(unsafe) let pool = PacketPool(bufferCount: 8)

/// Ethernet + IPv4 + UDP, `size` bytes of IP packet.
func frame(size: Int) -> [UInt8] {
  var f = [UInt8](repeating: 0xa5, count: 14 + size)
  f.withUnsafeMutableBytes { p in
    EthernetHeader(
      destination: MACAddress("02:00:00:00:00:02")!, source: MACAddress("02:00:00:00:00:01")!,
      etherType: .ipv4
    ).emit(into: p)
    IPv4Header(
      source: IPv4Address(10, 1, 0, 1), destination: IPv4Address(10, 2, 0, 1), protocol: .udp,
      payloadLength: size - 20
    ).emit(into: UnsafeMutableRawBufferPointer(rebasing: p[14...]))
  }
  return f
}

func makeSA(_ suite: CipherSuite, _ direction: SecurityAssociationParameters.Direction) throws
  -> SecurityAssociation
{
  let a = IPAddress("192.0.2.1")!
  let b = IPAddress("192.0.2.2")!
  let parameters = SecurityAssociationParameters(
    spi: 0x1000, direction: direction,
    mode: direction == .outbound ? .tunnel(local: a, remote: b) : .tunnel(local: b, remote: a), suite: suite,
    extendedSequenceNumbers: true, outerMTU: 9000)
  let material = try SymmetricKey(hex: String(repeating: "3c", count: suite.keyMaterialByteCount))
  return try SecurityAssociation(parameters, keyMaterial: material, installedAt: 0)
}

func elapsedSeconds(_ d: Duration) -> Double {
  Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}

/// Plain bytes per second sealed over about `seconds`.
func measureSeal(_ suite: CipherSuite, size: Int, seconds: Double) throws -> Double {
  let sender = try makeSA(suite, .outbound)
  let plain = frame(size: size)
  var buffer = pool.take()!
  defer { pool.give(buffer) }
  let clock = ContinuousClock()
  let start = clock.now
  let budget = Duration.milliseconds(Int64(seconds * 1000))
  var packets = 0
  try plain.withUnsafeBytes { raw in
    while clock.now - start < budget {
      for _ in 0..<64 {
        _ = buffer.load(raw, headroom: PacketPool.defaultHeadroom)
        try sender.seal(&buffer, now: 0)
      }
      packets += 64
    }
  }
  return Double(packets * size) / elapsedSeconds(clock.now - start)
}

/// Plain bytes per second opened over about `seconds`.
func measureOpen(_ suite: CipherSuite, size: Int, seconds: Double) throws -> Double {
  let sender = try makeSA(suite, .outbound)
  let receiver = try makeSA(suite, .inbound)
  let plain = frame(size: size)
  var buffer = pool.take()!
  defer { pool.give(buffer) }
  var sealed: [[UInt8]] = []
  for _ in 0..<1024 {
    _ = plain.withUnsafeBytes { buffer.load($0, headroom: PacketPool.defaultHeadroom) }
    try sender.seal(&buffer, now: 0)
    sealed.append(buffer.bytes)
  }
  let clock = ContinuousClock()
  let start = clock.now
  let budget = Duration.milliseconds(Int64(seconds * 1000))
  var packets = 0
  while clock.now - start < budget {
    receiver.replayWindow = ReplayWindow(size: 1024, extendedSequenceNumbers: true)
    for packet in sealed {
      _ = packet.withUnsafeBytes { buffer.load($0, headroom: PacketPool.defaultHeadroom) }
      try receiver.open(&buffer, now: 0)
    }
    packets += sealed.count
  }
  return Double(packets * size) / elapsedSeconds(clock.now - start)
}

/// Bytes per second from `openssl speed` (machine-readable, wall clock).
func measurePeer(_ suite: CipherSuite, size: Int, aead: Bool, seconds: Int) -> Double? {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  process.arguments =
    ["openssl", "speed", "-mr", "-elapsed", "-seconds", "\(seconds)", "-bytes", "\(size)"]
    + (aead ? ["-aead"] : []) + ["-evp", suite == .aesGCM128 ? "aes-128-gcm" : "aes-256-gcm"]
  let output = Pipe()
  process.standardOutput = output
  process.standardError = FileHandle.nullDevice
  do { try process.run() } catch { return nil }
  let data = output.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  // "+F:<index>:<cipher>:<bytes per second>"
  for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix("+F:") {
    if let last = line.split(separator: ":").last, let value = Double(last) { return value }
  }
  return nil
}

func median(_ samples: [Double]) -> (Double, Double, Double) {
  let s = samples.sorted()
  guard !s.isEmpty else { return (0, 0, 0) }
  let m = s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
  return (m, s.first!, s.last!)
}

func gbps(_ samples: [Double]) -> String {
  let (m, lo, hi) = median(samples)
  return String(format: "%6.2f (%5.2f-%5.2f)", m * 8 / 1e9, lo * 8 / 1e9, hi * 8 / 1e9)
}

func cpuModel() -> String {
  guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
    let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") })
  else { return "unknown" }
  return line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) }
    ?? "unknown"
}

print("bench-ipsec: \(runs) runs of \(seconds) s each, median (min-max) in Gbit/s of plain IP bytes per core")
print(
  "cpu: \(cpuModel()), \(ProcessInfo.processInfo.activeProcessorCount) cores; peer: openssl speed (-elapsed)")
print(
  "suite         size  ESP seal              ESP open              openssl -aead         openssl stream"
    + "        seal/aead  seal/stream")
for suite in suites {
  for size in sizes {
    _ = try measureSeal(suite, size: size, seconds: 0.2)
    _ = try measureOpen(suite, size: size, seconds: 0.2)
    var seal: [Double] = []
    var open: [Double] = []
    var aead: [Double] = []
    var stream: [Double] = []
    for _ in 0..<runs {
      seal.append(try measureSeal(suite, size: size, seconds: Double(seconds)))
      if let p = measurePeer(suite, size: size, aead: true, seconds: seconds) { aead.append(p) }
      open.append(try measureOpen(suite, size: size, seconds: Double(seconds)))
      if let p = measurePeer(suite, size: size, aead: false, seconds: seconds) { stream.append(p) }
    }
    let s = median(seal).0
    let ratioAEAD = aead.isEmpty ? "-" : String(format: "%5.1f %%", 100 * s / median(aead).0)
    let ratioStream = stream.isEmpty ? "-" : String(format: "%5.1f %%", 100 * s / median(stream).0)
    let name = suite == .aesGCM128 ? "aes-128-gcm" : "aes-256-gcm"
    print(
      name.padding(toLength: 12, withPad: " ", startingAt: 0) + String(format: "%5d", size) + "  "
        + gbps(seal)
        + "  " + gbps(open) + "  " + gbps(aead) + "  " + gbps(stream) + "  " + ratioAEAD + "    "
        + ratioStream)
  }
}
