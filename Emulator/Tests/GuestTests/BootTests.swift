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
      let guest = try Guest(
        GuestConfiguration(name: "boot", image: image, scenario: scenario), directory: directory)
      let outcome = try guest.waitUntilDone(timeout: 60)
      print(
        "boot: userspace after \(outcome.secondsToReady ?? -1) s, done after \(outcome.secondsToDone) s"
      )

      #expect(outcome.status == 0, "console:\n\(outcome.consoleLog)")
      #expect(outcome.value(of: "kernel")?.hasSuffix("-cloud-amd64") == true)
      #expect(outcome.results.contains { $0["step"] == "virtio_net" && $0["ok"] == "true" })
      #expect(!guest.isRunning)
    }

    @Test func failingScenarioReportsItsStatusAndLongScenariosArrive() throws {
      let image = try GuestFixture.image.get()
      let directory = try GuestFixture.directory("status")
      // Longer than the kernel command line can carry: goes through fw_cfg.
      let filler = String(
        repeating: "# padding to push the scenario past the command line\n", count: 40)
      let scenario = filler + "report reached=end\nexit 7\n"
      let guest = try Guest(
        GuestConfiguration(name: "status", image: image, scenario: scenario), directory: directory)
      let outcome = try guest.waitUntilDone(timeout: 60)

      #expect(outcome.status == 7)
      #expect(outcome.value(of: "reached") == "end")
    }
    /// The kernel features the peers rely on load on demand inside the
    /// guest: tunnels, ESP with AES-GCM (which needs the default RNG), kTLS,
    /// dm-crypt through cryptsetup's kernel crypto API.
    @Test func peerKernelFeaturesLoadOnDemand() throws {
      let image = try GuestFixture.image.get()
      let directory = try GuestFixture.directory("features")
      let key = "0x0102030405060708090a0b0c0d0e0f1011121314"
      let scenario = """
        step vxlan ip link add vx0 type vxlan id 42 dstport 4789 local 10.0.0.1
        step geneve ip link add gn0 type geneve id 7 remote 10.0.0.2
        step esp4 ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x100 mode tunnel aead 'rfc4106(gcm(aes))' \(key) 128
        step esp6 ip xfrm state add src fd00::1 dst fd00::2 proto esp spi 0x101 mode tunnel aead 'rfc4106(gcm(aes))' \(key) 128
        step tls modprobe tls
        step dm_crypt modprobe dm_crypt
        step xts cryptsetup benchmark --cipher aes-xts-plain64 --key-size 256
        """
      let outcome = try Guest(
        GuestConfiguration(name: "features", image: image, scenario: scenario), directory: directory
      ).waitUntilDone(timeout: 60)

      for step in ["vxlan", "geneve", "esp4", "esp6", "tls", "dm_crypt", "xts"] {
        #expect(
          outcome.results.contains { $0["step"] == step && $0["ok"] == "true" },
          "step \(step) failed; console:\n\(outcome.consoleLog)")
      }
    }
    /// The same image recipe for aarch64 (Debian's cloud-arm64 kernel),
    /// booted by qemu-system-aarch64: peers of the card's own architecture.
    @Test func aarch64GuestBoots() throws {
      let image = try GuestFixture.arm64Image.get()
      let directory = try GuestFixture.directory("arm64")
      let scenario = """
        report arch=$(uname -m)
        step virtio_net grep -q '^virtio_net ' /proc/modules
        """
      let outcome = try Guest(
        GuestConfiguration(name: "arm64", image: image, scenario: scenario), directory: directory
      ).waitUntilDone(timeout: 60)
      print(
        "aarch64 boot: userspace after \(outcome.secondsToReady ?? -1) s, done after \(outcome.secondsToDone) s"
      )

      #expect(outcome.status == 0, "console:\n\(outcome.consoleLog)")
      #expect(outcome.value(of: "arch") == "aarch64")
      #expect(outcome.results.contains { $0["step"] == "virtio_net" && $0["ok"] == "true" })
    }
  }
}
