import DataPlane
import Foundation
import Testing
import Wire

/// Our encapsulated frames decoded field by field by tshark and scapy.
@Suite struct EncapsulationInteropTests {
  /// One Geneve frame (VPC 1) and one VXLAN frame (VPC 2) from the pipeline.
  func encapsulatedFrames() throws -> [[UInt8]] {
    let plane = try DataPlane(configuration: Interop.configuration(), portCount: 4)
    let geneve = Interop.run(
      plane, port: 1,
      Interop.udpFrame(
        srcMAC: Interop.macA, dstMAC: Interop.gatewayMAC, src: Interop.ipA, dst: Interop.ipB,
        payload: Array("geneve".utf8)))
    let vxlan = Interop.run(
      plane, port: 2,
      Interop.udpFrame(
        srcMAC: Interop.macC, dstMAC: Interop.gatewayMAC, src: Interop.ipC, dst: Interop.ipD,
        payload: Array("vxlan".utf8)))
    #expect(geneve.0 == .forward && vxlan.0 == .forward)
    return [geneve.2, vxlan.2]
  }

  @Test func tsharkDecodesGeneveAndVXLAN() throws {
    let frames = try encapsulatedFrames()
    let pcap = FileManager.default.temporaryDirectory.appendingPathComponent(
      "dp-interop-\(UUID().uuidString).pcap")
    try Interop.writePcap(frames, to: pcap)
    defer { try? FileManager.default.removeItem(at: pcap) }
    let fields = [
      "eth.src", "ip.src", "ip.dst", "ip.checksum.status", "udp.dstport", "udp.srcport", "geneve.vni",
      "vxlan.vni",
      "geneve.proto_type", "eth.dst",
    ]
    var arguments = [
      "-r", pcap.path, "-o", "ip.check_checksum:TRUE", "-T", "fields", "-E", "separator=|", "-E",
      "occurrence=a",
    ]
    for f in fields { arguments += ["-e", f] }
    let text = try Interop.run("/usr/bin/tshark", arguments)
    let lines = text.split(separator: "\n").map {
      $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
    }
    try #require(lines.count == 2)
    let g = lines[0]
    #expect(g[0].hasPrefix("02:ca:00:00:00:01"))
    #expect(g[1] == "10.255.0.1,172.16.1.10")
    #expect(g[2] == "10.255.0.2,172.16.2.20")
    #expect(g[3].hasPrefix("1"))  // outer IPv4 header checksum good
    #expect(g[4].hasPrefix("6081"))
    #expect((UInt16(g[5].split(separator: ",")[0]) ?? 0) >= 49152)
    #expect(UInt32(g[6].dropFirst(2), radix: 16) == 1001)  // tshark prints Geneve's VNI in hex
    #expect(g[8] == "0x6558")
    #expect(g[9] == "02:ee:00:00:00:01,02:00:00:00:0b:01")  // inner destination = b's MAC
    let v = lines[1]
    #expect(v[4].hasPrefix("4789"))
    #expect(v[7] == "2002")
    #expect(v[3].hasPrefix("1"))
    #expect(v[9] == "02:ee:00:00:00:01,02:00:00:00:0d:01")
  }

  @Test func scapyDecodesGeneveAndVXLAN() throws {
    let frames = try encapsulatedFrames()
    let pcap = FileManager.default.temporaryDirectory.appendingPathComponent(
      "dp-interop-\(UUID().uuidString).pcap")
    try Interop.writePcap(frames, to: pcap)
    defer { try? FileManager.default.removeItem(at: pcap) }
    let text = try Interop.run(
      "/usr/bin/python3", [Interop.scripts.appendingPathComponent("decode_pcap.py").path, pcap.path])
    let decoded = try text.split(separator: "\n").map {
      try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
    }
    try #require(decoded.count == 2)
    let g = decoded[0]
    #expect(g["kind"] as? String == "geneve")
    #expect(g["vni"] as? Int == 1001)
    #expect(g["proto"] as? Int == 0x6558)
    #expect(g["ip_src"] as? String == "10.255.0.1")
    #expect(g["ip_dst"] as? String == "10.255.0.2")
    #expect(g["ip_checksum_ok"] as? Bool == true)
    #expect(g["ip_len_ok"] as? Bool == true)
    #expect(g["udp_len_ok"] as? Bool == true)
    #expect(g["df"] as? Bool == true)
    #expect(g["inner_eth_dst"] as? String == "02:00:00:00:0b:01")
    #expect(g["inner_ip_dst"] as? String == "172.16.2.20")
    let v = decoded[1]
    #expect(v["kind"] as? String == "vxlan")
    #expect(v["vni"] as? Int == 2002)
    #expect(v["vxlan_flags"] as? Int == 0x08)
    #expect(v["udp_dport"] as? Int == 4789)
    #expect(v["inner_eth_dst"] as? String == "02:00:00:00:0d:01")
  }

  /// scapy-built Geneve frames (plain, with a non-critical option, with a
  /// critical option) through our ingress.
  @Test func scapyGeneveIsDecapsulated() throws {
    let text = try Interop.run(
      "/usr/bin/python3",
      [
        Interop.scripts.appendingPathComponent("scapy_geneve.py").path, Interop.cardMAC.description,
        Interop.routerMAC.description, Interop.peer.description, Interop.card.description, "1001",
        Interop.macB.description,
        Interop.macA.description, Interop.ipB.description, Interop.ipA.description,
      ])
    let lines = text.split(separator: "\n").map { Interop.hexBytes($0) }
    try #require(lines.count == 4)
    let inner = lines[3]
    let plane = try DataPlane(configuration: Interop.configuration(), portCount: 4)
    let plain = Interop.run(plane, port: 0, lines[0])
    #expect(plain.0 == .forward && plain.1 == 1)
    #expect(plain.2 == inner)
    let option = Interop.run(plane, port: 0, lines[1])
    #expect(option.0 == .forward && option.2 == inner)
    #expect(Interop.run(plane, port: 0, lines[2]).0 == .drop(.criticalOption))
  }
}
