import CFirmwareImage

/// A SHA-256 digest (FIPS 180-4), shown as lowercase hex in manifests.
public struct SHA256Digest: Hashable, Sendable, CustomStringConvertible {
  public let bytes: [UInt8]

  public init(of data: [UInt8]) {
    var digest = [UInt8](repeating: 0, count: Int(BH_SHA256_BYTES))
    // Sound: both buffers are valid for the lengths passed.
    let status = data.withUnsafeBufferPointer { input in
      bh_sha256(input.baseAddress, input.count, &digest)
    }
    precondition(status == 0, "OpenSSL's SHA-256 failed")
    bytes = digest
  }

  public init?(hex: some StringProtocol) {
    guard let bytes = Hex.decode(hex), bytes.count == Int(BH_SHA256_BYTES) else { return nil }
    self.bytes = bytes
  }

  public var description: String { Hex.encode(bytes) }
}

/// Lowercase hexadecimal, as manifests and key files write bytes.
public enum Hex {
  public static func encode(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var text: [UInt8] = []
    for byte in bytes {
      text.append(digits[Int(byte >> 4)])
      text.append(digits[Int(byte & 0xf)])
    }
    return String(decoding: text, as: UTF8.self)
  }

  /// Nil unless `text` is an even number of hex digits.
  public static func decode(_ text: some StringProtocol) -> [UInt8]? {
    let utf8 = Array(text.utf8)
    guard utf8.count % 2 == 0 else { return nil }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(utf8.count / 2)
    var index = 0
    while index < utf8.count {
      guard let high = value(utf8[index]), let low = value(utf8[index + 1]) else { return nil }
      bytes.append(high << 4 | low)
      index += 2
    }
    return bytes
  }

  private static func value(_ digit: UInt8) -> UInt8? {
    switch digit {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
    default: return nil
    }
  }
}
