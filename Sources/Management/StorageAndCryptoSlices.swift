// The volume and IPsec parts of a card's desired state. Keys never travel in
// the clear: each carries key material wrapped (RFC 3394/5649) by the card's
// key-encryption key, which the card unwraps into its own key store.

/// The cipher of a volume or SA, by a stable number.
public enum SliceCipher: UInt8, Sendable, Equatable {
  case aesXTS128 = 1
  case aesXTS256 = 2
  case aesGCM128 = 3
  case aesGCM256 = 4
}

/// A volume served to a guest as virtio-blk: one guest attachment of a
/// volume to this card. The card keys its running volumes by
/// `hostFunction` (the socket or PCI function the guest's front-end uses):
/// a volume whose function is new is attached, one no longer in the slice
/// is detached (flushed, key zeroed), one whose `sizeBytes` grew is resized
/// in place, and one whose backend, key, cipher or sector size changed is
/// detached and attached again.
public struct VolumeSlice: Sendable, Equatable {
  /// Stable for the volume's life (the controller's number for it): the
  /// card's logs and GET_ID (`bulkhead-vol-<id>`) use it.
  public var id: UInt32
  public var sizeBytes: UInt64
  public var cipher: SliceCipher
  /// The 64-byte XTS data key (Key1 ‖ Key2), wrapped (RFC 5649) with the
  /// card's key-encryption key: 72 bytes.
  public var wrappedKey: [UInt8]
  /// Where the ciphertext lives, in the card's `backend=` syntax:
  /// `file:PATH`, `nbd:IPV4:PORT` or `nbd:unix:PATH`.
  public var backend: String
  /// The NBD export name (NBD backends only; empty is the default export).
  public var exportName: String
  /// The XTS data unit and the device's `blk_size`: 512 or 4096.
  public var sectorSize: UInt16
  public var readOnly: Bool
  /// The host function the guest's front-end connects to. In the emulator
  /// a vhost-user-blk socket's file name, which the card places in its
  /// host-function directory: a plain name of 1 to 64 letters, digits,
  /// `.`, `-`, `_` or `:` (a PCI address such as `0000:3b:00.2` is one),
  /// not starting with `.`; anything else is refused by the card.
  public var hostFunction: String
  /// Request queues offered (virtio 1.2 §5.2.3 num_queues), 1...16.
  public var queues: UInt16

  public init(
    id: UInt32, sizeBytes: UInt64, cipher: SliceCipher, wrappedKey: [UInt8], backend: String,
    exportName: String = "", sectorSize: UInt16 = 4096, readOnly: Bool = false, hostFunction: String = "",
    queues: UInt16 = 2
  ) {
    self.id = id
    self.sizeBytes = sizeBytes
    self.cipher = cipher
    self.wrappedKey = wrappedKey
    self.backend = backend
    self.exportName = exportName
    self.sectorSize = sectorSize
    self.readOnly = readOnly
    self.hostFunction = hostFunction
    self.queues = queues
  }

  enum Tag {
    static let id: UInt8 = 1
    static let sizeBytes: UInt8 = 2
    static let cipher: UInt8 = 3
    static let wrappedKey: UInt8 = 4
    static let backend: UInt8 = 5
    static let exportName: UInt8 = 6
    static let sectorSize: UInt8 = 7
    static let readOnly: UInt8 = 8
    static let hostFunction: UInt8 = 9
    static let queues: UInt8 = 10
  }

  public func encode(into fields: inout TLVWriter) throws(ManagementError) {
    fields.field(Tag.id, id)
    fields.field(Tag.sizeBytes, sizeBytes)
    fields.field(Tag.cipher, cipher.rawValue)
    try fields.field(Tag.wrappedKey, bytes: wrappedKey)
    try fields.field(Tag.backend, backend)
    if !exportName.isEmpty { try fields.field(Tag.exportName, exportName) }
    fields.field(Tag.sectorSize, sectorSize)
    fields.field(Tag.readOnly, readOnly)
    try fields.field(Tag.hostFunction, hostFunction)
    fields.field(Tag.queues, queues)
  }

  /// Tags 6–10 came with volumes through the controller; a slice without
  /// them (an older controller) decodes with 4096-byte sectors, read-write,
  /// two queues and no host function, which the card refuses to attach.
  public static func decode(_ value: ArraySlice<UInt8>) throws(ManagementError) -> VolumeSlice {
    var reader = TLVReader(value)
    var seen = SeenFields()
    var volume = VolumeSlice(id: 0, sizeBytes: 0, cipher: .aesXTS256, wrappedKey: [], backend: "")
    while let field = try reader.next() {
      switch field.tag {
      case Tag.id: volume.id = try field.uint32()
      case Tag.sizeBytes: volume.sizeBytes = try field.uint64()
      case Tag.cipher: volume.cipher = try field.cipher()
      case Tag.wrappedKey: volume.wrappedKey = Array(field.value)
      case Tag.backend: volume.backend = try field.string()
      case Tag.exportName: volume.exportName = try field.string()
      case Tag.sectorSize:
        let size = try field.uint16()
        guard size == 512 || size == 4096 else { throw .invalidValue(tag: field.tag, value: UInt64(size)) }
        volume.sectorSize = size
      case Tag.readOnly: volume.readOnly = try field.bool()
      case Tag.hostFunction: volume.hostFunction = try field.string()
      case Tag.queues:
        let queues = try field.uint16()
        guard (1...16).contains(queues) else { throw .invalidValue(tag: field.tag, value: UInt64(queues)) }
        volume.queues = queues
      default: continue
      }
      try seen.insert(field.tag)
    }
    try seen.require(Tag.id, Tag.sizeBytes, Tag.cipher, Tag.wrappedKey, Tag.backend)
    return volume
  }
}

extension TLVField {
  func cipher() throws(ManagementError) -> SliceCipher {
    let raw = try uint8()
    guard let cipher = SliceCipher(rawValue: raw) else { throw .invalidValue(tag: tag, value: UInt64(raw)) }
    return cipher
  }
}

/// One IPsec ESP security association (RFC 4303), one direction.
public struct SecurityAssociationSlice: Sendable, Equatable {
  public enum Direction: UInt8, Equatable, Sendable {
    case inbound = 1
    case outbound = 2
  }

  public var tunnel: UInt32
  public var spi: UInt32
  public var direction: Direction
  public var cipher: SliceCipher
  public var localAddress: IPPrefix
  public var remoteAddress: IPPrefix
  /// RFC 4303 §2.2.1.
  public var extendedSequenceNumbers: Bool
  public var antiReplayWindow: UInt32
  public var wrappedKey: [UInt8]

  public init(
    tunnel: UInt32, spi: UInt32, direction: Direction, cipher: SliceCipher, localAddress: IPPrefix,
    remoteAddress: IPPrefix, extendedSequenceNumbers: Bool, antiReplayWindow: UInt32, wrappedKey: [UInt8]
  ) {
    self.tunnel = tunnel
    self.spi = spi
    self.direction = direction
    self.cipher = cipher
    self.localAddress = localAddress
    self.remoteAddress = remoteAddress
    self.extendedSequenceNumbers = extendedSequenceNumbers
    self.antiReplayWindow = antiReplayWindow
    self.wrappedKey = wrappedKey
  }

  enum Tag {
    static let tunnel: UInt8 = 1
    static let spi: UInt8 = 2
    static let direction: UInt8 = 3
    static let cipher: UInt8 = 4
    static let localAddress: UInt8 = 5
    static let remoteAddress: UInt8 = 6
    static let extendedSequenceNumbers: UInt8 = 7
    static let antiReplayWindow: UInt8 = 8
    static let wrappedKey: UInt8 = 9
  }

  public func encode(into fields: inout TLVWriter) throws(ManagementError) {
    fields.field(Tag.tunnel, tunnel)
    fields.field(Tag.spi, spi)
    fields.field(Tag.direction, direction.rawValue)
    fields.field(Tag.cipher, cipher.rawValue)
    try fields.field(Tag.localAddress, bytes: localAddress.encoded())
    try fields.field(Tag.remoteAddress, bytes: remoteAddress.encoded())
    fields.field(Tag.extendedSequenceNumbers, extendedSequenceNumbers)
    fields.field(Tag.antiReplayWindow, antiReplayWindow)
    try fields.field(Tag.wrappedKey, bytes: wrappedKey)
  }

  public static func decode(_ value: ArraySlice<UInt8>) throws(ManagementError) -> SecurityAssociationSlice {
    var reader = TLVReader(value)
    var seen = SeenFields()
    let none = IPPrefix(address: [0, 0, 0, 0], length: 0)
    var sa = SecurityAssociationSlice(
      tunnel: 0, spi: 0, direction: .inbound, cipher: .aesGCM256, localAddress: none, remoteAddress: none,
      extendedSequenceNumbers: false, antiReplayWindow: 0, wrappedKey: [])
    while let field = try reader.next() {
      switch field.tag {
      case Tag.tunnel: sa.tunnel = try field.uint32()
      case Tag.spi: sa.spi = try field.uint32()
      case Tag.direction:
        let raw = try field.uint8()
        guard let direction = Direction(rawValue: raw) else {
          throw .invalidValue(tag: field.tag, value: UInt64(raw))
        }
        sa.direction = direction
      case Tag.cipher: sa.cipher = try field.cipher()
      case Tag.localAddress: sa.localAddress = try IPPrefix.decode(field)
      case Tag.remoteAddress: sa.remoteAddress = try IPPrefix.decode(field)
      case Tag.extendedSequenceNumbers: sa.extendedSequenceNumbers = try field.bool()
      case Tag.antiReplayWindow: sa.antiReplayWindow = try field.uint32()
      case Tag.wrappedKey: sa.wrappedKey = Array(field.value)
      default: continue
      }
      try seen.insert(field.tag)
    }
    try seen.require(Tag.tunnel, Tag.spi, Tag.direction, Tag.cipher, Tag.localAddress, Tag.remoteAddress)
    return sa
  }
}

/// A VPC's IPsec tunnel to an outside site, terminated by this card: the
/// site's prefix is routed in the VPC to the gateway, and what goes there
/// is sealed in tunnel mode with the SAs whose `tunnel` is `id`.
public struct SiteSlice: Sendable, Equatable {
  /// The handle the SAs name (1 and up; 0 is "between cards").
  public var id: UInt32
  public var vni: UInt32
  /// The site gateway's underlay address (a host prefix).
  public var gateway: IPPrefix
  /// The site's prefix, reached through the tunnel.
  public var remote: IPPrefix
  /// The VPC's prefix the tunnel carries.
  public var local: IPPrefix

  public init(id: UInt32, vni: UInt32, gateway: IPPrefix, remote: IPPrefix, local: IPPrefix) {
    self.id = id
    self.vni = vni
    self.gateway = gateway
    self.remote = remote
    self.local = local
  }

  enum Tag {
    static let id: UInt8 = 1
    static let vni: UInt8 = 2
    static let gateway: UInt8 = 3
    static let remote: UInt8 = 4
    static let local: UInt8 = 5
  }

  public func encode(into fields: inout TLVWriter) throws(ManagementError) {
    fields.field(Tag.id, id)
    fields.field(Tag.vni, vni)
    try fields.field(Tag.gateway, bytes: gateway.encoded())
    try fields.field(Tag.remote, bytes: remote.encoded())
    try fields.field(Tag.local, bytes: local.encoded())
  }

  public static func decode(_ value: ArraySlice<UInt8>) throws(ManagementError) -> SiteSlice {
    var reader = TLVReader(value)
    var seen = SeenFields()
    let none = IPPrefix(address: [0, 0, 0, 0], length: 0)
    var site = SiteSlice(id: 0, vni: 0, gateway: none, remote: none, local: none)
    while let field = try reader.next() {
      switch field.tag {
      case Tag.id: site.id = try field.uint32()
      case Tag.vni: site.vni = try field.uint32()
      case Tag.gateway: site.gateway = try IPPrefix.decode(field)
      case Tag.remote: site.remote = try IPPrefix.decode(field)
      case Tag.local: site.local = try IPPrefix.decode(field)
      default: continue
      }
      try seen.insert(field.tag)
    }
    try seen.require(Tag.id, Tag.vni, Tag.gateway, Tag.remote, Tag.local)
    return site
  }
}
