import DataPlane
import Foundation
import Ports
import Testing

/// The DPDK port against a Linux peer: a `net_tap` vdev (EAL with
/// --no-huge) whose tap interface is moved into a network namespace the
/// test makes; a python3 AF_PACKET socket in the namespace sends one frame
/// and waits for one. Needs root and /dev/net/tun; skips otherwise.
@Suite struct DpdkTapTests {
  static let namespace = "bulkhead-dpdk-test"
  static let interface = "bhdtap0"
  /// IEEE 802 local experimental EtherType: nothing else on the tap uses it.
  static let etherType: UInt16 = 0x88b5
  static let fromPort: [UInt8] = Array("from-dpdk-port".utf8)
  static let fromPeer: [UInt8] = Array("from-namespace".utf8)

  static func run(_ arguments: [String]) -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
    p.arguments = arguments
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return -1 }
    p.waitUntilExit()
    return p.terminationStatus
  }

  static func frame(_ payload: [UInt8]) -> [UInt8] {
    [UInt8](repeating: 0xff, count: 6) + [2, 0, 0, 0, 0xd0, 1] + [
      UInt8(etherType >> 8), UInt8(etherType & 0xff),
    ]
      + payload + [UInt8](repeating: 0, count: max(0, 46 - payload.count))
  }

  /// The peer: send one frame carrying `fromPeer`, then print "seen" once
  /// a frame carrying `fromPort` arrives (within 20 s).
  static let peerScript = """
    import socket, sys, time
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x88b5))
    s.bind(("\(interface)", 0))
    s.settimeout(0.2)
    frame = bytes([0xff] * 6 + [2, 0, 0, 0, 0xd0, 2, 0x88, 0xb5]) + b"\(String(decoding: fromPeer, as: UTF8.self))" + bytes(32)
    deadline = time.time() + 20
    while time.time() < deadline:
        s.send(frame)
        try:
            data = s.recv(2048)
        except socket.timeout:
            continue
        if b"\(String(decoding: fromPort, as: UTF8.self))" in data:
            print("seen", flush=True)
            sys.exit(0)
    sys.exit(1)
    """

  @Test func framesCrossATapInANamespace() throws {
    guard geteuid() == 0, FileManager.default.fileExists(atPath: "/dev/net/tun") else {
      print("DpdkTapTests skipped: needs root and /dev/net/tun (network namespaces, a tap device)")
      return
    }
    _ = Self.run(["netns", "delete", Self.namespace])
    #expect(Self.run(["netns", "add", Self.namespace]) == 0)
    defer { _ = Self.run(["netns", "delete", Self.namespace]) }

    let environment = try DpdkEnvironment(arguments: [
      "--no-huge", "--no-pci", "--no-shconf", "--no-telemetry", "-m", "128", "-l", "0", "--log-level",
      "error",
      "--vdev", "net_tap0,iface=" + Self.interface,
    ])
    let pool = PacketPool(bufferCount: 256)
    let port = try DpdkPort(number: 0, deviceName: "net_tap0", environment: environment)
    #expect(Self.run(["link", "set", Self.interface, "netns", Self.namespace]) == 0)
    #expect(Self.run(["-n", Self.namespace, "link", "set", Self.interface, "up"]) == 0)

    let peer = Process()
    peer.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
    peer.arguments = ["netns", "exec", Self.namespace, "/usr/bin/python3", "-c", Self.peerScript]
    let output = Pipe()
    peer.standardOutput = output
    try peer.run()

    // Poll the port (it cannot wake a sleeper) until the peer's frame
    // arrived and the peer saw ours, or the peer gave up.
    var sawPeer = false
    let out = Self.frame(Self.fromPort)
    while peer.isRunning || !sawPeer {
      var batch = PacketBatch()
      if port.receive(into: &batch, pool: pool) > 0 {
        for i in 0..<batch.count {
          let bytes = batch[i].bytes
          if bytes.count >= 14 + Self.fromPeer.count,
            Array(bytes[14..<(14 + Self.fromPeer.count)]) == Self.fromPeer
          {
            sawPeer = true
          }
          pool.give(batch[i])
        }
        batch.removeAll()
      }
      var send = PacketBatch()
      guard var buffer = pool.take() else { break }
      _ = out.withUnsafeBytes { buffer.load($0, headroom: pool.headroom) }
      send.append(buffer)
      port.transmit(&send, pool: pool)
      if !peer.isRunning && !sawPeer { break }
      usleep(1000)  // pacing our frames, not waiting for an event
    }
    peer.waitUntilExit()
    let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(sawPeer)
    #expect(peer.terminationStatus == 0 && said.contains("seen"))
    #expect(port.statistics.receivedPackets >= 1)
    #expect(port.statistics.transmittedPackets >= 1)
  }
}
