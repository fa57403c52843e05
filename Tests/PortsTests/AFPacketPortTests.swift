import CPacketSocket
import DataPlane
import Foundation
import Platform
import Ports
import Testing
import Wire

/// AF_PACKET ports on a veth pair inside a network namespace the test
/// creates (and deletes): the namespace's kernel is the peer.
@Suite(.serialized) struct AFPacketPortTests {
  static let canRun = getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip")

  static let peerMAC = MACAddress("02:00:00:00:99:01")!
  static let portMAC = MACAddress("02:00:00:00:99:02")!
  static let peerIP = IPv4Address(10, 99, 0, 1)
  static let portIP = IPv4Address(10, 99, 0, 2)

  /// A namespace with veth `peer` (10.99.0.1, the kernel's side) and
  /// `port` (no address; our AF_PACKET port binds here).
  final class Namespace {
    // Unique per instance: suites run in parallel in one process.
    let name = "ports\(getpid())-\(UInt32.random(in: 0..<1_000_000))"
    init() throws {
      try sh("ip netns add \(name)")
      try inside("ip link set lo up")
      // No IPv6 on the veths: no router or neighbour solicitations of the
      // kernel's own among the frames a test counts.
      try inside("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1")
      try inside("ip link add peer address \(AFPacketPortTests.peerMAC) type veth peer name port")
      try inside("ip addr add 10.99.0.1/24 dev peer")
      try inside("ip link set peer up")
      try inside("ip link set port up")
      try inside("ip neigh add 10.99.0.2 lladdr \(AFPacketPortTests.portMAC) dev peer")
    }
    deinit { _ = try? sh("ip netns delete \(name)") }
    func inside(_ command: String) throws { try sh("ip netns exec \(name) " + command) }

    /// Opens a port on `interface` inside the namespace (the calling thread
    /// moves there for the call and back).
    func openPort(_ interface: String, number: UInt16, mode: PacketSocketMode = .automatic) throws
      -> AFPacketPort
    {
      // The thread's own namespace, held open to come back to (pid 1's
      // need not be ours, e.g. in a container).
      let home = cps_open_network_namespace("/proc/thread-self/ns/net")
      let there = cps_open_network_namespace("/var/run/netns/" + name)
      precondition(home >= 0 && there >= 0)
      defer {
        close(there)
        close(home)
      }
      precondition(cps_set_network_namespace(there) == 0)
      defer { precondition(cps_set_network_namespace(home) == 0) }
      return try AFPacketPort(number: number, interface: interface, mode: mode)
    }
  }

  @discardableResult
  static func sh(_ command: String) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", command]
    let out = Foundation.Pipe()
    p.standardOutput = out
    p.standardError = out
    try p.run()
    p.waitUntilExit()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    guard p.terminationStatus == 0 else { throw CommandFailed(command: command, output: text) }
    return text
  }

  struct CommandFailed: Error {
    let command: String
    let output: String
  }

  /// Receives from `port` until `match` accepts a frame or 5 s pass,
  /// sleeping in epoll on the port's descriptor meanwhile.
  static func awaitFrame(_ port: AFPacketPort, pool: PacketPool, _ match: ([UInt8]) -> Bool) throws
    -> [UInt8]?
  {
    let epoll = try Epoll()
    defer { try? epoll.close() }
    try epoll.add(port.wakeDescriptor!, events: .readable, token: 0)
    let deadline = MonotonicClock.nanoseconds + 5_000_000_000
    var batch = PacketBatch()
    while MonotonicClock.nanoseconds < deadline {
      _ = port.receive(into: &batch, pool: pool)
      var found: [UInt8]?
      for i in 0..<batch.count {
        if found == nil, match(batch[i].bytes) { found = batch[i].bytes }
        pool.give(batch[i])
      }
      batch.removeAll()
      if let found { return found }
      _ = try epoll.wait(timeoutMilliseconds: 100) { _ in }
    }
    return nil
  }

  static func echoRequest(identifier: UInt16) -> [UInt8] {
    var frame = [UInt8](repeating: 0, count: 14 + 20 + 8 + 16)
    frame.withUnsafeMutableBytes { p in
      EthernetHeader(destination: peerMAC, source: portMAC, etherType: .ipv4).emit(into: p)
      IPv4Header(source: portIP, destination: peerIP, protocol: .icmp, payloadLength: 24)
        .emit(into: UnsafeMutableRawBufferPointer(rebasing: p[14...]))
      let icmp = UnsafeMutableRawBufferPointer(rebasing: p[34...])
      icmp[0] = ICMPv4Message.MessageType.echoRequest
      icmp[4] = UInt8(identifier >> 8)
      icmp[5] = UInt8(identifier & 0xFF)
      icmp[7] = 1
      let sum = InternetChecksum.checksum(UnsafeRawBufferPointer(icmp))
      icmp[2] = UInt8(sum >> 8)
      icmp[3] = UInt8(sum & 0xFF)
    }
    return frame
  }

  @Test(.enabled(if: canRun, "needs root and iproute2"), arguments: [PacketSocketMode.ring, .copy])
  func framesFromTheKernelAreReceived(mode: PacketSocketMode) throws {
    let ns = try Namespace()
    let pool = PacketPool(bufferCount: 256)
    let port = try ns.openPort("port", number: 0, mode: mode)
    #expect(port.mode == mode)
    // An ICMP echo from the namespace's kernel: ARP is settled statically,
    // so the request itself crosses the veth.
    try ns.inside("busybox ping -c 2 -W 1 10.99.0.2 || true")
    let frame = try Self.awaitFrame(port, pool: pool) { f in
      f.count >= 42 && Array(f[6..<12]) == octets(Self.peerMAC) && f[12] == 0x08 && f[13] == 0x00
        && f[23] == 1
    }
    #expect(frame != nil)
    #expect(port.statistics.receivedPackets >= 1)
  }

  @Test(.enabled(if: canRun, "needs root and iproute2"), arguments: [PacketSocketMode.ring, .copy])
  func transmittedFramesReachTheKernelAndOwnFramesAreNotReceived(mode: PacketSocketMode) throws {
    let ns = try Namespace()
    let pool = PacketPool(bufferCount: 256)
    let port = try ns.openPort("port", number: 0, mode: mode)
    var batch = PacketBatch()
    var buffer = pool.take()!
    let request = Self.echoRequest(identifier: 0x4242)
    #expect(request.withUnsafeBytes { buffer.load($0, headroom: pool.headroom) })
    batch.append(buffer)
    #expect(port.transmit(&batch, pool: pool) == 1)
    #expect(port.statistics.transmittedPackets == 1)
    // The kernel answers the echo: proof that the frame went out intact.
    var sawOwnFrame = false
    let reply = try Self.awaitFrame(port, pool: pool) { f in
      if Array(f[6..<12]) == octets(Self.portMAC) { sawOwnFrame = true }
      return f.count >= 42 && f[23] == 1 && f[34] == ICMPv4Message.MessageType.echoReply && f[38] == 0x42
    }
    #expect(reply != nil)
    #expect(!sawOwnFrame)
    #expect(pool.availableCount == 256)
  }

  @Test(.enabled(if: canRun, "needs root and iproute2"))
  func aMissingInterfaceIsATypedError() throws {
    #expect(throws: SystemError.self) { try AFPacketPort(number: 0, interface: "no-such-if0") }
    #expect(throws: SystemError.self) { try AFPacketPort(number: 0, interface: "no-such-if0", mode: .copy) }
  }

  @Test(.enabled(if: canRun, "needs root and iproute2"))
  func automaticModeUsesTheRingsWhereTheKernelHasThem() throws {
    let ns = try Namespace()
    let port = try ns.openPort("port", number: 0)
    #expect(port.mode == .ring)
    #expect(port.fallbackCause == nil)
  }
}

func octets(_ mac: MACAddress) -> [UInt8] {
  (0..<6).map { UInt8(truncatingIfNeeded: mac.rawValue >> (40 - 8 * UInt64($0))) }
}
