import Foundation
import Testing

/// Runs the oracle tools (python3 with scapy, tshark) for the oracle tests.
enum OracleProcess {
  static let setupHint = "run scripts/setup.sh to install the test oracles (python3-scapy, tshark)"

  /// The folder of this test target's oracle scripts.
  static var oraclesFolder: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Oracles")
  }

  struct Failure: Error, CustomStringConvertible {
    let description: String
  }

  /// Runs `executable` with `arguments`; returns standard output. Throws
  /// with the setup hint when the tool is missing or fails.
  static func run(_ executable: String, _ arguments: [String]) throws -> Data {
    guard FileManager.default.isExecutableFile(atPath: executable) else {
      throw Failure(description: "\(executable) is missing: \(setupHint)")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    // Standard error goes to a file, so that only one pipe needs draining.
    let errorURL = FileManager.default.temporaryDirectory.appendingPathComponent(
      "wire-oracle-\(UUID().uuidString).err")
    _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: errorURL) }
    let output = Pipe()
    process.standardOutput = output
    process.standardError = try FileHandle(forWritingTo: errorURL)
    try process.run()
    let outData = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let errData = (try? Data(contentsOf: errorURL)) ?? Data()
    guard process.terminationStatus == 0 else {
      let message = String(decoding: errData, as: UTF8.self)
      throw Failure(
        description:
          "\(executable) \(arguments.joined(separator: " ")) failed (\(process.terminationStatus)): \(message.suffix(2000))\n\(setupHint)"
      )
    }
    return outData
  }
}

/// Parses hex text into bytes.
func bytes(fromHex text: String) -> [UInt8] {
  var out: [UInt8] = []
  var high: UInt8? = nil
  for c in text.utf8 {
    guard let v = UInt8(String(UnicodeScalar(c)), radix: 16) else { continue }
    if let h = high {
      out.append(h << 4 | v)
      high = nil
    } else {
      high = v
    }
  }
  return out
}
