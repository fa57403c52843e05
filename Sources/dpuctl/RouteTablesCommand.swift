import ArgumentParser
import ProviderAPI

/// `DESTINATION=TARGET`: `0.0.0.0/0=drop`, `10.0.0.0/16=local`,
/// `10.9.0.0/16=nic:appliance-1`, `172.16.0.0/12=tunnel:blue/dc1`.
struct RouteArgument: ExpressibleByArgument {
  var destination: String
  var target: String

  init?(argument: String) {
    let parts = argument.split(separator: "=", maxSplits: 1)
    guard parts.count == 2 else { return nil }
    destination = String(parts[0])
    target = String(parts[1])
    guard ["local", "drop"].contains(target) || target.hasPrefix("nic:") || target.hasPrefix("tunnel:") else {
      return nil
    }
  }

  func route(tenant: String) -> Bulkhead_V1_Route {
    var route = Bulkhead_V1_Route()
    route.destinationCidr = destination
    if target == "local" {
      route.local = true
    } else if target == "drop" {
      route.drop = true
    } else if target.hasPrefix("nic:") {
      let nic = String(target.dropFirst(4))
      route.nic = nic.hasPrefix("tenants/") ? nic : "tenants/\(tenant)/nics/\(nic)"
    } else {
      route.ipsecTunnel = Names.inVPC(String(target.dropFirst(7)), tenant: tenant, collection: "ipsecTunnels")
    }
    return route
  }

  static func describe(_ route: Bulkhead_V1_Route) -> String {
    switch route.target {
    case .local: return "\(route.destinationCidr)=local"
    case .drop: return "\(route.destinationCidr)=drop"
    case .nic(let nic): return "\(route.destinationCidr)=nic:\(nic)"
    case .ipsecTunnel(let tunnel): return "\(route.destinationCidr)=tunnel:\(tunnel)"
    case .none: return "\(route.destinationCidr)=?"
    }
  }
}

struct RouteTablesCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "route-tables", abstract: "Create, list, show and delete route tables; add routes.",
    subcommands: [Create.self, List.self, Get.self, AddRoute.self, Delete.self])

  static var columns: [(String, (Bulkhead_V1_RouteTable) -> String)] {
    [
      ("name", \.name), ("routes", { $0.routes.map(RouteArgument.describe).joined(separator: " ") }),
    ]
  }

  static func name(_ tenant: String, _ vpc: String, _ id: String) -> String {
    Names.vpc(tenant, vpc) + "/routeTables/" + id
  }

  struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Create a route table.",
      discussion: """
        Routes are DESTINATION=TARGET with TARGET local, drop, nic:NIC or tunnel:VPC/TUNNEL.
        Example: dpuctl route-tables create main --tenant acme --vpc blue --route 0.0.0.0/0=drop
        """)
    @Argument(help: "Route table id.") var id: String
    @Option(help: "Tenant id.") var tenant: String
    @Option(help: "VPC id.") var vpc: String
    @Option(help: "A route (repeatable).") var route: [RouteArgument] = []
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_CreateRouteTableRequest.with {
        $0.parent = Names.vpc(tenant, vpc)
        $0.routeTableID = id
        $0.routeTable.routes = route.map { $0.route(tenant: tenant) }
        $0.requestID = options.resolvedRequestID
      }
      let table = try await options.run { client in
        try await client.call(.idempotentWithRequestID) {
          try await client.routeTables.createRouteTable(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).show(table, columns: RouteTablesCommand.columns)
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List a VPC's route tables.")
    @Option(help: "Tenant id.") var tenant: String
    @Option(help: "VPC id.") var vpc: String
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_ListRouteTablesRequest.with { $0.parent = Names.vpc(tenant, vpc) }
      let page = try await options.run { client in
        try await client.call(.safe) {
          try await client.routeTables.listRouteTables(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).list(
        page.routeTables, nextPageToken: page.nextPageToken, columns: RouteTablesCommand.columns)
    }
  }

  struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a route table.")
    @Argument(help: "Route table id.") var id: String
    @Option(help: "Tenant id.") var tenant: String
    @Option(help: "VPC id.") var vpc: String
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_GetRouteTableRequest.with {
        $0.name = RouteTablesCommand.name(tenant, vpc, id)
      }
      let table = try await options.run { client in
        try await client.call(.safe) {
          try await client.routeTables.getRouteTable(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).show(table, columns: RouteTablesCommand.columns)
    }
  }

  struct AddRoute: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Add routes to a route table.",
      discussion:
        "Example: dpuctl route-tables add-route main --tenant acme --vpc blue --route 10.9.0.0/16=nic:fw-1")
    @Argument(help: "Route table id.") var id: String
    @Option(help: "Tenant id.") var tenant: String
    @Option(help: "VPC id.") var vpc: String
    @Option(help: "A route (repeatable).") var route: [RouteArgument] = []
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let name = RouteTablesCommand.name(tenant, vpc, id)
      let added = route.map { $0.route(tenant: tenant) }
      let requestID = options.resolvedRequestID
      let table = try await options.run { client in
        let current = try await client.call(.safe) {
          try await client.routeTables.getRouteTable(.with { $0.name = name }, metadata: $0, options: $1)
        }
        let request = Bulkhead_V1_UpdateRouteTableRequest.with {
          $0.routeTable.name = name
          $0.routeTable.routes = current.routes + added
          $0.updateMask.paths = ["routes"]
          $0.requestID = requestID
        }
        return try await client.call(.idempotentWithRequestID) {
          try await client.routeTables.updateRouteTable(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).show(table, columns: RouteTablesCommand.columns)
    }
  }

  struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete a route table no subnet uses.")
    @Argument(help: "Route table id.") var id: String
    @Option(help: "Tenant id.") var tenant: String
    @Option(help: "VPC id.") var vpc: String
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_DeleteRouteTableRequest.with {
        $0.name = RouteTablesCommand.name(tenant, vpc, id)
        $0.requestID = options.resolvedRequestID
      }
      let response = try await options.run { client in
        try await client.call(.idempotentWithRequestID) {
          try await client.routeTables.deleteRouteTable(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).deleted(response)
    }
  }
}
