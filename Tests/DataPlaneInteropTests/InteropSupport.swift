import DataPlane
import Foundation
import Testing
import Wire

/// This card (10.255.0.1) and a peer card (10.255.0.2): VPC 1 (Geneve,
/// VNI 1001) with local NIC a (port 1) and remote b; VPC 2 (VXLAN, VNI
/// 2002) with local NIC c (port 2) and remote d, where d is the Linux
/// vxlan device of the namespace test.
enum Interop {
  static let card = IPv4Address(10, 255, 0, 1)
  static let peer = IPv4Address(10, 255, 0, 2)
  static let cardMAC = MACAddress("02:ca:00:00:00:01")!
  static let routerMAC = MACAddress("02:ee:00:00:00:01")!
  static let gatewayMAC = MACAddress("02:00:5e:00:00:01")!
  static let macA = MACAddress("02:00:00:00:0a:01")!
  static let macB = MACAddress("02:00:00:00:0b:01")!
  static let macC = MACAddress("02:00:00:00:0c:01")!
  static let macD = MACAddress("02:00:00:00:0d:01")!
  static let ipA = IPv4Address(172, 16, 1, 10)
  static let ipB = IPv4Address(172, 16, 2, 20)
  static let ipC = IPv4Address(172, 16, 1, 10)
  static let ipD = IPv4Address(172, 16, 2, 20)

  static func configuration() -> NetworkConfiguration {
    let all = IPv4Prefix("172.16.0.0/16")!
    return NetworkConfiguration(
      card: CardSettings(
        underlayAddress: .v4(card), underlayMAC: cardMAC, underlayRouterMAC: routerMAC, gatewayMAC: gatewayMAC
      ),
      vpcs: [
        VPC(id: 1, tenant: 1, ipv4CIDRs: [all], vni: 1001, encapsulation: .geneve),
        VPC(id: 2, tenant: 2, ipv4CIDRs: [all], vni: 2002, encapsulation: .vxlan),
      ],
      subnets: [
        Subnet(id: 1, vpc: 1, ipv4: all, gatewayIPv4: IPv4Address(172, 16, 0, 1)),
        Subnet(id: 2, vpc: 2, ipv4: all, gatewayIPv4: IPv4Address(172, 16, 0, 1)),
      ],
      nics: [
        NIC(id: 1, subnet: 1, mac: macA, primaryIPv4: ipA, securityGroups: [1], card: .v4(card), port: 1),
        NIC(id: 2, subnet: 1, mac: macB, primaryIPv4: ipB, securityGroups: [1], card: .v4(peer), port: 0),
        NIC(id: 3, subnet: 2, mac: macC, primaryIPv4: ipC, securityGroups: [2], card: .v4(card), port: 2),
        NIC(id: 4, subnet: 2, mac: macD, primaryIPv4: ipD, securityGroups: [2], card: .v4(peer), port: 0),
      ],
      securityGroups: [
        SecurityGroup(id: 1, inbound: [SecurityRule(.any, .securityGroup(1))]),
        SecurityGroup(id: 2, inbound: [SecurityRule(.any, .securityGroup(2))]),
      ])
  }

  /// Runs one frame through a fresh data plane; returns verdict, port, bytes.
  static func run(_ plane: DataPlane, port: UInt16, _ frame: [UInt8]) -> (Verdict, UInt16, [UInt8]) {
    let pool = PacketPool(bufferCount: 2)
    var buffer = pool.take()!
    _ = frame.withUnsafeBytes { buffer.load($0, headroom: pool.headroom) }
    buffer.inputPort = port
    var batch = PacketBatch()
    batch.append(buffer)
    plane.process(&batch, now: 1_000_000_000)
    let out = batch[0]
    defer { pool.give(out) }
    return (out.verdict, out.outputPort, out.verdict == .forward ? out.bytes : [])
  }

  static func udpFrame(
    srcMAC: MACAddress, dstMAC: MACAddress, src: IPv4Address, dst: IPv4Address, payload: [UInt8]
  )
    -> [UInt8]
  {
    var b = [UInt8](repeating: 0, count: 42 + payload.count)
    b.withUnsafeMutableBytes { p in
      EthernetHeader(destination: dstMAC, source: srcMAC, etherType: .ipv4).emit(into: p)
      IPv4Header(source: src, destination: dst, protocol: .udp, payloadLength: 8 + payload.count)
        .emit(into: UnsafeMutableRawBufferPointer(rebasing: p[14...]))
      let udp = UnsafeMutableRawBufferPointer(rebasing: p[34...])
      for (i, x) in payload.enumerated() { udp[8 + i] = x }
      UDPHeader(sourcePort: 40000, destinationPort: 53, payloadLength: payload.count).emit(into: udp)
      UDPDatagram(unchecked: udp).fillChecksum(
        pseudoHeaderSum: InternetChecksum.pseudoHeaderSum(
          source: src, destination: dst, protocol: .udp, length: 8 + payload.count))
    }
    return b
  }

  static var scripts: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts")
  }

  struct Failure: Error, CustomStringConvertible { let description: String }

  /// Runs a program; returns its standard output, throws with its error
  /// output when it fails.
  @discardableResult
  static func run(_ executable: String, _ arguments: [String]) throws -> String {
    guard FileManager.default.isExecutableFile(atPath: executable) else {
      throw Failure(description: "\(executable) is missing: run scripts/setup.sh")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let errorURL = FileManager.default.temporaryDirectory.appendingPathComponent(
      "dp-interop-\(UUID().uuidString).err")
    _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: errorURL) }
    let output = Pipe()
    process.standardOutput = output
    process.standardError = try FileHandle(forWritingTo: errorURL)
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      let message = String(decoding: (try? Data(contentsOf: errorURL)) ?? Data(), as: UTF8.self)
      throw Failure(
        description: "\(executable) \(arguments.joined(separator: " ")) failed: \(message.suffix(1500))")
    }
    return String(decoding: data, as: UTF8.self)
  }

  static func writePcap(_ frames: [[UInt8]], to url: URL) throws {
    var data = Data()
    func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    u32(0xa1b2_c3d4)
    u16(2)
    u16(4)
    u32(0)
    u32(0)
    u32(65535)
    u32(1)  // LINKTYPE_ETHERNET
    for frame in frames {
      u32(0)
      u32(0)
      u32(UInt32(frame.count))
      u32(UInt32(frame.count))
      data.append(contentsOf: frame)
    }
    try data.write(to: url)
  }

  static func hexBytes(_ text: some StringProtocol) -> [UInt8] {
    var out: [UInt8] = []
    var i = text.startIndex
    while i < text.endIndex, text.index(after: i) < text.endIndex {
      let next = text.index(i, offsetBy: 2)
      if let b = UInt8(text[i..<next], radix: 16) { out.append(b) }
      i = next
    }
    return out
  }
}
