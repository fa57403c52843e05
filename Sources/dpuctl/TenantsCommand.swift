import ArgumentParser
import ProviderAPI

struct TenantsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tenants", abstract: "Create, list, show and delete tenants (provider-admin).",
    subcommands: [Create.self, List.self, Get.self, Delete.self])

  static var columns: [(String, (Bulkhead_V1_Tenant) -> String)] {
    [
      ("name", \.name), ("display name", \.displayName),
    ]
  }

  struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Create a tenant.",
      discussion: "Example: dpuctl tenants create acme --display-name \"ACME Corp\"")
    @Argument(help: "Tenant id (lowercase letters, digits, '-').") var id: String
    @Option(help: "Name shown to people.") var displayName = ""
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_CreateTenantRequest.with {
        $0.tenantID = id
        $0.tenant.displayName = displayName
        $0.requestID = options.resolvedRequestID
      }
      let tenant = try await options.run { client in
        try await client.call(.idempotentWithRequestID) {
          try await client.tenants.createTenant(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).show(tenant, columns: TenantsCommand.columns)
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List tenants (a tenant token sees its own).")
    @Option(help: "Page size.") var pageSize: Int32 = 0
    @Option(help: "Token of the page to show.") var pageToken = ""
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_ListTenantsRequest.with {
        $0.pageSize = pageSize
        $0.pageToken = pageToken
      }
      let page = try await options.run { client in
        try await client.call(.safe) {
          try await client.tenants.listTenants(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).list(
        page.tenants, nextPageToken: page.nextPageToken, columns: TenantsCommand.columns)
    }
  }

  struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a tenant.")
    @Argument(help: "Tenant id.") var id: String
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_GetTenantRequest.with { $0.name = Names.tenant(id) }
      let tenant = try await options.run { client in
        try await client.call(.safe) {
          try await client.tenants.getTenant(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).show(tenant, columns: TenantsCommand.columns)
    }
  }

  struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete a tenant that has no resources left.")
    @Argument(help: "Tenant id.") var id: String
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_DeleteTenantRequest.with {
        $0.name = Names.tenant(id)
        $0.requestID = options.resolvedRequestID
      }
      let response = try await options.run { client in
        try await client.call(.idempotentWithRequestID) {
          try await client.tenants.deleteTenant(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).deleted(response)
    }
  }
}
