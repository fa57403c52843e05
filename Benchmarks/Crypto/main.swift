// bench-crypto: AES-GCM seal and AES-XTS-256 throughput per core through
// CardCrypto, side by side with `openssl speed` doing the same work in the
// same run (Docs/benchmarks.md).
//
//   swift run -c release bench-crypto [--runs N] [--seconds S]
//
// Each figure is the median of N runs (default 5) after a warm-up, with the
// min-max range; ours and the peer's runs alternate so that noise from the
// shared machine hits both. GB/s = 10^9 bytes per second, wall clock.
//
// What is compared:
// - GCM: our per-packet `seal` (new 12-byte nonce, 13-byte AAD, in-place
//   text, 16-byte tag) against `openssl speed -aead -evp aes-N-gcm`, whose
//   loop is the same EVP sequence per buffer (IV, 13-byte AAD, update,
//   final). `openssl speed -evp` without -aead streams one long message
//   (no per-buffer IV, AAD or tag): shown as the cipher's ceiling.
// - XTS: our `encrypt(sector:dataUnit:)` (new tweak per unit) against
//   `openssl speed -evp aes-256-xts` (the same tweak for every unit).
import CardCrypto
import Foundation

struct Workload {
  enum Kind { case gcm(keyBytes: Int), xts }
  let kind: Kind
  let size: Int
  var peerCipher: String {
    switch kind {
    case .gcm(let keyBytes): return "aes-\(keyBytes * 8)-gcm"
    case .xts: return "aes-256-xts"
    }
  }
  var name: String { "\(peerCipher) \(size) B" }
  var isAEAD: Bool { if case .gcm = kind { return true } else { return false } }
}

let workloads: [Workload] =
  [16, 32].flatMap { k in [64, 512, 1420, 16384].map { Workload(kind: .gcm(keyBytes: k), size: $0) } }
  + [512, 4096].map { Workload(kind: .xts, size: $0) }

func option(_ name: String, default value: Int) -> Int {
  let args = CommandLine.arguments
  guard let i = args.firstIndex(of: name), i + 1 < args.count, let v = Int(args[i + 1]) else { return value }
  return v
}
let runs = max(1, option("--runs", default: 5))
let seconds = max(1, option("--seconds", default: 1))

/// Bytes per second of our implementation over about `seconds`.
func measureOurs(_ w: Workload, seconds: Double) throws -> Double {
  let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: w.size, alignment: 64)
  defer { buffer.deallocate() }
  buffer.initializeMemory(as: UInt8.self, repeating: 0xa5)
  let clock = ContinuousClock()
  let budget = Duration.milliseconds(Int64(seconds * 1000))
  var bytes = 0
  let start = clock.now
  switch w.kind {
  case .gcm(let keyBytes):
    let key = try SymmetricKey.random(byteCount: keyBytes)
    var gcm = try AESGCM(key: key)
    let nonce = UnsafeMutableRawBufferPointer.allocate(byteCount: 12, alignment: 8)
    let aad = UnsafeMutableRawBufferPointer.allocate(byteCount: 13, alignment: 8)
    let tag = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 8)
    defer {
      nonce.deallocate()
      aad.deallocate()
      tag.deallocate()
    }
    nonce.initializeMemory(as: UInt8.self, repeating: 0)
    aad.initializeMemory(as: UInt8.self, repeating: 1)
    var counter: UInt64 = 0
    while clock.now - start < budget {
      for _ in 0..<32 {
        counter &+= 1
        nonce.storeBytes(of: counter.bigEndian, toByteOffset: 4, as: UInt64.self)  // ESP-style explicit IV
        try gcm.seal(
          nonce: UnsafeRawBufferPointer(nonce), aad: UnsafeRawBufferPointer(aad), inPlace: buffer, tag: tag)
      }
      bytes += 32 * w.size
    }
  case .xts:
    let key = try SymmetricKey.random(byteCount: AESXTS.keyByteCount)
    let unit: AESXTS.DataUnitSize = w.size == 4096 ? .bytes4096 : .bytes512
    var xts = try AESXTS(key: key, dataUnitSize: unit)
    var sector: UInt64 = 0
    while clock.now - start < budget {
      for _ in 0..<32 {
        try xts.encrypt(sector: sector, dataUnit: buffer)
        sector &+= unit.sectors
      }
      bytes += 32 * w.size
    }
  }
  let elapsed = clock.now - start
  let secondsElapsed = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
  return Double(bytes) / secondsElapsed
}

/// Bytes per second from `openssl speed` (machine-readable, wall clock).
func measurePeer(_ w: Workload, aead: Bool, seconds: Int) -> Double? {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  process.arguments =
    ["openssl", "speed", "-mr", "-elapsed", "-seconds", "\(seconds)", "-bytes", "\(w.size)"]
    + (aead ? ["-aead"] : []) + ["-evp", w.peerCipher]
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

struct Summary {
  let median: Double, low: Double, high: Double
  init?(_ samples: [Double]) {
    guard !samples.isEmpty else { return nil }
    let sorted = samples.sorted()
    median =
      sorted.count % 2 == 1
      ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    low = sorted.first!
    high = sorted.last!
  }
  var text: String { String(format: "%6.2f (%5.2f-%5.2f)", median / 1e9, low / 1e9, high / 1e9) }
}

func cpuModel() -> String {
  guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
    let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") })
  else { return "unknown" }
  return line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) }
    ?? "unknown"
}

print("bench-crypto: \(runs) runs of \(seconds) s each, median (min-max) in GB/s per core")
print(
  "cpu: \(cpuModel()), \(ProcessInfo.processInfo.activeProcessorCount) cores; peer: openssl speed (-elapsed)")
print(
  "workload".padding(toLength: 22, withPad: " ", startingAt: 0)
    + "  ours                  openssl -aead/-evp     ratio"
    + "   openssl stream (no IV/AAD/tag)")
for w in workloads {
  // Warm-up: caches, CPU frequency, OpenSSL's lazy initialisation.
  _ = try measureOurs(w, seconds: 0.2)
  var ours: [Double] = []
  var peer: [Double] = []
  var stream: [Double] = []
  for _ in 0..<runs {
    ours.append(try measureOurs(w, seconds: Double(seconds)))
    if let p = measurePeer(w, aead: w.isAEAD, seconds: seconds) { peer.append(p) }
    if w.isAEAD, let s = measurePeer(w, aead: false, seconds: seconds) { stream.append(s) }
  }
  let o = Summary(ours)!
  let line = w.name.padding(toLength: 22, withPad: " ", startingAt: 0) + "  " + o.text
  if let p = Summary(peer) {
    let s = Summary(stream).map { "   " + $0.text } ?? ""
    print(line + "   " + p.text + String(format: "   %4.2f", o.median / p.median) + s)
  } else {
    print(line + "   (openssl speed unavailable)")
  }
}
