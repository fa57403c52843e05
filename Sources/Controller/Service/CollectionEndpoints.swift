import GRPCCore
import ProviderAPI
import SwiftProtobuf

/// Create, Get, List, Update and Delete for one collection, written once:
/// authenticate the caller, then hand the request to `ResourceService` with
/// the kind's rules. Each service's methods only name their messages.
struct CollectionEndpoints<Rules: ResourceRules>: Sendable {
  typealias Resource = Rules.Resource
  let resources: ResourceService
  let authenticator: Authenticator
  let rules: Rules

  func create<Request: CreateResourceRequest>(_ request: ServerRequest<Request>) async throws
    -> ServerResponse<
      Resource
    > where Request.Resource == Resource
  {
    try await handle(request, authenticator) { request, principal in
      try await resources.create(
        request.resource, id: request.resourceID, parent: request.parentName, rules: rules, request: request,
        requestID: request.requestID, principal: principal)
    }
  }

  func get<Request: NamedResourceRequest>(_ request: ServerRequest<Request>) async throws -> ServerResponse<
    Resource
  > {
    try await handle(request, authenticator) { request, principal in
      try await resources.get(Resource.self, name: request.name, principal: principal)
    }
  }

  func list<Request: PageRequest, Response: PageResponse>(_ request: ServerRequest<Request>) async throws
    -> ServerResponse<Response> where Response.Resource == Resource
  {
    try await handle(request, authenticator) { request, principal in
      let page = try await resources.list(
        Resource.self, parent: request.parentName, pageSize: request.pageSize, pageToken: request.pageToken,
        principal: principal)
      return Response(page: page.resources, nextPageToken: page.nextPageToken)
    }
  }

  func update<Request: UpdateResourceRequest>(_ request: ServerRequest<Request>) async throws
    -> ServerResponse<
      Resource
    > where Request.Resource == Resource
  {
    try await handle(request, authenticator) { request, principal in
      try await resources.update(
        request.resource, mask: request.updateMask, rules: rules, request: request,
        requestID: request.requestID,
        principal: principal)
    }
  }

  func delete<Request: DeleteResourceRequest>(_ request: ServerRequest<Request>) async throws
    -> ServerResponse<
      Bulkhead_V1_DeleteResponse
    >
  {
    try await handle(request, authenticator) { request, principal in
      try await resources.delete(
        Resource.self, name: request.name, rules: rules, request: request, requestID: request.requestID,
        principal: principal)
    }
  }
}

/// A Create request: the new resource, its id, the parent it goes under.
protocol CreateResourceRequest: SwiftProtobuf.Message {
  associatedtype Resource: ManagedResource
  var resource: Resource { get }
  var resourceID: String { get }
  /// "" for top-level collections (tenants, cards).
  var parentName: String { get }
  var requestID: String { get }
}

/// A Get request (and the name part of a Delete).
protocol NamedResourceRequest: SwiftProtobuf.Message {
  var name: String { get }
}

protocol DeleteResourceRequest: NamedResourceRequest {
  var requestID: String { get }
}

protocol PageRequest: SwiftProtobuf.Message {
  var parentName: String { get }
  var pageSize: Int32 { get }
  var pageToken: String { get }
}

protocol PageResponse: SwiftProtobuf.Message {
  associatedtype Resource
  init(page: [Resource], nextPageToken: String)
}

protocol UpdateResourceRequest: SwiftProtobuf.Message {
  associatedtype Resource: ManagedResource
  var resource: Resource { get }
  var updateMask: Google_Protobuf_FieldMask { get }
  var requestID: String { get }
}
