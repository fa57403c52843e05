import CardCrypto
import DataPlane
import Foundation
import Ipsec
import Testing
import Wire

@testable import Emulator

extension Guests {
  /// Linux's own IPsec (xfrm, `rfc4106(gcm(aes))`, tunnel mode, ESN) as
  /// the outside gateway, both ways. The guest (underlay 10.255.0.2, a
  /// site 192.168.50.0/24 behind it) is wired to this test by a datagram
  /// NIC; this test is the card (underlay 10.255.0.1) with a tenant NIC
  /// 172.16.1.10 behind it, and runs our ESP stage on every frame.
  /// 1. Linux → us: the guest pings the tenant NIC; its xfrm states seal
  ///    the echo requests, our data path opens them, and our echo replies,
  ///    sealed by us, must satisfy the guest's ping (it checks them).
  /// 2. Us → Linux: we send an echo request sealed by us to the site;
  ///    Linux must open it and answer, sealed, and we must open the answer.
  /// 3. The capture of every frame on the link, both ways, holds IPv4
  ///    only as ESP (tshark decodes it, an oracle independent of our
  ///    parser).
  @Suite struct LinuxXfrmInteropTests {
    static let card = IPv4Address(10, 255, 0, 1)
    static let peer = IPv4Address(10, 255, 0, 2)
    static let cardMAC = MACAddress("02:ca:00:00:00:01")!
    static let guestMAC = MACAddress("02:ee:00:00:00:01")!
    static let tenant = IPv4Address(172, 16, 1, 10)
    static let site = IPv4Address(192, 168, 50, 1)
    /// Key material (AES-128 key, then the 4-byte salt, RFC 4106 §8.1)
    /// per direction, and the SPIs each receiver chose.
    static let keyToCard = "5a3cf0e1d2c3b4a5968778695a4b3c2d11223344"
    static let keyToGuest = "0f1e2d3c4b5a69788796a5b4c3d2e1f055667788"
    static let spiToCard: UInt32 = 0x2001
    static let spiToGuest: UInt32 = 0x1001

    @Test func kernelXfrmInteroperatesBothWays() throws {
      let image = try GuestFixture.image.get()
      let directory = try GuestFixture.directory("xfrm")
      let underlay = try DatagramSocket(path: directory + "/t.sock")
      let aead = "aead 'rfc4106(gcm(aes))'"
      let scenario = """
        ip link set lo up
        ip addr add 10.255.0.2/24 dev eth0
        ip link set eth0 up
        ip addr add 192.168.50.1/24 dev lo
        ip neigh replace 10.255.0.1 lladdr \(Self.cardMAC) dev eth0
        step state-out ip xfrm state add src 10.255.0.2 dst 10.255.0.1 proto esp spi \(Self.spiToCard) reqid 1 mode tunnel \(aead) 0x\(Self.keyToCard) 128 flag esn replay-window 128
        step state-in ip xfrm state add src 10.255.0.1 dst 10.255.0.2 proto esp spi \(Self.spiToGuest) reqid 1 mode tunnel \(aead) 0x\(Self.keyToGuest) 128 flag esn replay-window 128
        step policy-out ip xfrm policy add src 192.168.50.0/24 dst 172.16.0.0/16 dir out tmpl src 10.255.0.2 dst 10.255.0.1 proto esp reqid 1 mode tunnel
        step policy-in ip xfrm policy add src 172.16.0.0/16 dst 192.168.50.0/24 dir in tmpl src 10.255.0.1 dst 10.255.0.2 proto esp reqid 1 mode tunnel
        ip route add 172.16.0.0/16 via 10.255.0.1 dev eth0 src 192.168.50.1
        report configured=yes
        step ping ping -c 3 -W 10 172.16.1.10
        # Time for the echo request the other way.
        sleep 8
        report done=yes
        """
      var configuration = GuestConfiguration(name: "xfrm", image: image, scenario: scenario)
      configuration.nics = [
        GuestNIC(
          .dgram(local: directory + "/q.sock", remote: directory + "/t.sock"), mac: Self.guestMAC.description)
      ]
      let guest = try Guest(configuration, directory: directory)
      defer { guest.stop() }

      let database = SecurityAssociationDatabase(capacity: 4, outboundSlots: 1)
      let inbound = try Self.sa(.inbound, spi: Self.spiToCard, key: Self.keyToCard)
      let outbound = try Self.sa(.outbound, spi: Self.spiToGuest, key: Self.keyToGuest)
      try database.installInbound(inbound)
      try database.setOutbound(outbound, slot: 0)
      let selector = TrafficSelector(
        local: .v4(IPv4Prefix(address: IPv4Address(172, 16, 0, 0), length: 16)!),
        remote: .v4(IPv4Prefix(address: IPv4Address(192, 168, 50, 0), length: 24)!))
      let path = IpsecDataPath(
        database: database, policies: [SecurityPolicy(selector: selector, action: .protect(outboundSlot: 0))])
      let pool = PacketPool(bufferCount: 8)

      var capture: [[UInt8]] = []
      var answered = 0
      var sentRequest = false
      var gotReply = false
      let identifier: UInt16 = 0xb00c
      let deadline = Date().addingTimeInterval(120)
      while Date() < deadline && !(answered >= 3 && gotReply) {
        guard let frame = underlay.receive(timeout: 2, matching: { _ in true }) else { continue }
        capture.append(frame)
        guard frame.count >= 34, frame[12] == 0x08, frame[13] == 0x00, frame[23] == IPProtocol.esp.rawValue
        else { continue }
        guard
          let inner = Self.through(
            pool, frame, { path.openOne(&$0, now: 1) }, expect: .opened(spi: Self.spiToCard))
        else {
          Issue.record("an ESP frame from Linux did not open: \(path.outcomes[0])")
          continue
        }
        switch Self.icmpType(inner) {
        case 8:
          // Linux -> us: answer the echo request, sealed.
          let reply = Self.echoReply(to: inner)
          let sealed = try #require(
            Self.through(pool, reply, { path.sealOne(&$0, now: 1) }, expect: .sealed(spi: Self.spiToGuest)))
          try underlay.send(sealed, to: directory + "/q.sock")
          capture.append(sealed)
          answered += 1
          if !sentRequest {
            // Us -> Linux.
            let request = Self.echoRequest(identifier: identifier)
            let sealedRequest = try #require(
              Self.through(
                pool, request, { path.sealOne(&$0, now: 1) }, expect: .sealed(spi: Self.spiToGuest)))
            try underlay.send(sealedRequest, to: directory + "/q.sock")
            capture.append(sealedRequest)
            sentRequest = true
          }
        case 0:
          if Self.icmpIdentifier(inner) == identifier { gotReply = true }
        default:
          break
        }
      }
      #expect(answered >= 3, "echo requests from Linux opened and answered")
      #expect(gotReply, "Linux did not answer our sealed echo request")
      let outcome = try guest.waitUntilDone(timeout: 60)
      for step in ["state-out", "state-in", "policy-out", "policy-in", "ping"] {
        #expect(outcome.results.contains { $0["step"] == step && $0["ok"] == "true" }, "guest step \(step)")
      }
      #expect(inbound.counters.packets >= 4 && inbound.counters.totalDrops == 0)
      #expect(outbound.counters.packets >= 4)

      // The wire: every IPv4 frame either side sent is ESP, by our reading
      // and by tshark's.
      let ipv4 = capture.filter { $0.count >= 34 && $0[12] == 0x08 && $0[13] == 0x00 }
      #expect(ipv4.count >= 8)
      #expect(ipv4.allSatisfy { $0[23] == IPProtocol.esp.rawValue })
      let protocols = try Self.tsharkIPProtocols(capture, directory: directory)
      #expect(protocols.count == ipv4.count)
      #expect(protocols.allSatisfy { $0 == "50" }, "tshark saw \(Set(protocols))")
    }

    static func sa(_ direction: SecurityAssociationParameters.Direction, spi: UInt32, key: String) throws
      -> SecurityAssociation
    {
      let parameters = SecurityAssociationParameters(
        spi: spi, direction: direction,
        mode: .tunnel(local: .v4(card), remote: .v4(peer)), suite: .aesGCM128, extendedSequenceNumbers: true,
        replayWindowSize: 1024)
      return try SecurityAssociation(parameters, keyMaterial: try SymmetricKey(hex: key), installedAt: 0)
    }

    /// Runs one frame through `stage`; the resulting frame if the outcome
    /// is `expect`.
    static func through(
      _ pool: PacketPool, _ frame: [UInt8], _ stage: (inout PacketBuffer) -> EspOutcome, expect: EspOutcome
    ) -> [UInt8]? {
      var buffer = pool.take()!
      defer { pool.give(buffer) }
      _ = frame.withUnsafeBytes { buffer.load($0, headroom: pool.headroom) }
      let outcome = stage(&buffer)
      return outcome == expect ? buffer.bytes : nil
    }

    /// The ICMP header offset in an Ethernet + IPv4 frame carrying ICMP.
    static func icmpOffset(_ frame: [UInt8]) -> Int? {
      guard frame.count >= 14 + 20 + 8, frame[12] == 0x08, frame[13] == 0x00, frame[23] == 1 else {
        return nil
      }
      return 14 + Int(frame[14] & 0xf) * 4
    }

    static func icmpType(_ frame: [UInt8]) -> UInt8? { icmpOffset(frame).map { frame[$0] } }

    static func icmpIdentifier(_ frame: [UInt8]) -> UInt16? {
      icmpOffset(frame).map { UInt16(frame[$0 + 4]) << 8 | UInt16(frame[$0 + 5]) }
    }

    /// RFC 792: the echo reply swaps the addresses and keeps the rest.
    static func echoReply(to request: [UInt8]) -> [UInt8] {
      var frame = request
      let icmp = icmpOffset(request)!
      let total = 14 + (Int(request[16]) << 8 | Int(request[17]))
      frame = Array(frame[..<total])
      for i in 0..<6 {
        frame[i] = request[6 + i]
        frame[6 + i] = request[i]
      }
      for i in 0..<4 {
        frame[26 + i] = request[30 + i]
        frame[30 + i] = request[26 + i]
      }
      frame[icmp] = 0
      frame[icmp + 2] = 0
      frame[icmp + 3] = 0
      let checksum = frame[icmp...].withUnsafeBytes { InternetChecksum.checksum($0) }
      frame[icmp + 2] = UInt8(checksum >> 8)
      frame[icmp + 3] = UInt8(checksum & 0xff)
      return frame
    }

    /// ICMP echo request (RFC 792) from the tenant NIC to the site.
    static func echoRequest(identifier: UInt16) -> [UInt8] {
      let payload = [UInt8]("bulkhead-esp-interop".utf8)
      var frame = [UInt8](repeating: 0, count: 14 + 20 + 8 + payload.count)
      frame.withUnsafeMutableBytes { p in
        EthernetHeader(destination: guestMAC, source: cardMAC, etherType: .ipv4).emit(into: p)
        IPv4Header(source: tenant, destination: site, protocol: .icmp, payloadLength: 8 + payload.count)
          .emit(into: UnsafeMutableRawBufferPointer(rebasing: p[14...]))
        let icmp = UnsafeMutableRawBufferPointer(rebasing: p[34...])
        icmp[0] = 8
        icmp[4] = UInt8(identifier >> 8)
        icmp[5] = UInt8(identifier & 0xff)
        icmp[7] = 1
        for (i, x) in payload.enumerated() { icmp[8 + i] = x }
        let checksum = InternetChecksum.checksum(UnsafeRawBufferPointer(icmp))
        icmp[2] = UInt8(checksum >> 8)
        icmp[3] = UInt8(checksum & 0xff)
      }
      return frame
    }

    /// Writes the frames as a pcap file (libpcap format, LINKTYPE_ETHERNET)
    /// and asks tshark for the IP protocol of each IPv4 frame.
    static func tsharkIPProtocols(_ frames: [[UInt8]], directory: String) throws -> [String] {
      var file: [UInt8] = []
      func little32(_ v: UInt32) {
        for s in [0, 8, 16, 24] { file.append(UInt8(truncatingIfNeeded: v >> UInt32(s))) }
      }
      func little16(_ v: UInt16) { file += [UInt8(v & 0xff), UInt8(v >> 8)] }
      little32(0xa1b2_c3d4)
      little16(2)
      little16(4)
      little32(0)
      little32(0)
      little32(65535)
      little32(1)
      for (i, frame) in frames.enumerated() {
        little32(UInt32(i))
        little32(0)
        little32(UInt32(frame.count))
        little32(UInt32(frame.count))
        file += frame
      }
      let path = directory + "/underlay.pcap"
      try Data(file).write(to: URL(fileURLWithPath: path))
      let process = Process()
      process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      process.arguments = ["tshark", "-r", path, "-Y", "ip", "-T", "fields", "-e", "ip.proto"]
      let output = Pipe()
      process.standardOutput = output
      process.standardError = FileHandle.nullDevice
      try process.run()
      let data = output.fileHandleForReading.readDataToEndOfFile()
      process.waitUntilExit()
      return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }
  }
}
