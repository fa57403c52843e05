import ArgumentParser
import ProviderAPI

/// `DIRECTION:PROTOCOL:PORTS:PEER`, e.g. `ingress:tcp:443:0.0.0.0/0`,
/// `ingress:udp:1000-2000:10.0.0.0/8`, `egress:any:all:::/0`,
/// `ingress:tcp:22:group:blue/bastion`.
struct RuleArgument: ExpressibleByArgument {
  var rule: Bulkhead_V1_SecurityGroupRule
  var peerGroup: String?

  init?(argument: String) {
    let parts = argument.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false)
    guard parts.count == 4 else { return nil }
    var rule = Bulkhead_V1_SecurityGroupRule()
    switch parts[0] {
    case "ingress": rule.direction = .ingress
    case "egress": rule.direction = .egress
    default: return nil
    }
    switch parts[1] {
    case "any": rule.protocol = .any
    case "tcp": rule.protocol = .tcp
    case "udp": rule.protocol = .udp
    case "icmp": rule.protocol = .icmp
    case "icmpv6": rule.protocol = .icmpv6
    default: return nil
    }
    if parts[2] != "all" {
      let ports = parts[2].split(separator: "-")
      guard (1...2).contains(ports.count), let from = UInt32(ports[0]), let to = UInt32(ports.last!) else {
        return nil
      }
      rule.fromPort = from
      rule.toPort = to
    }
    if parts[3].hasPrefix("group:") {
      peerGroup = String(parts[3].dropFirst(6))
    } else {
      rule.cidrBlock = String(parts[3])
    }
    self.rule = rule
  }

  static var defaultCompletionKind: CompletionKind { .default }

  func resolved(tenant: String) -> Bulkhead_V1_SecurityGroupRule {
    var rule = rule
    if let peerGroup {
      rule.peerSecurityGroup = Names.inVPC(peerGroup, tenant: tenant, collection: "securityGroups")
    }
    return rule
  }
}

struct SecurityGroupsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "security-groups", abstract: "Create, list, show and delete security groups; add rules.",
    subcommands: [Create.self, List.self, Get.self, AddRule.self, Delete.self])

  static var columns: [(String, (Bulkhead_V1_SecurityGroup) -> String)] {
    [
      ("name", \.name), ("description", \.description_p), ("rules", { "\($0.rules.count)" }),
    ]
  }

  static func name(_ tenant: String, _ vpc: String, _ id: String) -> String {
    Names.vpc(tenant, vpc) + "/securityGroups/" + id
  }

  struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Create a security group.",
      discussion: """
        Rules are DIRECTION:PROTOCOL:PORTS:PEER, e.g. ingress:tcp:443:0.0.0.0/0,
        ingress:udp:1000-2000:10.0.0.0/8, egress:any:all:0.0.0.0/0, ingress:tcp:22:group:blue/bastion.
        Example: dpuctl security-groups create web --tenant acme --vpc blue --rule ingress:tcp:443:0.0.0.0/0
        """)
    @Argument(help: "Group id.") var id: String
    @Option(help: "Tenant id.") var tenant: String
    @Option(help: "VPC id.") var vpc: String
    @Option(help: "What the group is for.") var description = ""
    @Option(help: "A rule (repeatable).") var rule: [RuleArgument] = []
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_CreateSecurityGroupRequest.with {
        $0.parent = Names.vpc(tenant, vpc)
        $0.securityGroupID = id
        $0.securityGroup.description_p = description
        $0.securityGroup.rules = rule.map { $0.resolved(tenant: tenant) }
        $0.requestID = options.resolvedRequestID
      }
      let group = try await options.run { client in
        try await client.call(.idempotentWithRequestID) {
          try await client.securityGroups.createSecurityGroup(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).show(group, columns: SecurityGroupsCommand.columns)
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List a VPC's security groups.")
    @Option(help: "Tenant id.") var tenant: String
    @Option(help: "VPC id.") var vpc: String
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_ListSecurityGroupsRequest.with { $0.parent = Names.vpc(tenant, vpc) }
      let page = try await options.run { client in
        try await client.call(.safe) {
          try await client.securityGroups.listSecurityGroups(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).list(
        page.securityGroups, nextPageToken: page.nextPageToken, columns: SecurityGroupsCommand.columns)
    }
  }

  struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a security group.")
    @Argument(help: "Group id.") var id: String
    @Option(help: "Tenant id.") var tenant: String
    @Option(help: "VPC id.") var vpc: String
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_GetSecurityGroupRequest.with {
        $0.name = SecurityGroupsCommand.name(tenant, vpc, id)
      }
      let group = try await options.run { client in
        try await client.call(.safe) {
          try await client.securityGroups.getSecurityGroup(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).show(group, columns: SecurityGroupsCommand.columns)
    }
  }

  struct AddRule: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Add rules to a security group.",
      discussion:
        "Example: dpuctl security-groups add-rule web --tenant acme --vpc blue --rule ingress:tcp:80:0.0.0.0/0"
    )
    @Argument(help: "Group id.") var id: String
    @Option(help: "Tenant id.") var tenant: String
    @Option(help: "VPC id.") var vpc: String
    @Option(help: "A rule (repeatable).") var rule: [RuleArgument] = []
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let name = SecurityGroupsCommand.name(tenant, vpc, id)
      let added = rule.map { $0.resolved(tenant: tenant) }
      let requestID = options.resolvedRequestID
      let group = try await options.run { client in
        let current = try await client.call(.safe) {
          try await client.securityGroups.getSecurityGroup(
            .with { $0.name = name }, metadata: $0, options: $1)
        }
        let request = Bulkhead_V1_UpdateSecurityGroupRequest.with {
          $0.securityGroup.name = name
          $0.securityGroup.rules = current.rules + added
          $0.updateMask.paths = ["rules"]
          $0.requestID = requestID
        }
        return try await client.call(.idempotentWithRequestID) {
          try await client.securityGroups.updateSecurityGroup(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).show(group, columns: SecurityGroupsCommand.columns)
    }
  }

  struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete a security group no NIC uses.")
    @Argument(help: "Group id.") var id: String
    @Option(help: "Tenant id.") var tenant: String
    @Option(help: "VPC id.") var vpc: String
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_DeleteSecurityGroupRequest.with {
        $0.name = SecurityGroupsCommand.name(tenant, vpc, id)
        $0.requestID = options.resolvedRequestID
      }
      let response = try await options.run { client in
        try await client.call(.idempotentWithRequestID) {
          try await client.securityGroups.deleteSecurityGroup(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).deleted(response)
    }
  }
}
