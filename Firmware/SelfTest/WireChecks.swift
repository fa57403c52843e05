// Wire checks for the firmware self-test: each format is built with the
// Wire builders, compared with bytes recorded from the host build (which
// the oracle tests check against scapy and tshark), and parsed back.
import Wire

/// Runs every wire check; returns the number that failed.
func runWireChecks() -> Int {
  var failures = 0
  func check(_ name: String, _ passed: Bool) {
    print("wire: " + name + (passed ? " ok" : " FAILED"))
    if !passed { failures += 1 }
  }
  check("checksum", checksumCheck())
  check("addresses", addressCheck())
  check("ipv4-udp", ipv4UDPCheck())
  check("arp", arpCheck())
  check("ipv6-tcp", ipv6TCPCheck())
  check("ipv6-extension-headers", ipv6ExtensionCheck())
  check("icmpv4", icmpv4Check())
  check("icmpv6-nd", icmpv6Check())
  check("vxlan", vxlanCheck())
  check("geneve", geneveCheck())
  check("esp", espCheck())
  check("tls", tlsCheck())
  return failures
}

/// Lets `build` write `count` bytes and compares them with `expected`;
/// prints the built bytes on a mismatch, for the record.
func built(_ count: Int, equals expected: [UInt8], _ build: (UnsafeMutableRawBufferPointer) -> Void) -> Bool {
  var bytes = [UInt8](repeating: 0, count: count)
  bytes.withUnsafeMutableBytes { build($0) }
  if bytes == expected { return true }
  var text = "  built: "
  for byte in bytes {
    text += byte < 16 ? "0" : ""
    text += String(byte, radix: 16)
  }
  print(text)
  return false
}

/// Runs `body` over a mutable copy of `bytes`; false if it throws.
func parsing(_ bytes: [UInt8], _ body: (UnsafeMutableRawBufferPointer) throws(WireError) -> Bool) -> Bool {
  var copy = bytes
  return copy.withUnsafeMutableBytes { buffer -> Bool in
    do throws(WireError) {
      return try body(buffer)
    } catch {
      print("  " + error.description)
      return false
    }
  }
}

let macA = MACAddress(0x02, 0, 0, 0, 0, 0x0a)
let macB = MACAddress(0x02, 0, 0, 0, 0, 0x0b)
let v4A = IPv4Address(10, 0, 0, 1)
let v4B = IPv4Address(10, 0, 0, 2)
let v6A = IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xa)
let v6B = IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xb)

func region(_ b: UnsafeMutableRawBufferPointer, from offset: Int) -> UnsafeMutableRawBufferPointer {
  UnsafeMutableRawBufferPointer(rebasing: b[offset...])
}

/// RFC 1071 §3's example, and the incremental update of RFC 1624.
func checksumCheck() -> Bool {
  let words: [UInt8] = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]
  let sum = words.withUnsafeBytes { InternetChecksum.sum($0) }
  var header: [UInt8] = [
    0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0, 0, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7,
  ]
  let full = header.withUnsafeBytes { InternetChecksum.checksum($0) }
  header[8] = 0x3f
  let recomputed = header.withUnsafeBytes { InternetChecksum.checksum($0) }
  let incremental = InternetChecksum.update(full, replacing: UInt16(0x4011), with: UInt16(0x3f11))
  return sum == 0xddf2 && full == 0xb861 && incremental == recomputed
}

func addressCheck() -> Bool {
  IPv4Address("10.0.0.1") == v4A && IPv6Address("2001:db8::a") == v6A && v6A.description == "2001:db8::a"
    && MACAddress("02:00:00:00:00:0a") == macA && IPv4Prefix("10.0.0.0/8")?.contains(v4B) == true
    && IPv6Prefix("2001:db8::/32")?.contains(v6B) == true && IPv4Address("10.0.0.256") == nil
}
