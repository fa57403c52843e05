/// Who is calling, as established from the bearer token on every call.
public enum Principal: Sendable, Equatable, CustomStringConvertible {
  /// Sees and changes everything: tenants, cards, every tenant's resources.
  case providerAdmin
  /// Sees and changes only the resources under `tenants/{id}`.
  case tenant(String)

  /// Idempotency keys are per principal, so two tenants cannot collide.
  var idempotencyScope: String {
    switch self {
    case .providerAdmin: return "admin"
    case .tenant(let id): return "tenant:\(id)"
    }
  }

  /// Whether the caller may touch a resource of `tenant` (nil: a provider
  /// resource such as a card, or the tenants collection itself).
  func mayAccess(tenant: String?) -> Bool {
    switch self {
    case .providerAdmin: return true
    case .tenant(let own): return tenant == own
    }
  }

  public var description: String {
    switch self {
    case .providerAdmin: return "provider-admin"
    case .tenant(let id): return "tenant \(id)"
    }
  }
}
