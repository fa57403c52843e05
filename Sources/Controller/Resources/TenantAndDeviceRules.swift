import ProviderAPI

struct TenantRules: ResourceRules {
  func admit(
    _ tenant: inout Bulkhead_V1_Tenant, previous: Bulkhead_V1_Tenant?, in transaction: StoreTransaction
  ) async throws {}

  func release(_ tenant: Bulkhead_V1_Tenant, in transaction: StoreTransaction) async throws {
    let what = "tenant '\(tenant.name)'"
    try await transaction.refuseIfReferenced(by: Bulkhead_V1_Vpc.self, under: tenant.name, what)
    try await transaction.refuseIfReferenced(by: Bulkhead_V1_Nic.self, under: tenant.name, what)
    try await transaction.refuseIfReferenced(by: Bulkhead_V1_Volume.self, under: tenant.name, what)
    try await transaction.refuseIfReferenced(by: Bulkhead_V1_GuestAttachment.self, under: tenant.name, what)
  }
}

struct CardRules: ResourceRules {
  func admit(_ card: inout Bulkhead_V1_Card, previous: Bulkhead_V1_Card?, in transaction: StoreTransaction)
    async throws
  {
    if !card.underlayIp.isEmpty {
      card.underlayIp = try FieldChecks.address(card.underlayIp, field: "card.underlay_ip").description
    }
    // Health, firmware and generations come from the card, never the caller.
    if let previous {
      card.firmwareVersion = previous.firmwareVersion
      card.bootState = previous.bootState
      card.capabilities = previous.capabilities
      card.health = previous.health
      card.phi = previous.phi
      card.lastHeartbeatTime = previous.lastHeartbeatTime
      card.desiredGeneration = previous.desiredGeneration
      card.appliedGeneration = previous.appliedGeneration
    } else {
      card.firmwareVersion = ""
      card.bootState = ""
      card.capabilities = []
      card.health = .pending
      card.phi = 0
      card.clearLastHeartbeatTime()
      card.desiredGeneration = 0
      card.appliedGeneration = 0
    }
  }

  func release(_ card: Bulkhead_V1_Card, in transaction: StoreTransaction) async throws {
    try await transaction.refuseIfReferenced(
      by: Bulkhead_V1_Nic.self, under: "", "card '\(card.name)'", where: { $0.card == card.name })
    try await transaction.refuseIfReferenced(
      by: Bulkhead_V1_GuestAttachment.self, under: "", "card '\(card.name)'", where: { $0.card == card.name })
  }
}

struct VolumeRules: ResourceRules {
  func admit(
    _ volume: inout Bulkhead_V1_Volume, previous: Bulkhead_V1_Volume?, in transaction: StoreTransaction
  ) async throws {
    // virtio 1.2 §5.2.4: capacity is in 512-byte sectors; we keep 4 KiB
    // alignment so AES-XTS data units never straddle a page.
    guard volume.sizeBytes > 0, volume.sizeBytes % 4096 == 0 else {
      throw APIError.invalid(
        "volume.size_bytes", "\(volume.sizeBytes)", "is not a positive multiple of 4096",
        fix: "round the size up to a multiple of 4096")
    }
    guard let scheme = volume.backendUri.split(separator: ":").first, ["file", "nbd"].contains(scheme),
      volume.backendUri.contains("://")
    else {
      throw APIError.invalid(
        "volume.backend_uri", volume.backendUri, "is not a supported backend",
        fix: "use file:///path/to/image or nbd://host[:port]/export")
    }
    if volume.encryption.cipher == .unspecified {
      throw APIError.invalid(
        "volume.encryption.cipher", "UNSPECIFIED", "is not set", fix: "use AES_XTS_256 (or AES_XTS_128)")
    }
    try FieldChecks.required(
      volume.encryption.keyHandle, field: "volume.encryption.key_handle", example: "keys/vol-a")
  }

  func release(_ volume: Bulkhead_V1_Volume, in transaction: StoreTransaction) async throws {
    let tenant = ResourceName(segments: volume.name.split(separator: "/")).ancestor(levels: 1)
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
    case .volume(let volume):
      _ = try await FieldChecks.reference(
        volume, Bulkhead_V1_Volume.self, field: "guest_attachment.volume", tenant: tenant, in: transaction)
    case .none:
      throw APIError.invalid("guest_attachment.device", "", "is not set", fix: "set nic or volume")
    }
    try FieldChecks.required(
      attachment.hostFunction, field: "guest_attachment.host_function", example: "0000:3b:00.2")
    if attachment.queuePairs == 0 { attachment.queuePairs = 1 }
    if attachment.mtu == 0 { attachment.mtu = 1500 }
    guard (68...9000).contains(attachment.mtu) else {
      throw APIError.invalid(
        "guest_attachment.mtu", "\(attachment.mtu)", "is out of range", fix: "use 68 to 9000")
    }
  }

  func release(_ attachment: Bulkhead_V1_GuestAttachment, in transaction: StoreTransaction) async throws {}
}
