import Foundation
import Testing
import Wire

/// Packets built by scapy (Tests/WireOracleTests/Oracles/scapy_packets.py)
/// parsed by Wire, compared field by field with what scapy read back.
@Suite struct ScapyOracleTests {
  struct OraclePacket: Decodable {
    let name: String
    let hex: String
    let fields: [String: String]
  }

  static func oraclePackets() throws -> [OraclePacket] {
    let script = OracleProcess.oraclesFolder.appendingPathComponent("scapy_packets.py").path
    let json = try OracleProcess.run("/usr/bin/python3", [script])
    return try JSONDecoder().decode([OraclePacket].self, from: json)
  }

  @Test func everyFormatMatchesScapy() throws {
    let packets = try Self.oraclePackets()
    #expect(packets.count >= 25)
    var compared = 0
    for packet in packets {
      let wire = WireFields(frame: bytes(fromHex: packet.hex))
      #expect(
        wire.values["error"] == nil,
        "\(packet.name): Wire rejected scapy's packet: \(wire.values["error"] ?? "")")
      for (key, expected) in packet.fields.sorted(by: { $0.key < $1.key }) {
        let found = wire.values[key]
        #expect(
          found == expected, "\(packet.name): \(key) is \(found ?? "absent") in Wire, \(expected) in scapy")
        compared += 1
      }
    }
    // Every format is represented.
    let names = packets.map(\.name).joined(separator: " ")
    for format in [
      "vlan", "qinq", "arp", "ipv6_extension", "tcp_syn_options", "sack", "frag_needed", "time_exceeded",
      "icmpv6_neighbor", "router_advertisement", "vxlan", "geneve_options", "esp", "tls",
    ] {
      #expect(names.contains(format), "no oracle packet for \(format)")
    }
    #expect(compared > 500)
  }

  /// Every proper prefix of every oracle packet is a typed error for the
  /// top-level parser, never a trap (a frame's IP length covers all of it).
  @Test func truncatedOraclePacketsAreTypedErrors() throws {
    for packet in try Self.oraclePackets() {
      let frame = bytes(fromHex: packet.hex)
      for length in 0..<frame.count {
        let prefix = Array(frame[0..<length])
        let outcome: WireError? = prefix.withUnsafeBytes { b in
          do throws(WireError) {
            _ = try PacketParser.parse(b)
            return nil
          } catch {
            return error
          }
        }
        #expect(outcome != nil, "\(packet.name): prefix of \(length) bytes was accepted")
      }
    }
  }
}
