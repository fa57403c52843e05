import Foundation
import Testing

@testable import Emulator

extension Guests {
  @Suite struct BootTests {
    @Test func guestBootsRunsTheScenarioAndPowersOff() throws {
      let image = try GuestFixture.image.get()
      let directory = try GuestFixture.directory("boot")
      let scenario = """
        report kernel=$(uname -r)
        step virtio_net grep -q '^virtio_net ' /proc/modules
        """
      let guest = try Guest(GuestConfiguration(name: "boot", image: image, scenario: scenario), directory: directory)
      let outcome = try guest.waitUntilDone(timeout: 60)
      print("boot: userspace after \(outcome.secondsToReady ?? -1) s, done after \(outcome.secondsToDone) s")

      #expect(outcome.status == 0, "console:\n\(outcome.consoleLog)")
      #expect(outcome.value(of: "kernel")?.hasSuffix("-cloud-amd64") == true)
      #expect(outcome.results.contains { $0["step"] == "virtio_net" && $0["ok"] == "true" })
      #expect(!guest.isRunning)
    }

    @Test func failingScenarioReportsItsStatusAndLongScenariosArrive() throws {
      let image = try GuestFixture.image.get()
      let directory = try GuestFixture.directory("status")
      // Longer than the kernel command line can carry: goes through fw_cfg.
      let filler = String(repeating: "# padding to push the scenario past the command line\n", count: 40)
      let scenario = filler + "report reached=end\nexit 7\n"
      let guest = try Guest(GuestConfiguration(name: "status", image: image, scenario: scenario), directory: directory)
      let outcome = try guest.waitUntilDone(timeout: 60)

      #expect(outcome.status == 7)
      #expect(outcome.value(of: "reached") == "end")
    }
  }
}
