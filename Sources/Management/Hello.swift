/// The first message each side sends after the TLS handshake: who it is and
/// what it can do. The card's identity here must match its certificate (the
/// controller checks; the codec only carries it).
public struct Hello: Sendable, Equatable {
  public var cardID: String
  public var firmwareVersion: String
  public var capabilities: Capabilities
  /// Highest management protocol version the sender speaks.
  public var maximumVersion: UInt8
  /// The generation the card runs (from its state file after a restart),
  /// 0 if none: the controller pushes only when it differs from desired.
  public var appliedGeneration: UInt64

  public init(
    cardID: String, firmwareVersion: String, capabilities: Capabilities,
    maximumVersion: UInt8 = FrameHeader.currentVersion, appliedGeneration: UInt64 = 0
  ) {
    self.cardID = cardID
    self.firmwareVersion = firmwareVersion
    self.capabilities = capabilities
    self.maximumVersion = maximumVersion
    self.appliedGeneration = appliedGeneration
  }

  enum Tag {
    static let cardID: UInt8 = 1
    static let firmwareVersion: UInt8 = 2
    static let capabilities: UInt8 = 3
    static let maximumVersion: UInt8 = 4
    /// Optional: a sender that predates it is read as generation 0.
    static let appliedGeneration: UInt8 = 5
  }

  public func encode(into fields: inout TLVWriter) throws(ManagementError) {
    try fields.field(Tag.cardID, cardID)
    try fields.field(Tag.firmwareVersion, firmwareVersion)
    fields.field(Tag.capabilities, capabilities.rawValue)
    fields.field(Tag.maximumVersion, maximumVersion)
    fields.field(Tag.appliedGeneration, appliedGeneration)
  }

  public static func decode(_ payload: ArraySlice<UInt8>) throws(ManagementError) -> Hello {
    var reader = TLVReader(payload)
    var seen = SeenFields()
    var hello = Hello(cardID: "", firmwareVersion: "", capabilities: [])
    while let field = try reader.next() {
      switch field.tag {
      case Tag.cardID: hello.cardID = try field.string()
      case Tag.firmwareVersion: hello.firmwareVersion = try field.string()
      case Tag.capabilities: hello.capabilities = Capabilities(rawValue: try field.uint64())
      case Tag.maximumVersion: hello.maximumVersion = try field.uint8()
      case Tag.appliedGeneration: hello.appliedGeneration = try field.uint64()
      default: continue
      }
      try seen.insert(field.tag)
    }
    try seen.require(Tag.cardID, Tag.firmwareVersion)
    return hello
  }
}

/// What a card's firmware and hardware can do; unknown bits are kept so a
/// controller can show them.
public struct Capabilities: Sendable, OptionSet, Equatable {
  public let rawValue: UInt64
  public init(rawValue: UInt64) { self.rawValue = rawValue }

  public static let geneve = Capabilities(rawValue: 1 << 0)
  public static let vxlan = Capabilities(rawValue: 1 << 1)
  public static let ipsecOffload = Capabilities(rawValue: 1 << 2)
  public static let tlsOffload = Capabilities(rawValue: 1 << 3)
  public static let volumeEncryption = Capabilities(rawValue: 1 << 4)
  public static let hardwareFlowRules = Capabilities(rawValue: 1 << 5)

  /// Names for display, in bit order.
  public static let named: [(Capabilities, String)] = [
    (.geneve, "geneve"), (.vxlan, "vxlan"), (.ipsecOffload, "ipsec-offload"),
    (.tlsOffload, "tls-offload"), (.volumeEncryption, "volume-encryption"),
    (.hardwareFlowRules, "hardware-flow-rules"),
  ]
}
