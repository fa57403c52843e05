/// The type-length-value options of a neighbour-discovery message
/// (RFC 4861 §4.6), walked in place. Per packet; no allocation.
public struct NDPOptions {
  public enum OptionType {
    public static let sourceLinkLayerAddress: UInt8 = 1
    public static let targetLinkLayerAddress: UInt8 = 2
    public static let prefixInformation: UInt8 = 3
    public static let mtu: UInt8 = 5
  }

  /// One option: its type and its bytes after the type and length octets.
  public struct Option {
    public let type: UInt8
    public let data: UnsafeRawBufferPointer

    @inlinable
    public init(type: UInt8, data: UnsafeRawBufferPointer) {
      self.type = type
      self.data = data
    }

    /// The MAC address of a link-layer address option on Ethernet
    /// (RFC 2464 §6), or nil if the option is not six bytes of address.
    public var linkLayerAddress: MACAddress? {
      guard type == OptionType.sourceLinkLayerAddress || type == OptionType.targetLinkLayerAddress,
        data.count == 6, let base = data.baseAddress
      else { return nil }
      return MACAddress(loadingFrom: base)
    }
  }

  @usableFromInline let bytes: UnsafeRawBufferPointer
  @usableFromInline var offset = 0

  @inlinable
  init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

  /// The next option, nil at the end, or `badOption` for a zero length
  /// (RFC 4861 §4.6: "nodes MUST silently discard") or one that runs past
  /// the end.
  @inlinable
  public mutating func next() throws(WireError) -> Option? {
    guard offset < bytes.count else { return nil }
    guard offset + 2 <= bytes.count else { throw .badOption }
    let length = Int(bytes[offset + 1]) * 8
    guard length > 0, offset + length <= bytes.count else { throw .badOption }
    let option = Option(
      type: bytes[offset], data: UnsafeRawBufferPointer(rebasing: bytes[(offset + 2)..<(offset + length)]))
    offset += length
    return option
  }

  /// The link-layer address in the first option of `type`; nil if absent.
  @inlinable
  public func linkLayerAddress(ofType type: UInt8) throws(WireError) -> MACAddress? {
    var walk = self
    while let option = try walk.next() {
      if option.type == type { return option.linkLayerAddress }
    }
    return nil
  }
}

/// A source or target link-layer address option for Ethernet (8 bytes).
public struct NDPLinkLayerAddressOption: Hashable, Sendable {
  public var type: UInt8
  public var address: MACAddress

  public init(type: UInt8, address: MACAddress) {
    self.type = type
    self.address = address
  }

  public static let length = 8
  public var headerLength: Int { Self.length }

  public func emit(into buffer: UnsafeMutableRawBufferPointer) {
    precondition(buffer.count >= Self.length)
    buffer[0] = type
    buffer[1] = 1
    address.store(to: buffer.baseAddress.unsafelyUnwrapped + 2)
  }
}
