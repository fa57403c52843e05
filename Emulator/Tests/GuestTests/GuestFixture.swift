import Foundation
import Testing

@testable import Emulator

/// Every guest test, one at a time: guests run under TCG on two shared
/// cores, and `.serialized` holds for the suites nested in this one. (Two
/// serialized lanes side by side were tried: the guest tests block the
/// threads they run on, so two lanes held both of the cooperative pool's
/// threads on a two-core machine and starved the async tests beside them
/// until their RPC deadlines passed.)
@Suite(.serialized) struct Guests {}

/// What every guest test needs: the built image (built once per run, a
/// no-op when cached) and a fresh folder for sockets and console logs.
enum GuestFixture {
  static let image: Result<GuestImage, any Error> = Result {
    try GuestImage.build(repository: GuestImage.repository(containing: #filePath)) { print($0) }
  }
  static let arm64Image: Result<GuestImage, any Error> = Result {
    try GuestImage.build(
      repository: GuestImage.repository(containing: #filePath), architecture: .aarch64
    ) { print($0) }
  }

  /// This run's folder for sockets and console logs. Folders of earlier
  /// runs whose process is gone are removed: logs stay until the next run.
  static let runDirectory: String = {
    let temporary = NSTemporaryDirectory()
    let prefix = "bulkhead-guests-"
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? []
    where entry.hasPrefix(prefix) {
      if let pid = Int32(entry.dropFirst(prefix.count)), kill(pid, 0) != 0 {
        try? FileManager.default.removeItem(atPath: temporary + entry)
      }
    }
    return temporary + prefix + "\(getpid())"
  }()

  /// A fresh folder for one test. Unix socket paths must stay under 108
  /// bytes, so names are short.
  static func directory(_ name: String) throws -> String {
    let path = runDirectory + "/" + name
    try? FileManager.default.removeItem(atPath: path)
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  /// A name unique to this run, for namespaces and DPDK file prefixes.
  static func unique(_ name: String) -> String { "bh\(name)\(getpid() % 100_000)" }
}
