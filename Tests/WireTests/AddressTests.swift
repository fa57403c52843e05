import Testing
import Wire

@Suite struct AddressTests {
  @Test func macParseAndPrint() {
    let mac = MACAddress("02:00:5E:10:00:01")
    #expect(mac == MACAddress(0x02, 0x00, 0x5e, 0x10, 0x00, 0x01))
    #expect(mac?.description == "02:00:5e:10:00:01")
    #expect(MACAddress("02-00-5e-10-00-01") == mac)
    #expect(MACAddress("ff:ff:ff:ff:ff:ff")?.isBroadcast == true)
    #expect(MACAddress("01:00:5e:00:00:01")?.isMulticast == true)
    #expect(mac?.isLocallyAdministered == true)
    for bad in [
      "", "02:00:5e:10:00", "02:00:5e:10:00:01:02", "02:00:5e:10:00:1g", "020:0:5e:10:00:01",
      "02:00-5e:10:00:01", ":02:00:5e:10:00:01", "02:00:5e:10:00:",
    ] {
      #expect(MACAddress(bad) == nil, "\(bad)")
    }
    #expect(MACAddress(1, 0, 0, 0, 0, 0) > MACAddress(0, 0xff, 0xff, 0xff, 0xff, 0xff))
  }

  @Test func ipv4ParseAndPrint() {
    #expect(IPv4Address("10.0.0.1") == IPv4Address(rawValue: 0x0a00_0001))
    #expect(IPv4Address("255.255.255.255") == .broadcast)
    #expect(IPv4Address(192, 168, 1, 20).description == "192.168.1.20")
    #expect(IPv4Address("0.0.0.0")?.isUnspecified == true)
    for bad in [
      "", "1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "1..2.3", "1.2.3.4 ", "a.b.c.d", "1.2.3.-4",
    ] {
      #expect(IPv4Address(bad) == nil, "\(bad)")
    }
    #expect(IPv4Address(10, 0, 0, 1) < IPv4Address(10, 0, 0, 2))
  }

  @Test func ipv6ParseAndPrint() throws {
    let cases: [(String, String)] = [
      ("2001:db8::1", "2001:db8::1"),
      ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
      ("::", "::"),
      ("::1", "::1"),
      ("fe80::", "fe80::"),
      ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
      ("1:0:0:2:0:0:3:4", "1::2:0:0:3:4"),
      ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
      ("::ffff:10.0.0.1", "::ffff:a00:1"),
      ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
    ]
    for (text, canonical) in cases {
      let address = try #require(IPv6Address(text), "\(text)")
      #expect(address.description == canonical)
      #expect(IPv6Address(canonical) == address)
    }
    for bad in [
      "", ":", ":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "12345::", "1:2:3:4:5:6:7", "g::", "1:",
      ":1", "1:2:3:4:5:6:7:8::", "::1.2.3", "1.2.3.4::",
    ] {
      #expect(IPv6Address(bad) == nil, "\(bad)")
    }
    #expect(IPv6Address("fe80::1")?.isLinkLocal == true)
    #expect(IPv6Address("ff02::1")?.isMulticast == true)
    #expect(IPv6Address("2001:db8::12:3456")?.solicitedNodeMulticast == IPv6Address("ff02::1:ff12:3456"))
  }

  @Test func prefixes() throws {
    let p = try #require(IPv4Prefix("10.1.2.3/16"))
    #expect(p.description == "10.1.0.0/16")
    #expect(p.contains(IPv4Address(10, 1, 200, 7)))
    #expect(!p.contains(IPv4Address(10, 2, 0, 0)))
    #expect(IPv4Prefix("0.0.0.0/0")?.contains(IPv4Address(1, 2, 3, 4)) == true)
    #expect(IPv4Prefix("10.0.0.1/32")?.contains(IPv4Address(10, 0, 0, 1)) == true)
    #expect(IPv4Prefix("10.0.0.0/33") == nil)
    #expect(IPv4Prefix("10.0.0.0/08") == nil)
    #expect(IPv4Prefix("10.0.0.0") == nil)
    #expect(p.contains(try #require(IPv4Prefix("10.1.3.0/24"))))
    #expect(p.netmask == IPv4Address(255, 255, 0, 0))
    let q = try #require(IPv6Prefix("2001:db8:ff::1/40"))
    #expect(q.description == "2001:db8::/40")
    #expect(q.contains(try #require(IPv6Address("2001:db8:ff::2"))))
    #expect(!q.contains(try #require(IPv6Address("2001:db9::"))))
    #expect(IPv6Prefix("::/0")?.contains(IPv6Address.loopback) == true)
    let host = try #require(IPv6Prefix("2001:db8::1/128"))
    #expect(host.contains(try #require(IPv6Address("2001:db8::1"))))
    #expect(!host.contains(try #require(IPv6Address("2001:db8::2"))))
    let p96 = try #require(IPv6Prefix("2001:db8::abcd:1234/96"))
    #expect(p96.address == IPv6Address("2001:db8::"))
    #expect(IPv6Prefix("::/129") == nil)
  }
}
