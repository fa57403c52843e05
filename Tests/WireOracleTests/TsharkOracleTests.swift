import Foundation
import Testing
import Wire

/// Frames built by Wire, decoded by tshark (`-T json`), compared with the
/// values the builders were given.
@Suite struct TsharkOracleTests {
  /// Every string value in tshark's JSON, by field name, in document order
  /// within each layer array (outer before inner).
  static func flatten(_ value: Any, into fields: inout [String: [String]], key: String? = nil) {
    if let text = value as? String, let key {
      fields[key, default: []].append(text)
    } else if let array = value as? [Any] {
      for element in array { flatten(element, into: &fields, key: key) }
    } else if let object = value as? [String: Any] {
      for (k, v) in object.sorted(by: { $0.key < $1.key }) { flatten(v, into: &fields, key: k) }
    }
  }

  /// Compares as numbers when both sides are numbers (tshark writes some in hex).
  static func same(_ a: String, _ b: String) -> Bool {
    func number(_ s: String) -> UInt64? {
      s.hasPrefix("0x") ? UInt64(s.dropFirst(2), radix: 16) : UInt64(s)
    }
    if let x = number(a), let y = number(b) { return x == y }
    return a.lowercased() == b.lowercased()
  }

  @Test func wireBuiltFramesMatchTshark() throws {
    let frames = WireBuiltFrames.all
    // Wire must itself accept what it built.
    for frame in frames {
      let ok = frame.bytes.withUnsafeBytes { b -> Bool in (try? PacketParser.parse(b)) != nil }
      #expect(ok, "\(frame.name): PacketParser rejects its own frame")
    }
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "wire-oracle-\(UUID().uuidString).pcap")
    try PcapFile.write(frames.map(\.bytes), to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    let json = try OracleProcess.run(
      "/usr/bin/tshark",
      [
        "-r", url.path, "-T", "json", "--no-duplicate-keys",
        "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
        "-d", "tcp.port==443,tls",
      ])
    let decoded = try #require(try JSONSerialization.jsonObject(with: json) as? [[String: Any]])
    #expect(decoded.count == frames.count)
    var compared = 0
    for (frame, packet) in zip(frames, decoded) {
      let layers = try #require((packet["_source"] as? [String: Any])?["layers"])
      var fields: [String: [String]] = [:]
      Self.flatten(layers, into: &fields)
      for (name, occurrence, value) in frame.expected {
        let all = fields[name] ?? []
        let found =
          occurrence == anyOccurrence
          ? (all.first { Self.same($0, value) } ?? all.first)
          : (occurrence < all.count ? all[occurrence] : nil)
        #expect(
          found.map { Self.same($0, value) } == true,
          "\(frame.name): tshark \(name)[\(occurrence)] is \(found ?? "absent"), Wire built \(value)")
        compared += 1
      }
      // tshark flags malformed packets in an "_ws.malformed" layer.
      #expect(
        fields["_ws.malformed"] == nil
          && fields["_ws.expert.message"]?.contains(where: { $0.contains("Malformed") }) != true,
        "\(frame.name): tshark reports a malformed packet")
    }
    #expect(compared > 80)
  }
}
