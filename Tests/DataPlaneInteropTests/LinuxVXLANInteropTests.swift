import DataPlane
import Foundation
import Testing
import Wire

/// A frame that Linux's own vxlan device put on the wire, captured in a
/// network namespace this test creates (and always deletes), then fed to
/// our ingress: it must arrive at the right NIC with the payload intact.
@Suite struct LinuxVXLANInteropTests {
  static let canRun =
    getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip")
    || FileManager.default.isExecutableFile(atPath: "/usr/bin/ip")

  @Test(.enabled(if: canRun, "needs root and iproute2"))
  func kernelVXLANFrameIsDecapsulated() throws {
    let ip = FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") ? "/usr/sbin/ip" : "/usr/bin/ip"
    let namespace = "dpvx\(getpid())"
    try Interop.run(ip, ["netns", "add", namespace])
    defer { _ = try? Interop.run(ip, ["netns", "delete", namespace]) }
    func inside(_ arguments: [String]) throws { try Interop.run(ip, ["-n", namespace] + arguments) }
    // Underlay: veth va (the peer card, 10.255.0.2) <-> vb (where this
    // card would be; only captured on).
    try inside(["link", "add", "va", "type", "veth", "peer", "name", "vb"])
    try inside(["addr", "add", "10.255.0.2/24", "dev", "va"])
    try inside(["link", "set", "va", "up"])
    try inside(["link", "set", "vb", "up"])
    try inside(["neigh", "add", "10.255.0.1", "lladdr", Interop.cardMAC.description, "dev", "va"])
    // Overlay: d's vxlan device, VNI 2002, towards this card.
    try inside([
      "link", "add", "vx0", "type", "vxlan", "id", "2002", "remote", "10.255.0.1", "local", "10.255.0.2",
      "dstport",
      "4789", "dev", "va",
    ])
    try inside(["link", "set", "vx0", "address", Interop.macD.description])
    try inside(["addr", "add", "172.16.2.20/16", "dev", "vx0"])
    try inside(["link", "set", "vx0", "up"])
    try inside(["neigh", "add", "172.16.1.10", "lladdr", Interop.macC.description, "dev", "vx0"])
    let payload = "from-linux-vxlan"
    let hex = try Interop.run(
      ip,
      [
        "netns", "exec", namespace, "/usr/bin/python3",
        Interop.scripts.appendingPathComponent("linux_vxlan_capture.py").path,
        "vb", "172.16.2.20", "172.16.1.10", payload,
      ])
    let frame = Interop.hexBytes(hex.trimmingCharacters(in: .whitespacesAndNewlines))
    try #require(frame.count > 50)
    let plane = try DataPlane(configuration: Interop.configuration(), portCount: 4)
    let (verdict, port, inner) = Interop.run(plane, port: 0, frame)
    #expect(verdict == .forward)
    #expect(port == 2)
    let parsed = try inner.withUnsafeBytes { raw throws(WireError) in try PacketParser.parse(raw) }
    #expect(parsed.outer.destinationMAC == Interop.macC)
    #expect(parsed.outer.source == .v4(Interop.ipD))
    #expect(parsed.outer.destinationPort == 53)
    #expect(Array(inner[parsed.outer.payloadOffset...]) == Array(payload.utf8))
    // The same frame with tenant 1's VNI must not reach anyone.
    var wrong = frame
    wrong[46] = 0x00
    wrong[47] = 0x03
    wrong[48] = 0xe9  // VNI 1001
    #expect(Interop.run(plane, port: 0, wrong).0 != .forward)
  }
}
