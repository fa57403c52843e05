import Foundation
import Testing

/// bulkhead-card end to end: its uplink is an AF_PACKET port on a veth
/// whose far end holds a Linux VXLAN (or Geneve, where the kernel has it)
/// device as the remote VTEP; its tenant port is an AF_PACKET port on a
/// veth whose far end is the tenant's "VM" (a namespace with the NIC's MAC
/// and address). A ping from the remote overlay address to the tenant NIC
/// crosses the card twice (decapsulated in, encapsulated out) and must be
/// answered. Three namespaces, made and deleted by the test. The same ping
/// also runs with the uplink on DPDK: a `net_tap` vdev whose tap is moved
/// into the peer's namespace.
@Suite(.serialized) struct CardOverlayPingTests {
  static let canRun = getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip")

  /// The host build.
  static var hostFirmware: [String] { [Binaries.folder.appendingPathComponent("bulkhead-card").path] }

  /// The aarch64 build (Embedded Swift, `Firmware/build.sh`) under
  /// qemu-aarch64, when it has been built. QEMU's user-mode emulation
  /// refuses the ring socket options (ENOPROTOOPT), so its AF_PACKET ports
  /// fall back to copy mode by themselves.
  static let aarch64Firmware: [String]? = {
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let path = repository.appendingPathComponent(".build-aarch64/release/bulkhead-card").path
    let usable =
      FileManager.default.isExecutableFile(atPath: path)
      && FileManager.default.isExecutableFile(atPath: "/usr/bin/qemu-aarch64")
    return usable ? ["/usr/bin/qemu-aarch64", path] : nil
  }()

  static let hasTun = FileManager.default.fileExists(atPath: "/dev/net/tun")

  /// How the card's uplink reaches the peer VTEP's namespace.
  enum Uplink {
    /// An AF_PACKET port on a veth: up0 in the card's namespace, up1 in the peer's.
    case afPacket
    /// A DPDK port on a `net_tap` vdev (EAL with --no-huge): its tap, up1,
    /// appears in the card's namespace when the card starts and is then
    /// moved into the peer's.
    case dpdkTap
  }

  static var hasGeneve: Bool {
    (try? sh("ip link add probe-gnv type geneve id 1 remote 192.0.2.1 && ip link del probe-gnv")) != nil
  }

  /// `mode` is added to both AF_PACKET ports (`mode=copy`), or nothing.
  static func configuration(encapsulation: String, mode: String = "", uplink: Uplink = .afPacket) -> String {
    let uplinkLine =
      switch uplink {
      case .afPacket: "uplink interface=up0" + mode
      case .dpdkTap:
        "uplink dpdk=net_tap0 eal=\"--no-huge --no-pci --no-shconf --no-telemetry -m 128 -l 0 "
          + "--log-level error --vdev net_tap0,iface=up1\""
      }
    return """
      # The card 10.255.0.1; the peer VTEP 10.255.0.2 (a Linux \(encapsulation) device).
      card underlay=10.255.0.1 mac=02:ca:00:00:00:01 router-mac=02:ee:00:00:00:01 gateway-mac=02:00:5e:00:00:01
      \(uplinkLine)
      tenant id=2 name=blue
      vpc id=2 tenant=2 cidr=172.16.0.0/16 vni=2002 encap=\(encapsulation)
      subnet id=2 vpc=2 cidr=172.16.0.0/16 gateway=172.16.0.1
      security-group id=2
      rule group=2 direction=inbound protocol=any peer=group:2
      nic id=3 subnet=2 mac=02:00:00:00:0c:01 ip=172.16.1.10 groups=2 port=2 interface=nic0\(mode)
      nic id=4 subnet=2 mac=02:00:00:00:0d:01 ip=172.16.2.20 groups=2 card=10.255.0.2
      """
  }

  @Test(.enabled(if: canRun, "needs root and iproute2"))
  func pingFromTheRemoteOverlayIsAnsweredThroughTheCard() throws {
    let text = try runPing(command: Self.hostFirmware, encapsulation: "vxlan")
    #expect(text.contains("(af-packet up0 ring)"), "\(text)")
  }

  @Test(.enabled(if: canRun && hasGeneve, "needs root and a kernel with geneve"))
  func pingOverGeneve() throws {
    try runPing(command: Self.hostFirmware, encapsulation: "geneve")
  }

  @Test(.enabled(if: canRun, "needs root and iproute2"))
  func pingWithBothPortsInCopyMode() throws {
    let text = try runPing(command: Self.hostFirmware, encapsulation: "vxlan", mode: " mode=copy")
    #expect(text.contains("(af-packet up0 copy)"), "\(text)")
    #expect(!text.contains("rings refused"), "\(text)")
  }

  @Test(
    .enabled(
      if: canRun && aarch64Firmware != nil,
      "needs root, .build-aarch64/release/bulkhead-card (Firmware/build.sh) and qemu-aarch64"))
  func pingThroughTheAArch64FirmwareUnderQemuUser() throws {
    let text = try runPing(command: Self.aarch64Firmware!, encapsulation: "vxlan")
    // The fallback was automatic, and said so once per port.
    #expect(text.contains("(af-packet up0 copy)"), "\(text)")
    #expect(text.components(separatedBy: "af-packet up0: rings refused").count == 2, "\(text)")
  }

  @Test(.enabled(if: canRun && hasTun, "needs root, iproute2 and /dev/net/tun (a DPDK net_tap uplink)"))
  func pingThroughADpdkUplink() throws {
    let text = try runPing(command: Self.hostFirmware, encapsulation: "vxlan", uplink: .dpdkTap)
    #expect(text.contains("port 0 (dpdk net_tap0)"), "\(text)")
  }

  @Test(
    .enabled(
      if: aarch64Firmware != nil,
      "needs .build-aarch64/release/bulkhead-card (Firmware/build.sh) and qemu-aarch64"
    ))
  func theAArch64FirmwareRefusesADpdkUplink() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "bulkhead-card-dpdk-\(getpid())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let file = directory.appendingPathComponent("card.conf")
    try Self.configuration(encapsulation: "vxlan", uplink: .dpdkTap).write(
      to: file, atomically: true, encoding: .utf8)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Self.aarch64Firmware![0])
    process.arguments = Array(Self.aarch64Firmware!.dropFirst()) + [file.path]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 1, "\(text)")
    #expect(text.contains("line 3: field 'dpdk': this build has no DPDK"), "\(text)")
    #expect(text.contains("use uplink interface=NAME"), "\(text)")
  }

  @discardableResult
  func runPing(command: [String], encapsulation: String, mode: String = "", uplink: Uplink = .afPacket)
    throws -> String
  {
    let tag = String(getpid() % 100000)
    let card = "cd" + tag
    let peer = "pr" + tag
    let tenant = "tn" + tag
    for ns in [card, peer, tenant] { try Self.sh("ip netns add \(ns) && ip -n \(ns) link set lo up") }
    defer { for ns in [card, peer, tenant] { _ = try? Self.sh("ip netns delete \(ns)") } }
    for ns in [card, peer, tenant] {
      try Self.sh("ip netns exec \(ns) sysctl -qw net.ipv6.conf.all.disable_ipv6=1")
    }
    // Underlay: up0 (card) <-> up1 (peer VTEP). The DPDK uplink's tap is
    // made by the card; the peer's side follows once the card runs.
    if uplink == .afPacket {
      try Self.sh("ip -n \(card) link add up0 type veth peer name up1 netns \(peer)")
      try Self.sh("ip -n \(card) link set up0 up")
      try Self.setUpPeer(peer, encapsulation: encapsulation)
    }
    // Tenant: nic0 (card's port 2) <-> nic1 (the NIC as the guest sees it).
    try Self.sh("ip -n \(card) link add nic0 type veth peer name nic1 netns \(tenant)")
    try Self.sh("ip -n \(tenant) link set nic1 address 02:00:00:00:0c:01 mtu 1400")
    try Self.sh("ip -n \(tenant) addr add 172.16.1.10/16 dev nic1")
    try Self.sh("ip -n \(tenant) link set nic1 up && ip -n \(card) link set nic0 up")

    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bulkhead-card-\(tag)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let file = directory.appendingPathComponent("card.conf")
    try Self.configuration(encapsulation: encapsulation, mode: mode, uplink: uplink).write(
      to: file, atomically: true, encoding: .utf8)

    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
    process.arguments = ["netns", "exec", card] + command + [file.path]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    defer { if process.isRunning { process.terminate() } }
    // The card says "running" once its ports are open.
    var text = ""
    while !text.contains("running") {
      let chunk = output.fileHandleForReading.availableData
      if chunk.isEmpty { break }
      text += String(decoding: chunk, as: UTF8.self)
    }
    #expect(text.contains("running with 2 ports"), "\(text)")
    if uplink == .dpdkTap {
      try Self.sh("ip -n \(card) link set up1 netns \(peer)")
      try Self.setUpPeer(peer, encapsulation: encapsulation)
    }

    let ping = try Self.sh("ip netns exec \(peer) busybox ping -c 3 -W 5 172.16.1.10 || true")
    #expect(ping.contains("3 packets received") || ping.contains("2 packets received"), "\(ping)")

    // SIGTERM: a clean stop that prints the counters.
    kill(process.processIdentifier, SIGTERM)
    process.waitUntilExit()
    text += String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(process.terminationStatus == 0, "\(text)")
    #expect(text.contains("stopping"))
    #expect(counter(in: text, port: 0, field: "rx") >= 2, "\(text)")
    #expect(counter(in: text, port: 2, field: "tx") >= 2, "\(text)")
    #expect(counter(in: text, port: 2, field: "rx") >= 2, "\(text)")
    #expect(counter(in: text, port: 0, field: "tx") >= 2, "\(text)")
    return text
  }

  /// The peer VTEP on up1: answering to the router MAC the card sends to,
  /// with a Linux VXLAN or Geneve device holding the remote NIC's address.
  static func setUpPeer(_ peer: String, encapsulation: String) throws {
    try sh("ip -n \(peer) link set up1 address 02:ee:00:00:00:01")
    try sh("ip -n \(peer) addr add 10.255.0.2/24 dev up1")
    try sh("ip -n \(peer) link set up1 up")
    try sh("ip -n \(peer) neigh add 10.255.0.1 lladdr 02:ca:00:00:00:01 dev up1")
    let device =
      encapsulation == "vxlan"
      ? "type vxlan id 2002 remote 10.255.0.1 local 10.255.0.2 dstport 4789 dev up1"
      : "type geneve id 2002 remote 10.255.0.1"
    try sh("ip -n \(peer) link add tun0 address 02:00:00:00:0d:01 \(device)")
    try sh("ip -n \(peer) link set tun0 mtu 1400")
    try sh("ip -n \(peer) addr add 172.16.2.20/16 dev tun0 && ip -n \(peer) link set tun0 up")
    try sh("ip -n \(peer) neigh add 172.16.1.10 lladdr 02:00:00:00:0c:01 dev tun0")
  }

  /// Reads "port N (...): rx A pkts ..., tx B pkts" from the last report.
  func counter(in text: String, port: Int, field: String) -> Int {
    guard
      let line = text.split(separator: "\n").last(where: {
        $0.contains("port \(port) (") && $0.contains(" rx ")
      })
    else { return -1 }
    let words = line.split(separator: " ")
    guard let i = words.firstIndex(of: Substring(field)), i + 1 < words.count else { return -1 }
    return Int(words[i + 1]) ?? -1
  }

  @discardableResult
  static func sh(_ command: String) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", command]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    guard p.terminationStatus == 0 else { throw CommandFailed(command: command, output: text) }
    return text
  }

  struct CommandFailed: Error, CustomStringConvertible {
    let command: String
    let output: String
    var description: String { command + ": " + output }
  }
}

enum Binaries {
  /// The folder of the test executable, where SwiftPM puts the products.
  static var folder: URL {
    if let override = ProcessInfo.processInfo.environment["BULKHEAD_BIN_DIR"] {
      return URL(fileURLWithPath: override)
    }
    return URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).resolvingSymlinksInPath()
      .deletingLastPathComponent()
  }
}
