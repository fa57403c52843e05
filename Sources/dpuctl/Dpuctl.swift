import ArgumentParser

/// The provider's command line for Bulkhead: tenants, VPCs, subnets, NICs,
/// security groups, route tables, volumes, attachments and cards, through
/// the controller's API.
@main
struct Dpuctl: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "dpuctl",
    abstract:
      "Manage a Bulkhead fleet: tenants, VPCs, subnets, NICs, security groups, routes, volumes, cards.",
    discussion: """
      Examples:
        export BULKHEAD_TOKEN=...            # a provider-admin or tenant token
        dpuctl cards register rack1-slot3 --serial MT2231X01234 --host host-17
        dpuctl tenants create acme --display-name "ACME Corp"
        dpuctl vpcs create blue --tenant acme --cidr 10.0.0.0/16
        dpuctl subnets create web --tenant acme --vpc blue --cidr 10.0.1.0/24
        dpuctl security-groups create web --tenant acme --vpc blue --rule ingress:tcp:443:0.0.0.0/0
        dpuctl nics create web-1 --tenant acme --subnet blue/web --mac 02:00:00:00:01:05 \\
            --ip 10.0.1.5 --security-group blue/web --card rack1-slot3
        dpuctl volumes create data --tenant acme --size 10GiB --backend file:///srv/volumes/data.img
        dpuctl attachments create data-1 --tenant acme --card rack1-slot3 --volume data \\
            --host-function data.sock
        dpuctl vpcs list --tenant acme --output json

      Every change carries a request id (a new UUID per invocation, or
      --request-id): running the same command again with the same id is
      answered with the first result and does nothing twice.

      Exit codes:
        0   success
        1   unexpected error
        3   not found
        4   rejected: invalid, already exists, still in use
        5   not authorized: unknown token, or another tenant's resource
        6   controller unreachable (or failing repeatedly)
        7   deadline exceeded
        64  bad command line
      """,
    subcommands: [
      TenantsCommand.self, VpcsCommand.self, SubnetsCommand.self, NicsCommand.self,
      SecurityGroupsCommand.self, RouteTablesCommand.self, CardsCommand.self, PKICommand.self,
      IpsecTunnelsCommand.self, VolumesCommand.self, AttachmentsCommand.self, FirmwareCommand.self,
      EmuCommand.self, GuestCommand.self,
    ])
}
