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
    // Health, firmware, generations and counters come from the card, never
    // the caller.
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
    // Counters are only ever live (filled at read from the latest
    // heartbeat), never stored.
    card.counters = [:]
    card.clearCountersTime()
  }

  func release(_ card: Bulkhead_V1_Card, in transaction: StoreTransaction) async throws {
    try await transaction.refuseIfReferenced(
      by: Bulkhead_V1_Nic.self, under: "", "card '\(card.name)'", where: { $0.card == card.name })
    try await transaction.refuseIfReferenced(
      by: Bulkhead_V1_GuestAttachment.self, under: "", "card '\(card.name)'", where: { $0.card == card.name })
  }
}
