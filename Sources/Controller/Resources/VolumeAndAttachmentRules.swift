import CardCrypto
import Foundation
import ProviderAPI

/// Volumes: what the card can serve (Docs/volumes.md), checked where it
/// enters, and the data key made here, kept wrapped, never answered.
struct VolumeRules: ResourceRules {
  /// Wraps the volumes' data keys at rest; nil: the controller has no key
  /// seed, and volumes cannot be made.
  var storeKey: [UInt8]? = nil
  /// Where a volume goes when its creator names no backend
  /// (`ControllerConfiguration.volumeRoot`).
  var volumeRoot: String = ControllerConfiguration.defaultVolumeRoot

  static let sectorSizes: [UInt32] = [512, 4096]
  static let defaultSectorSize: UInt32 = 4096
  static let defaultQueues: UInt32 = 2
  /// virtio 1.2 §5.2.3 num_queues; the card offers at most 16.
  static let queueRange: ClosedRange<UInt32> = 1...16
  /// 64 TiB: far beyond any volume we serve, small enough that a typo of a
  /// few digits is caught.
  static let maximumSizeBytes: UInt64 = 64 << 40
  /// AES-XTS-256: Key1 ‖ Key2 (IEEE 1619 §5.1).
  static let dataKeyByteCount = 64
  /// The last number given to a volume: numbers only grow, so a number is
  /// never reused while the store lives.
  static let numberCounterKey = "counters/volume-number"

  /// The backend is the provider's: a tenant that names one is refused
  /// (it would point the card at any file or NBD server it likes); without
  /// one, the volume goes to `file://ROOT/TENANT/VOLUME.img`, which the
  /// card takes only inside its volume directory (`--volume-dir`).
  func prepare(_ volume: inout Bulkhead_V1_Volume, id: String, parent: String, principal: Principal) throws {
    if case .tenant = principal, !volume.backendUri.isEmpty {
      throw APIError(
        .permissionDenied,
        "volume.backend_uri is chosen by the provider, not a tenant: leave it out and the controller places the volume under \(volumeRoot)/TENANT/, or ask the provider to create the volume"
      )
    }
    if volume.backendUri.isEmpty {
      let tenant = parent.split(separator: "/").last.map(String.init) ?? ""
      volume.backendUri = "file://" + volumeRoot + "/" + tenant + "/" + id + ".img"
    }
  }

  func admit(
    _ volume: inout Bulkhead_V1_Volume, previous: Bulkhead_V1_Volume?, in transaction: StoreTransaction
  ) async throws {
    if let previous {
      try await admitUpdate(&volume, previous: previous, in: transaction)
    } else {
      try await admitNew(&volume, in: transaction)
    }
    try checkSize(volume)
    if volume.queues == 0 { volume.queues = Self.defaultQueues }
    guard Self.queueRange.contains(volume.queues) else {
      throw APIError.invalid(
        "volume.queues", "\(volume.queues)", "is out of range",
        fix: "use \(Self.queueRange.lowerBound) to \(Self.queueRange.upperBound) request queues")
    }
  }

  private func admitNew(_ volume: inout Bulkhead_V1_Volume, in transaction: StoreTransaction) async throws {
    let backend: VolumeBackendURI
    switch VolumeBackendURI.parse(volume.backendUri) {
    case .success(let parsed): backend = parsed
    case .failure(.unsupported(let problem)):
      throw APIError.invalid("volume.backend_uri", volume.backendUri, problem, fix: VolumeBackendURI.examples)
    }
    // Two volumes over one backend would write each other's ciphertext
    // with different keys. Another tenant's volume is not named.
    let sharing = try await transaction.resources(under: "", as: Bulkhead_V1_Volume.self).first {
      (try? VolumeBackendURI.parse($0.backendUri).get()) == backend
    }
    if let sharing {
      let owner = sharing.tenantName
      let which = volume.name.hasPrefix(owner + "/") ? "volume '\(sharing.name)'" : "another tenant's volume"
      throw APIError(
        .alreadyExists,
        "volume.backend_uri '\(volume.backendUri)' is already the backend of \(which); give each volume its own file or export"
      )
    }
    if volume.sectorSize == 0 { volume.sectorSize = Self.defaultSectorSize }
    guard Self.sectorSizes.contains(volume.sectorSize) else {
      throw APIError.invalid(
        "volume.sector_size", "\(volume.sectorSize)", "is not a sector size the card serves",
        fix: "use 512 or 4096")
    }
    switch volume.encryption.cipher {
    case .aesXts256, .unspecified: volume.encryption.cipher = .aesXts256
    case .aesXts128, .UNRECOGNIZED:
      throw APIError.invalid(
        "volume.encryption.cipher", "\(volume.encryption.cipher)",
        "is not served: cards encrypt volumes with AES-XTS-256 only",
        fix: "use AES_XTS_256 (or leave it unset)")
    }
    guard let storeKey else {
      throw APIError.invalid(
        "volume.encryption", "(data key)", "cannot be stored: this controller has no key seed",
        fix: "start bulkhead-controller with --pki naming a folder with key-seed (dpuctl pki init)")
    }
    // The data key exists in the clear only inside this call (a cleansed
    // SymmetricKey); the store and the cards see it wrapped.
    let dataKey = try SymmetricKey.random(byteCount: Self.dataKeyByteCount)
    volume.wrappedDataKey = Data(try KeyWrap.wrap(dataKey, kek: try UnderlayKeyring.symmetricKey(storeKey)))
    volume.number = try await nextNumber(in: transaction)
    volume.encryption.keyHandle = "vol-\(volume.number)"
  }

  private func admitUpdate(
    _ volume: inout Bulkhead_V1_Volume, previous: Bulkhead_V1_Volume, in transaction: StoreTransaction
  ) async throws {
    // Fixed at create or output only; an update mask cannot name them, and
    // nothing else may move them.
    volume.backendUri = previous.backendUri
    volume.encryption = previous.encryption
    volume.sectorSize = previous.sectorSize
    volume.number = previous.number
    volume.wrappedDataKey = previous.wrappedDataKey
    guard volume.sizeBytes >= previous.sizeBytes else {
      throw APIError(
        .failedPrecondition,
        "volume.size_bytes '\(volume.sizeBytes)' is below the volume's \(previous.sizeBytes): a volume only grows (shrinking would cut off the guest's data); give \(previous.sizeBytes) or more, or make a smaller volume and copy"
      )
    }
    if previous.readOnly, !volume.readOnly {
      let tenant = volume.tenantName
      let attachments = try await transaction.resources(under: tenant, as: Bulkhead_V1_GuestAttachment.self)
        .filter { $0.volume == volume.name }.map(\.name).sorted()
      if attachments.count > 1 {
        throw APIError(
          .failedPrecondition,
          "volume.read_only 'false' would let \(attachments.count) attachments (\(attachments.joined(separator: ", "))) write one volume; delete all but one of them first"
        )
      }
    }
  }

  private func checkSize(_ volume: Bulkhead_V1_Volume) throws {
    let sector = UInt64(volume.sectorSize)
    guard volume.sizeBytes > 0, volume.sizeBytes % sector == 0 else {
      throw APIError.invalid(
        "volume.size_bytes", "\(volume.sizeBytes)", "is not a positive multiple of the sector size \(sector)",
        fix: "round it up to a multiple of \(sector), e.g. \((volume.sizeBytes / sector + 1) * sector)")
    }
    guard volume.sizeBytes <= Self.maximumSizeBytes else {
      throw APIError.invalid(
        "volume.size_bytes", "\(volume.sizeBytes)", "is above 64 TiB (\(Self.maximumSizeBytes))",
        fix: "make several smaller volumes")
    }
  }

  /// One more than the last number given, recorded in the same commit
  /// (two concurrent creates conflict on the counter, and one retries).
  private func nextNumber(in transaction: StoreTransaction) async throws -> UInt32 {
    let last =
      try await transaction.read(Self.numberCounterKey).map {
        UInt32(String(decoding: $0.value, as: UTF8.self)) ?? 0
      } ?? 0
    guard last < UInt32.max else {
      throw APIError(.resourceExhausted, "every volume number is used; this store cannot make more volumes")
    }
    transaction.putIndex(Self.numberCounterKey, owner: String(last + 1))
    return last + 1
  }

  func release(_ volume: Bulkhead_V1_Volume, in transaction: StoreTransaction) async throws {
    let tenant = volume.tenantName
    try await transaction.refuseIfReferenced(
      by: Bulkhead_V1_GuestAttachment.self, under: tenant, "volume '\(volume.name)'",
      where: { $0.volume == volume.name })
  }
}

struct GuestAttachmentRules: ResourceRules {
  func admit(
    _ attachment: inout Bulkhead_V1_GuestAttachment, previous: Bulkhead_V1_GuestAttachment?,
    in transaction: StoreTransaction
  ) async throws {
    let tenant = try ResourceName.parse(attachment.name, as: Bulkhead_V1_GuestAttachment.self).tenant
    try FieldChecks.required(attachment.card, field: "guest_attachment.card", example: "cards/rack1-slot3")
    if try await transaction.resource(attachment.card, as: Bulkhead_V1_Card.self) == nil {
      throw APIError.invalid(
        "guest_attachment.card", attachment.card, "is not a registered card",
        fix: "register it first or fix the name")
    }
    switch attachment.device {
    case .nic(let nic):
      let found = try await FieldChecks.reference(
        nic, Bulkhead_V1_Nic.self, field: "guest_attachment.nic", tenant: tenant, in: transaction)
      guard found.card == attachment.card else {
        throw APIError.invalid(
          "guest_attachment.card", attachment.card, "is not the card of \(nic) (\(found.card))",
          fix: "attach the NIC on its own card")
      }
    case .volume(let name):
      let volume = try await FieldChecks.reference(
        name, Bulkhead_V1_Volume.self, field: "guest_attachment.volume", tenant: tenant, in: transaction)
      if !volume.readOnly {
        try await refuseSecondWriter(of: volume, besides: attachment.name, in: transaction)
      }
    case .none:
      throw APIError.invalid("guest_attachment.device", "", "is not set", fix: "set nic or volume")
    }
    try FieldChecks.hostFunction(attachment.hostFunction, field: "guest_attachment.host_function")
    // The card keys what it serves by host function: one device each.
    let sameFunction = try await transaction.resources(under: "", as: Bulkhead_V1_GuestAttachment.self)
      .first {
        $0.card == attachment.card && $0.hostFunction == attachment.hostFunction && $0.name != attachment.name
      }
    if let sameFunction {
      throw APIError.invalid(
        "guest_attachment.host_function", attachment.hostFunction,
        "is already used on \(attachment.card) by '\(sameFunction.name)'",
        fix: "give each attachment on a card its own host function")
    }
    if attachment.queuePairs == 0 { attachment.queuePairs = 1 }
    if attachment.mtu == 0 { attachment.mtu = 1500 }
    guard (68...9000).contains(attachment.mtu) else {
      throw APIError.invalid(
        "guest_attachment.mtu", "\(attachment.mtu)", "is out of range", fix: "use 68 to 9000")
    }
  }

  /// Two guests writing one volume would corrupt its file system: a
  /// read-write volume has one attachment at a time.
  private func refuseSecondWriter(
    of volume: Bulkhead_V1_Volume, besides name: String, in transaction: StoreTransaction
  ) async throws {
    let tenant = volume.tenantName
    let other = try await transaction.resources(under: tenant, as: Bulkhead_V1_GuestAttachment.self)
      .first { $0.volume == volume.name && $0.name != name }
    if let other {
      throw APIError(
        .failedPrecondition,
        "guest_attachment.volume '\(volume.name)' is read-write and already attached by '\(other.name)'; delete that attachment first, or make the volume read-only to share it"
      )
    }
  }

  func release(_ attachment: Bulkhead_V1_GuestAttachment, in transaction: StoreTransaction) async throws {}
}

extension Bulkhead_V1_Volume {
  /// `tenants/T` of `tenants/T/volumes/V`.
  fileprivate var tenantName: String {
    ResourceName(segments: name.split(separator: "/")).ancestor(levels: 1)
  }
}
