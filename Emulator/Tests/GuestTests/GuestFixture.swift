import Foundation

@testable import Emulator

/// What every guest test needs: the built image (built once per run, a
/// no-op when cached) and a fresh folder for sockets and console logs.
enum GuestFixture {
  static let image: Result<GuestImage, any Error> = Result {
    try GuestImage.build(repository: GuestImage.repository(containing: #filePath)) { line in
      print(line)
    }
  }

  /// A new folder under the system's temporary folder, named for the test.
  /// Unix socket paths must stay under 108 bytes, so it is short.
  static func directory(_ name: String) throws -> String {
    let path = NSTemporaryDirectory() + "bh-\(name)-\(getpid())"
    try? FileManager.default.removeItem(atPath: path)
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  /// A name unique to this run, for namespaces and DPDK file prefixes.
  static func unique(_ name: String) -> String { "bh\(name)\(getpid() % 100_000)" }
}
