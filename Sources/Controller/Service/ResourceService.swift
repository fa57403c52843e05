import Foundation
import ProviderAPI
import SwiftProtobuf

/// Create, Get, List, Update and Delete for every resource kind, with
/// authorization, validation (through the kind's `ResourceRules`),
/// optimistic commits and idempotent retries (AIP-155).
public final class ResourceService: Sendable {
  public let store: any DesiredStateStore
  public let configuration: ControllerConfiguration

  public init(
    store: any DesiredStateStore, configuration: ControllerConfiguration = ControllerConfiguration()
  ) {
    self.store = store
    self.configuration = configuration
  }

  // MARK: reads

  func get<R: ManagedResource>(_: R.Type, name: String, principal: Principal) async throws -> R {
    let parsed = try ResourceName.parse(name, as: R.self)
    try authorize(principal, tenant: parsed.tenant, name: name)
    guard let entry = try await store.read(R.key(name)) else { throw APIError.notFound(name) }
    return try R.decoded(entry).answered
  }

  func list<R: ManagedResource>(
    _: R.Type, parent: String, pageSize: Int32, pageToken: String, principal: Principal
  ) async throws -> (resources: [R], nextPageToken: String) {
    let parsedParent = try ResourceName.parseParent(parent, of: R.self)
    let prefix = R.prefix(under: parent)
    if R.self == Bulkhead_V1_Tenant.self, case .tenant(let own) = principal {
      // A tenant lists exactly its own tenant (one key, not a prefix, so
      // `acme` never sees `acme2`).
      let entry = try await store.read(R.key("tenants/\(own)"))
      return (try entry.map { [try R.decoded($0).answered] } ?? [], "")
    }
    try authorize(principal, tenant: parsedParent.tenant, name: parent.isEmpty ? R.collection : parent)
    guard pageSize >= 0 else {
      throw APIError.invalid(
        "page_size", "\(pageSize)", "is negative", fix: "use 0 for the default or a positive size")
    }
    let size =
      pageSize == 0 ? configuration.defaultPageSize : min(Int(pageSize), configuration.maximumPageSize)
    let after = try PageToken.decode(pageToken, prefix: prefix)
    let page = try await store.list(prefix: prefix, startAfter: after, limit: size + 1)
    let entries = page.entries.prefix(size)
    let next = page.entries.count > size ? PageToken.encode(entries.last!.key) : ""
    return (try entries.map { try R.decoded($0).answered }, next)
  }

  // MARK: mutations

  func create<R: ManagedResource, Request: SwiftProtobuf.Message>(
    _ resource: R, id: String, parent: String, rules: some ResourceRules<R>, request: Request,
    requestID: String, principal: Principal
  ) async throws -> R {
    let parsedParent = try ResourceName.parseParent(parent, of: R.self)
    guard ResourceName.isValidID(id) else {
      throw APIError.invalid(
        "\(R.collection.dropLast())_id", id, "is not a valid id",
        fix: "use 1-63 lowercase letters, digits or '-', starting with a letter")
    }
    if R.isProviderManaged {
      try authorize(principal, tenant: nil, name: R.collection)
    } else {
      try authorize(principal, tenant: parsedParent.tenant, name: parent)
    }
    var resource = resource
    try rules.prepare(&resource, id: id, parent: parent, principal: principal)
    let name = parent.isEmpty ? "\(R.collection)/\(id)" : "\(parent)/\(R.collection)/\(id)"
    return try await mutate(request: request, requestID: requestID, principal: principal) {
      [resource] transaction in
      if try await transaction.read(R.key(name)) != nil {
        throw APIError(.alreadyExists, "'\(name)' already exists; pick another id or update the existing one")
      }
      if !parent.isEmpty, let parentKey = Self.parentKey(of: R.self, parent: parent),
        try await transaction.read(parentKey) == nil
      {
        throw APIError.notFound(parent, referencedBy: "parent")
      }
      var created = resource
      created.name = name
      created.meta = Bulkhead_V1_ResourceMeta()
      let now = Google_Protobuf_Timestamp(date: self.configuration.now())
      created.meta.createTime = now
      created.meta.updateTime = now
      try await rules.admit(&created, previous: nil, in: transaction)
      try transaction.put(created)
      return created.answered
    }
  }

  func update<R: ManagedResource, Request: SwiftProtobuf.Message>(
    _ resource: R, mask: Google_Protobuf_FieldMask, rules: some ResourceRules<R>, request: Request,
    requestID: String, principal: Principal
  ) async throws -> R {
    let parsed = try ResourceName.parse(resource.name, as: R.self, field: "\(R.kind.lowercased()).name")
    try authorize(principal, tenant: parsed.tenant, name: resource.name)
    let paths = mask.paths.isEmpty ? R.mutableFields : mask.paths
    for path in paths where !R.mutableFields.contains(path) {
      throw APIError.invalid(
        "update_mask", path, "cannot be changed",
        fix: "name only these fields: \(R.mutableFields.joined(separator: ", "))")
    }
    return try await mutate(request: request, requestID: requestID, principal: principal) { transaction in
      guard let previous = try await transaction.resource(resource.name, as: R.self) else {
        throw APIError.notFound(resource.name)
      }
      var updated = previous
      var options = Google_Protobuf_FieldMask.MergeOptions()
      options.replaceRepeatedFields = true
      try updated.merge(
        from: resource, fieldMask: Google_Protobuf_FieldMask(protoPaths: paths), mergeOption: options)
      updated.meta.updateTime = Google_Protobuf_Timestamp(date: self.configuration.now())
      try await rules.admit(&updated, previous: previous, in: transaction)
      try transaction.put(updated)
      return updated.answered
    }
  }

  func delete<R: ManagedResource, Request: SwiftProtobuf.Message>(
    _: R.Type, name: String, rules: some ResourceRules<R>, request: Request, requestID: String,
    principal: Principal
  ) async throws -> Bulkhead_V1_DeleteResponse {
    let parsed = try ResourceName.parse(name, as: R.self)
    try authorize(principal, tenant: R.isProviderManaged ? nil : parsed.tenant, name: name)
    return try await mutate(request: request, requestID: requestID, principal: principal) { transaction in
      guard let existing = try await transaction.resource(name, as: R.self) else {
        throw APIError.notFound(name)
      }
      try await rules.release(existing, in: transaction)
      transaction.delete(R.self, name)
      return Bulkhead_V1_DeleteResponse.with { $0.name = name }
    }
  }

  /// Runs `work` as one optimistic commit, answering retries of the same
  /// request id with the first result and refusing the id's reuse for a
  /// different request.
  func mutate<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
    request: Request, requestID: String, principal: Principal,
    work: (StoreTransaction) async throws -> Response
  ) async throws -> Response {
    guard !requestID.isEmpty, requestID.count <= 128 else {
      throw APIError.invalid(
        "request_id", requestID, requestID.isEmpty ? "is empty" : "is longer than 128 characters",
        fix: "send a fresh UUID per logical request (dpuctl does this unless --request-id is given)")
    }
    let fingerprint = SHA256.hash(
      Array(Request.protoMessageName.utf8) + [0] + (try request.serializedBytes()))
    let now = configuration.now()
    let scope = principal.idempotencyScope
    if let record = try await store.idempotencyRecord(scope: scope, key: requestID, now: now) {
      return try replay(record, fingerprint: fingerprint, requestID: requestID)
    }
    let expiresAt = now.addingTimeInterval(configuration.idempotencyTTL.seconds)
    for _ in 0..<configuration.commitAttempts {
      let transaction = StoreTransaction(store: store)
      let response = try await work(transaction)
      let claim = IdempotencyClaim(
        scope: scope, key: requestID, fingerprint: fingerprint, response: try response.serializedBytes(),
        expiresAt: expiresAt)
      let commit = StoreCommit(
        conditions: transaction.conditions, operations: transaction.operations, idempotency: claim, now: now)
      switch try await store.commit(commit) {
      case .committed(let revision): return Self.stamped(response, revision: revision)
      case .alreadyRecorded(let record):
        return try replay(record, fingerprint: fingerprint, requestID: requestID)
      case .conflict: continue
      }
    }
    throw APIError(.aborted, "too many concurrent changes to the same resources; retry the request")
  }

  private func replay<Response: SwiftProtobuf.Message>(
    _ record: IdempotencyRecord, fingerprint: [UInt8], requestID: String
  ) throws -> Response {
    guard record.fingerprint == fingerprint else {
      throw APIError.invalid(
        "request_id", requestID, "was already used for a different request",
        fix: "use a new request_id for a new request; reuse one only to retry the same request")
    }
    return Self.stamped(try Response(serializedBytes: record.response), revision: record.revision)
  }

  /// Fills the store revisions into a resource answered from a commit.
  private static func stamped<Response: SwiftProtobuf.Message>(_ response: Response, revision: Int64)
    -> Response
  {
    guard var resource = response as? any ManagedResource else { return response }
    resource.meta.updateRevision = revision
    if resource.meta.createRevision == 0 { resource.meta.createRevision = revision }
    return resource as? Response ?? response
  }

  private func authorize(_ principal: Principal, tenant: String?, name: String) throws {
    guard principal.mayAccess(tenant: tenant) else { throw APIError.denied(name) }
  }

  /// The store key of the resource a parent name denotes.
  private static func parentKey<R: ManagedResource>(of _: R.Type, parent: String) -> String? {
    switch R.parentCollections.last {
    case "tenants": return Bulkhead_V1_Tenant.key(parent)
    case "vpcs": return Bulkhead_V1_Vpc.key(parent)
    default: return nil
    }
  }
}

extension Duration {
  var seconds: TimeInterval {
    let (seconds, attoseconds) = components
    return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
  }
}

/// Page tokens are the last key of the previous page, base64 so callers
/// treat them as opaque (AIP-158).
enum PageToken {
  static func encode(_ key: String) -> String { Data(key.utf8).base64EncodedString() }

  static func decode(_ token: String, prefix: String) throws -> String? {
    if token.isEmpty { return nil }
    guard let data = Data(base64Encoded: token), let key = String(data: data, encoding: .utf8),
      key.hasPrefix(prefix)
    else {
      throw APIError.invalid(
        "page_token", token, "is not a token of this listing",
        fix: "pass the next_page_token of the previous page of the same List call")
    }
    return key
  }
}
