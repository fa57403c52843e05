import ArgumentParser
import ProviderAPI

extension Bulkhead_V1_Encapsulation: ExpressibleByArgument {
  public init?(argument: String) {
    switch argument.lowercased() {
    case "geneve": self = .geneve
    case "vxlan": self = .vxlan
    default: return nil
    }
  }
}

struct VpcsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "vpcs", abstract: "Create, list, show and delete VPCs.",
    subcommands: [Create.self, List.self, Get.self, Delete.self])

  static var columns: [(String, (Bulkhead_V1_Vpc) -> String)] {
    [
      ("name", \.name), ("cidr blocks", { $0.cidrBlocks.joined(separator: ",") }), ("vni", { "\($0.vni)" }),
      ("encapsulation", { $0.encapsulation == .vxlan ? "vxlan" : "geneve" }),
    ]
  }

  struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Create a VPC; the controller allocates its VNI.",
      discussion: "Example: dpuctl vpcs create blue --tenant acme --cidr 10.0.0.0/16 --encapsulation geneve")
    @Argument(help: "VPC id.") var id: String
    @Option(help: "Tenant id.") var tenant: String
    @Option(help: "CIDR block (repeatable).") var cidr: [String] = []
    @Option(help: "geneve or vxlan.") var encapsulation: Bulkhead_V1_Encapsulation = .geneve
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_CreateVpcRequest.with {
        $0.parent = Names.tenant(tenant)
        $0.vpcID = id
        $0.vpc.cidrBlocks = cidr
        $0.vpc.encapsulation = encapsulation
        $0.requestID = options.resolvedRequestID
      }
      let vpc = try await options.run { client in
        try await client.call(.idempotentWithRequestID) {
          try await client.vpcs.createVpc(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).show(vpc, columns: VpcsCommand.columns)
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List a tenant's VPCs.")
    @Option(help: "Tenant id.") var tenant: String
    @Option(help: "Page size.") var pageSize: Int32 = 0
    @Option(help: "Token of the page to show.") var pageToken = ""
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_ListVpcsRequest.with {
        $0.parent = Names.tenant(tenant)
        $0.pageSize = pageSize
        $0.pageToken = pageToken
      }
      let page = try await options.run { client in
        try await client.call(.safe) { try await client.vpcs.listVpcs(request, metadata: $0, options: $1) }
      }
      try Printer(format: options.output).list(
        page.vpcs, nextPageToken: page.nextPageToken, columns: VpcsCommand.columns)
    }
  }

  struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a VPC.")
    @Argument(help: "VPC id.") var id: String
    @Option(help: "Tenant id.") var tenant: String
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_GetVpcRequest.with { $0.name = Names.vpc(tenant, id) }
      let vpc = try await options.run { client in
        try await client.call(.safe) { try await client.vpcs.getVpc(request, metadata: $0, options: $1) }
      }
      try Printer(format: options.output).show(vpc, columns: VpcsCommand.columns)
    }
  }

  struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete a VPC with nothing left in it.")
    @Argument(help: "VPC id.") var id: String
    @Option(help: "Tenant id.") var tenant: String
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_DeleteVpcRequest.with {
        $0.name = Names.vpc(tenant, id)
        $0.requestID = options.resolvedRequestID
      }
      let response = try await options.run { client in
        try await client.call(.idempotentWithRequestID) {
          try await client.vpcs.deleteVpc(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).deleted(response)
    }
  }
}

struct SubnetsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "subnets", abstract: "Create, list, show and delete subnets of a VPC.",
    subcommands: [Create.self, List.self, Get.self, Delete.self])

  static var columns: [(String, (Bulkhead_V1_Subnet) -> String)] {
    [
      ("name", \.name), ("cidr block", \.cidrBlock), ("route table", \.routeTable),
    ]
  }

  struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Create a subnet inside one of the VPC's blocks.",
      discussion: "Example: dpuctl subnets create web --tenant acme --vpc blue --cidr 10.0.1.0/24")
    @Argument(help: "Subnet id.") var id: String
    @Option(help: "Tenant id.") var tenant: String
    @Option(help: "VPC id.") var vpc: String
    @Option(help: "CIDR block.") var cidr: String
    @Option(help: "Route table id of the same VPC.") var routeTable: String?
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_CreateSubnetRequest.with {
        $0.parent = Names.vpc(tenant, vpc)
        $0.subnetID = id
        $0.subnet.cidrBlock = cidr
        if let routeTable { $0.subnet.routeTable = Names.vpc(tenant, vpc) + "/routeTables/" + routeTable }
        $0.requestID = options.resolvedRequestID
      }
      let subnet = try await options.run { client in
        try await client.call(.idempotentWithRequestID) {
          try await client.subnets.createSubnet(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).show(subnet, columns: SubnetsCommand.columns)
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List a VPC's subnets.")
    @Option(help: "Tenant id.") var tenant: String
    @Option(help: "VPC id.") var vpc: String
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_ListSubnetsRequest.with { $0.parent = Names.vpc(tenant, vpc) }
      let page = try await options.run { client in
        try await client.call(.safe) {
          try await client.subnets.listSubnets(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).list(
        page.subnets, nextPageToken: page.nextPageToken, columns: SubnetsCommand.columns)
    }
  }

  struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a subnet.")
    @Argument(help: "Subnet id.") var id: String
    @Option(help: "Tenant id.") var tenant: String
    @Option(help: "VPC id.") var vpc: String
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_GetSubnetRequest.with { $0.name = Names.vpc(tenant, vpc) + "/subnets/" + id }
      let subnet = try await options.run { client in
        try await client.call(.safe) {
          try await client.subnets.getSubnet(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).show(subnet, columns: SubnetsCommand.columns)
    }
  }

  struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete a subnet with no NICs.")
    @Argument(help: "Subnet id.") var id: String
    @Option(help: "Tenant id.") var tenant: String
    @Option(help: "VPC id.") var vpc: String
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_DeleteSubnetRequest.with {
        $0.name = Names.vpc(tenant, vpc) + "/subnets/" + id
        $0.requestID = options.resolvedRequestID
      }
      let response = try await options.run { client in
        try await client.call(.idempotentWithRequestID) {
          try await client.subnets.deleteSubnet(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).deleted(response)
    }
  }
}
