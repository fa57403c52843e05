/// An Ethernet MAC address in `aa:bb:cc:dd:ee:ff` form.
public struct MACAddress: Hashable, Sendable, CustomStringConvertible {
  public var bytes: [UInt8]

  public init?(_ text: String) {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 6 else { return nil }
    var bytes: [UInt8] = []
    for part in parts {
      guard part.count == 2, let byte = UInt8(part, radix: 16) else { return nil }
      bytes.append(byte)
    }
    self.bytes = bytes
  }

  public init(bytes: [UInt8]) { self.bytes = bytes }

  /// IEEE 802 §8.2: the I/G bit of the first octet marks group addresses,
  /// which a NIC may not own.
  public var isMulticast: Bool { bytes[0] & 1 == 1 }

  public var description: String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: ":")
  }
}
