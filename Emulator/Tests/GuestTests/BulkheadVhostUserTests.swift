import Foundation
import Testing

@testable import Emulator

/// Bulkhead's own vhost-user back-end (`bulkhead-vhost-user`) serving a
/// stock Debian guest's virtio-net NIC under QEMU 10.
///
/// The back-end's device here negotiates and reports link up but moves no
/// packets (the Virtio target's net device is not wired in yet), so these
/// tests prove the protocol side: negotiation, ring set-up, the guest's
/// driver binding, reconnect after the back-end restarts, and survival of a
/// hostile front-end beside a healthy guest.
extension Guests {
  @Suite struct BulkheadVhostUserTests {
    /// Where SwiftPM put this package's executables (beside the tests).
    static func binary(_ name: String) -> String {
      if let folder = ProcessInfo.processInfo.environment["BULKHEAD_BIN_DIR"] { return folder + "/" + name }
      return URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent(name).path
    }

    static func backend(_ sockets: [String], log: String) throws -> PeerProcess {
      let peer = try PeerProcess([binary("bulkhead-vhost-user")] + sockets, logPath: log)
      for socket in sockets { _ = peer.waitForFile(socket, timeout: 10) }
      return peer
    }

    /// Waits until the peer's log holds `text` at least `count` times.
    static func waitForLog(_ peer: PeerProcess, _ text: String, count: Int, timeout: Double) -> Bool {
      let deadline = Date(timeIntervalSinceNow: timeout)
      while Date() < deadline {
        if peer.log.components(separatedBy: text).count - 1 >= count { return true }
        usleep(50_000)
      }
      return false
    }

    /// Waits until the guest's console log holds `text` (a result line the
    /// scenario printed), so the host acts at a known point of the scenario.
    static func waitForConsole(_ guest: Guest, _ text: String, timeout: Double) -> Bool {
      let deadline = Date(timeIntervalSinceNow: timeout)
      while Date() < deadline && guest.isRunning {
        if let log = try? String(contentsOfFile: guest.consoleLogPath, encoding: .utf8), log.contains(text) {
          return true
        }
        usleep(50_000)
      }
      return false
    }

    /// Polls the NIC's state inside the guest (an event the guest sees, not
    /// a fixed sleep): `wait_link up|down SECONDS`.
    static let waitLink = """
      wait_link() { i=0; while [ $i -lt $(($2 * 10)) ]; do
        [ "$(cat /sys/class/net/eth0/operstate)" = "$1" ] && return 0; sleep 0.1; i=$((i + 1)); done; return 1; }
      """

    @Test func guestDriverBindsAndLinkComesUp() throws {
      let image = try GuestFixture.image.get()
      let directory = try GuestFixture.directory("bhvu")
      let socket = directory + "/net0.sock"
      let backend = try Self.backend([socket], log: directory + "/backend.log")
      defer { backend.stop() }

      var configuration = GuestConfiguration(
        name: "bhvu", image: image,
        scenario: Self.waitLink + """

          ip link set eth0 up
          step link wait_link up 20
          report driver=$(basename $(readlink /sys/class/net/eth0/device/driver))
          report mac=$(cat /sys/class/net/eth0/address)
          """)
      configuration.nics = [GuestNIC(.vhostUser(socket: socket), mac: "52:54:00:12:34:01")]
      let guest = try Guest(configuration, directory: directory)
      let outcome = try guest.waitUntilDone(timeout: 90)

      #expect(outcome.status == 0, "console:\n\(outcome.consoleLog)\nbackend:\n\(backend.log.suffix(3000))")
      #expect(outcome.results.contains { $0["step"] == "link" && $0["ok"] == "true" })
      #expect(outcome.value(of: "driver") == "virtio_net")
      #expect(outcome.value(of: "mac") == "52:54:00:12:34:01")
      // Both rings (receive, transmit) were set up and started.
      #expect(Self.waitForLog(backend, "ring started", count: 2, timeout: 10), "backend:\n\(backend.log)")
      #expect(!backend.log.contains("refused:"), "backend:\n\(backend.log)")
    }

    /// The back-end is killed (SIGKILL, by PID) while the guest runs, and
    /// started again: QEMU reconnects and re-sends the whole set-up, the
    /// rings start again, and the guest's NIC is still bound and up, with
    /// no guest reboot (the scenario runs once, start to end).
    @Test func guestSurvivesABackendRestart() throws {
      let image = try GuestFixture.image.get()
      let directory = try GuestFixture.directory("bhvur")
      let socket = directory + "/net0.sock"
      var backend = try Self.backend([socket], log: directory + "/backend1.log")
      defer { backend.stop() }

      var configuration = GuestConfiguration(
        name: "bhvur", image: image,
        scenario: Self.waitLink + """

          ip link set eth0 up
          step link wait_link up 20
          # The host restarts the back-end meanwhile. QEMU keeps the guest's
          # link state as it was, so the guest sees nothing to wait for:
          # it stays up for a window that outlasts the restart.
          step window sh -c 'i=0; while [ $i -lt 300 ]; do [ -d /sys/class/net/eth0 ] || exit 1; sleep 0.1; i=$((i + 1)); done'
          step back wait_link up 60
          report driver=$(basename $(readlink /sys/class/net/eth0/device/driver))
          """)
      configuration.nics = [GuestNIC(.vhostUser(socket: socket), mac: "52:54:00:12:34:02")]
      let guest = try Guest(configuration, directory: directory)

      try #require(
        Self.waitForConsole(guest, "BULKHEAD step=link ok=true", timeout: 60), "backend:\n\(backend.log)")
      #expect(Self.waitForLog(backend, "ring started", count: 2, timeout: 10), "backend:\n\(backend.log)")
      kill(backend.pid, SIGKILL)
      backend.stop()
      backend = try Self.backend([socket], log: directory + "/backend2.log")
      // QEMU reconnects (reconnect-ms=1000) and re-sends the set-up.
      #expect(Self.waitForLog(backend, "ring started", count: 2, timeout: 30), "backend:\n\(backend.log)")
      let outcome = try guest.waitUntilDone(timeout: 120)

      #expect(outcome.status == 0, "console:\n\(outcome.consoleLog)\nbackend:\n\(backend.log.suffix(3000))")
      for step in ["link", "window", "back"] {
        #expect(outcome.results.contains { $0["step"] == step && $0["ok"] == "true" }, "step \(step)")
      }
      #expect(outcome.value(of: "driver") == "virtio_net")
      #expect(backend.log.contains("front-end connected"))
    }

    /// `vhost-user-hostile` attacks one socket while a guest is served on
    /// another socket of the same back-end process: every attack gets a
    /// sound answer, the guest's link never drops, the back-end stays up.
    @Test func hostileFrontendBesideAHealthyGuest() throws {
      let image = try GuestFixture.image.get()
      let directory = try GuestFixture.directory("bhvuh")
      let guestSocket = directory + "/net0.sock"
      let hostileSocket = directory + "/net1.sock"
      let backend = try Self.backend([guestSocket, hostileSocket], log: directory + "/backend.log")
      defer { backend.stop() }

      var configuration = GuestConfiguration(
        name: "bhvuh", image: image,
        scenario: Self.waitLink + """

          ip link set eth0 up
          step link wait_link up 20
          # Watch the link for a while: it must never go down.
          step steady sh -c 'i=0; while [ $i -lt 100 ]; do [ "$(cat /sys/class/net/eth0/carrier)" = 1 ] || exit 1; sleep 0.1; i=$((i + 1)); done'
          """)
      configuration.nics = [GuestNIC(.vhostUser(socket: guestSocket), mac: "52:54:00:12:34:03")]
      let guest = try Guest(configuration, directory: directory)
      try #require(
        Self.waitForConsole(guest, "BULKHEAD step=link ok=true", timeout: 60), "backend:\n\(backend.log)")

      let hostile = try PeerProcess(
        [Self.binary("vhost-user-hostile"), hostileSocket], logPath: directory + "/hostile.log")
      #expect(hostile.waitForLog(containing: "hostile:", timeout: 120))
      hostile.stop()
      print(hostile.log)
      #expect(hostile.log.contains(" 0 unexpected answers"), "hostile:\n\(hostile.log)")
      #expect(hostile.log.contains("back-end still serves: yes"))

      let outcome = try guest.waitUntilDone(timeout: 90)
      #expect(outcome.status == 0, "console:\n\(outcome.consoleLog)\nbackend:\n\(backend.log.suffix(3000))")
      #expect(outcome.results.contains { $0["step"] == "steady" && $0["ok"] == "true" })
      #expect(backend.isRunning)
      // The guest's connection was never refused anything nor dropped by
      // the back-end: one connection, closed only by QEMU at power-off.
      let guestLines = backend.log.split(separator: "\n").filter { $0.contains(guestSocket) }
      #expect(guestLines.filter { $0.contains("front-end connected") }.count == 1, "\(guestLines)")
      #expect(!guestLines.contains { $0.contains("refused:") }, "\(guestLines)")
      #expect(
        guestLines.filter { $0.contains("disconnected") }.allSatisfy {
          $0.contains("front-end closed the connection")
        })
    }
  }
}
