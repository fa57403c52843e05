import Foundation
import Testing
import Wire

@testable import VirtioNet

/// The TSO output checked by an independent implementation: scapy
/// recomputes every IPv4 and TCP checksum and length from scratch, and
/// reports sequence numbers and flags. Needs /usr/bin/python3 with scapy
/// (scripts/setup.sh installs python3-scapy).
@Suite struct ScapySegmentationOracleTests {
  static let script = """
    import sys
    from scapy.all import Ether, IP, IPv6, TCP, raw
    for line in open(sys.argv[1]):
        data = bytes.fromhex(line.strip())
        p = Ether(data)
        ip = p[IP] if IP in p else p[IPv6]
        q = p.copy()
        if IP in q:
            del q[IP].chksum
            del q[IP].len
        else:
            del q[IPv6].plen
        del q[TCP].chksum
        rebuilt = raw(Ether(raw(q)))
        same = "same" if rebuilt == data else "differs"
        print(same, p[TCP].seq, int(p[TCP].flags), len(p[TCP].payload))
    """

  @Test(arguments: [false, true])
  func segmentsAgreeWithScapy(ipv6: Bool) throws {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else {
      Issue.record("/usr/bin/python3 is missing: run scripts/setup.sh")
      return
    }
    let f = try NetFixture()
    let frame = TestFrames.tcp(ipv6: ipv6, payload: TestFrames.payload(5000), sequence: 77, flags: 0x19)
    var h = VirtioNetHeader()
    h.flags = VirtioNetHeader.needsChecksum
    h.gsoType = ipv6 ? VirtioNetHeader.gsoTCPv6 : VirtioNetHeader.gsoTCPv4
    h.gsoSize = 1400
    h.checksumStart = ipv6 ? 54 : 34
    h.checksumOffset = 16
    f.send(h, frame)
    let segments = f.transmitAll()
    #expect(segments.count == 4)
    let folder = FileManager.default.temporaryDirectory
    let input = folder.appendingPathComponent("virtio-net-tso-\(UUID().uuidString).hex")
    defer { try? FileManager.default.removeItem(at: input) }
    let hex = segments.map { $0.map { String(format: "%02x", $0) }.joined() }.joined(separator: "\n")
    try hex.write(to: input, atomically: true, encoding: .utf8)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    process.arguments = ["-c", Self.script, input.path]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    let lines = text.split(separator: "\n").map(String.init)
    #expect(
      lines == [
        "same 77 16 1400", "same 1477 16 1400", "same 2877 16 1400", "same 4277 25 800",
      ])
  }
}
