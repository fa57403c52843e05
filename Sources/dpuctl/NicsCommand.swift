import ArgumentParser
import ProviderAPI

struct NicsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "nics", abstract: "Create, list, show and delete tenant NICs.",
    subcommands: [Create.self, List.self, Get.self, Delete.self])

  static var columns: [(String, (Bulkhead_V1_Nic) -> String)] {
    [
      ("name", \.name), ("subnet", \.subnet), ("mac", \.macAddress),
      ("ips", { $0.ipAddresses.joined(separator: ",") }), ("card", \.card),
      ("security groups", { $0.securityGroups.joined(separator: ",") }),
    ]
  }

  struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Create a NIC in a subnet, served by a card.",
      discussion: """
        Example: dpuctl nics create web-1 --tenant acme --subnet blue/web --mac 02:00:00:00:01:05 \\
                   --ip 10.0.1.5 --security-group blue/web --card rack1-slot3
        """)
    @Argument(help: "NIC id.") var id: String
    @Option(help: "Tenant id.") var tenant: String
    @Option(help: "Subnet as VPC/SUBNET (or a full name).") var subnet: String
    @Option(help: "MAC address, e.g. 02:00:00:00:01:05.") var mac: String
    @Option(help: "IP address inside the subnet (repeatable).") var ip: [String] = []
    @Option(help: "Security group as VPC/GROUP (repeatable).") var securityGroup: [String] = []
    @Option(help: "Card id that serves the NIC.") var card: String
    @Option(help: "Bandwidth limit in Mbit/s (0: none).") var maxBandwidthMbps: UInt32 = 0
    @Option(help: "Packet rate limit (0: none).") var maxPacketsPerSecond: UInt32 = 0
    @Flag(help: "Let the NIC send from addresses that are not its own.") var noSourceGuard = false
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_CreateNicRequest.with {
        $0.parent = Names.tenant(tenant)
        $0.nicID = id
        $0.nic.subnet = Names.inVPC(subnet, tenant: tenant, collection: "subnets")
        $0.nic.macAddress = mac
        $0.nic.ipAddresses = ip
        $0.nic.securityGroups = securityGroup.map {
          Names.inVPC($0, tenant: tenant, collection: "securityGroups")
        }
        $0.nic.card = Names.card(card)
        $0.nic.sourceGuard = !noSourceGuard
        $0.nic.rateLimits.maxBandwidthMbps = maxBandwidthMbps
        $0.nic.rateLimits.maxPacketsPerSecond = maxPacketsPerSecond
        $0.requestID = options.resolvedRequestID
      }
      let nic = try await options.run { client in
        try await client.call(.idempotentWithRequestID) {
          try await client.nics.createNic(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).show(nic, columns: NicsCommand.columns)
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List a tenant's NICs.")
    @Option(help: "Tenant id.") var tenant: String
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_ListNicsRequest.with { $0.parent = Names.tenant(tenant) }
      let page = try await options.run { client in
        try await client.call(.safe) { try await client.nics.listNics(request, metadata: $0, options: $1) }
      }
      try Printer(format: options.output).list(
        page.nics, nextPageToken: page.nextPageToken, columns: NicsCommand.columns)
    }
  }

  struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a NIC.")
    @Argument(help: "NIC id.") var id: String
    @Option(help: "Tenant id.") var tenant: String
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_GetNicRequest.with { $0.name = Names.tenant(tenant) + "/nics/" + id }
      let nic = try await options.run { client in
        try await client.call(.safe) { try await client.nics.getNic(request, metadata: $0, options: $1) }
      }
      try Printer(format: options.output).show(nic, columns: NicsCommand.columns)
    }
  }

  struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete a NIC.")
    @Argument(help: "NIC id.") var id: String
    @Option(help: "Tenant id.") var tenant: String
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_DeleteNicRequest.with {
        $0.name = Names.tenant(tenant) + "/nics/" + id
        $0.requestID = options.resolvedRequestID
      }
      let response = try await options.run { client in
        try await client.call(.idempotentWithRequestID) {
          try await client.nics.deleteNic(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).deleted(response)
    }
  }
}
