import Foundation
import Testing

@testable import Emulator

/// `down` after an `up` that was killed between starting a process and
/// recording it in the rack's state: the process is found by the rack's
/// mark in its environment and stopped; another rack's process is not
/// touched.
struct RackDownTests {
  @Test func downStopsAProcessAKilledUpStartedButDidNotRecord() throws {
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("rack-down-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: base) }
    let ours = Rack(stateDirectory: base.appendingPathComponent("ours").path)
    let theirs = Rack(stateDirectory: base.appendingPathComponent("theirs").path)
    for rack in [ours, theirs] {
      try FileManager.default.createDirectory(atPath: rack.stateDirectory, withIntermediateDirectories: true)
    }
    // Neither process is in a state file: as if `up` died right after
    // starting it.
    let orphan = try DetachedProcess.start(
      ["sleep", "600"], logPath: ours.stateDirectory + "/orphan.log", rack: ours.processMark)
    let neighbour = try DetachedProcess.start(
      ["sleep", "600"], logPath: theirs.stateDirectory + "/neighbour.log", rack: theirs.processMark)
    defer { neighbour.stop(grace: 1) }
    #expect(orphan.isRunning && neighbour.isRunning)
    #expect(DetachedProcess.marked(rack: ours.processMark).map(\.pid) == [orphan.pid])

    let done = ours.down()
    #expect(!orphan.isRunning)
    #expect(done.contains("process \(orphan.pid) (not recorded): stopped"), "\(done)")
    #expect(neighbour.isRunning, "another rack's process must survive this rack's down")
    #expect(DetachedProcess.marked(rack: ours.processMark).isEmpty)
  }
}
