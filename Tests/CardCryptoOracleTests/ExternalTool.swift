import Foundation

/// Runs a command-line tool found on PATH, feeding `input` on stdin, and
/// returns its stdout, or nil if it is missing or exits non-zero.
func run(_ tool: String, _ arguments: [String], input: [UInt8] = []) -> [UInt8]? {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  process.arguments = [tool] + arguments
  let stdin = Pipe()
  let stdout = Pipe()
  process.standardInput = stdin
  process.standardOutput = stdout
  process.standardError = FileHandle.nullDevice
  do { try process.run() } catch { return nil }
  // Inputs here are at most a few KiB, below the pipe buffer, so writing
  // everything before reading cannot deadlock.
  stdin.fileHandleForWriting.write(Data(input))
  try? stdin.fileHandleForWriting.close()
  let output = stdout.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  guard process.terminationStatus == 0 else { return nil }
  return [UInt8](output)
}

func hexString(_ bytes: [UInt8]) -> String {
  let digits = Array("0123456789abcdef".utf8)
  var out: [UInt8] = []
  out.reserveCapacity(bytes.count * 2)
  for b in bytes {
    out.append(digits[Int(b >> 4)])
    out.append(digits[Int(b & 0xf)])
  }
  return String(decoding: out, as: UTF8.self)
}

/// Reproducible test bytes (xorshift64*), so a failure can be rerun.
struct TestBytes {
  var state: UInt64
  mutating func next(_ count: Int) -> [UInt8] {
    (0..<count).map { _ in
      state ^= state >> 12
      state ^= state << 25
      state ^= state >> 27
      return UInt8(truncatingIfNeeded: (state &* 0x2545_F491_4F6C_DD1D) >> 56)
    }
  }
}

/// The python3 `cryptography` module (Debian: python3-cryptography) as a
/// second implementation; absent on machines without it.
let pythonCryptographyAvailable: Bool = run("python3", ["-c", "import cryptography"]) != nil

/// Whether this OpenSSL's `enc` accepts XTS (OpenSSL 3.0's refuses:
/// "enc XTS ciphers not supported").
let opensslEncDoesXTS: Bool =
  run(
    "openssl",
    [
      "enc", "-aes-256-xts", "-K", String(repeating: "01", count: 32) + String(repeating: "02", count: 32),
      "-iv", String(repeating: "00", count: 16),
    ], input: [UInt8](repeating: 0, count: 16)) != nil

let opensslAvailable: Bool = run("openssl", ["version"]) != nil
