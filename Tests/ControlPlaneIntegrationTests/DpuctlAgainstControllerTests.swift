import Foundation
import Testing

/// Starts the real controller and drives it only through the dpuctl binary,
/// checking its JSON output, messages and exit codes.
@Suite(.serialized) struct DpuctlAgainstControllerTests {
  @Test func aTenantNetworkFromScratch() async throws {
    let controller = try await RunningController(vniRange: "100-101")
    defer { controller.stop() }
    let at = "unix:\(controller.socket)"
    func run(_ arguments: String..., token: String = "admin-token") throws -> Invocation {
      try dpuctl(arguments, token: token, controller: at)
    }

    let card = try run(
      "cards", "register", "c1", "--serial", "S1", "--host", "h1", "--underlay-ip", "192.0.2.17", "-o", "json"
    )
    #expect(card.status == 0, "\(card.errorOutput)")
    #expect(card.object["name"] as? String == "cards/c1")
    #expect(card.object["health"] as? String == "CARD_HEALTH_PENDING")
    #expect(card.object["underlayIp"] as? String == "192.0.2.17")
    let badCard = try run("cards", "register", "c2", "--underlay-ip", "192.0.2.300")
    #expect(badCard.status == 4)
    #expect(badCard.errorOutput.contains("card.underlay_ip '192.0.2.300' is not an IP address"))
    #expect(try run("tenants", "create", "acme", "--display-name", "ACME").status == 0)
    #expect(try run("tenants", "create", "beta").status == 0)

    // A retry with the same request id is answered with the first result.
    let vpcArguments = ["vpcs", "create", "blue", "--tenant", "acme", "--cidr", "10.0.0.0/16", "-o", "json"]
    let first = try dpuctl(vpcArguments + ["--request-id", "fixed-1"], controller: at)
    let retry = try dpuctl(vpcArguments + ["--request-id", "fixed-1"], controller: at)
    #expect(first.status == 0, "\(first.errorOutput)")
    #expect(first.object["vni"] as? Int == 100)
    #expect(retry.status == 0)
    #expect(retry.output == first.output)
    let reused = try dpuctl(
      ["vpcs", "create", "green", "--tenant", "acme", "--cidr", "10.1.0.0/16", "--request-id", "fixed-1"],
      controller: at)
    #expect(reused.status == 4)
    #expect(reused.errorOutput.contains("request_id 'fixed-1' was already used for a different request"))

    #expect(
      try run("subnets", "create", "web", "--tenant", "acme", "--vpc", "blue", "--cidr", "10.0.1.0/24").status
        == 0)
    let outside = try run(
      "subnets", "create", "far", "--tenant", "acme", "--vpc", "blue", "--cidr", "10.9.0.0/8")
    #expect(outside.status == 4)
    #expect(outside.errorOutput.contains("subnet.cidr_block '10.9.0.0/8' has host bits set"))

    let group = try run(
      "security-groups", "create", "web", "--tenant", "acme", "--vpc", "blue", "--rule",
      "ingress:tcp:443:0.0.0.0/0",
      "-o", "json")
    #expect(group.status == 0, "\(group.errorOutput)")
    let nic = try run(
      "nics", "create", "web-1", "--tenant", "acme", "--subnet", "blue/web", "--mac", "02:00:00:00:01:05",
      "--ip",
      "10.0.1.5", "--security-group", "blue/web", "--card", "c1", "-o", "json")
    #expect(nic.status == 0, "\(nic.errorOutput)")
    #expect(nic.object["securityGroups"] as? [String] == ["tenants/acme/vpcs/blue/securityGroups/web"])
    let duplicate = try run(
      "nics", "create", "web-2", "--tenant", "acme", "--subnet", "blue/web", "--mac", "02:00:00:00:01:05",
      "--card",
      "c1")
    #expect(duplicate.status == 4)
    #expect(duplicate.errorOutput.contains("nic.mac_address '02:00:00:00:01:05' is already used"))

    let nics = try run("nics", "list", "--tenant", "acme", "-o", "json")
    #expect(nics.array.map { $0["macAddress"] as? String } == ["02:00:00:00:01:05"])
    let table = try run("nics", "list", "--tenant", "acme")
    #expect(table.output.hasPrefix("NAME"))
    #expect(table.output.contains("tenants/acme/nics/web-1"))

    #expect(
      try run(
        "route-tables", "create", "main", "--tenant", "acme", "--vpc", "blue", "--route", "0.0.0.0/0=drop"
      )
      .status == 0)
    let routes = try run(
      "route-tables", "add-route", "main", "--tenant", "acme", "--vpc", "blue", "--route",
      "10.9.0.0/16=nic:web-1",
      "-o", "json")
    #expect((routes.object["routes"] as? [Any])?.count == 2)

    // Tenant isolation seen from the CLI.
    let denied = try run("vpcs", "list", "--tenant", "acme", token: "beta-token")
    #expect(denied.status == 5)
    let own = try run("tenants", "list", "-o", "json", token: "acme-token")
    #expect(own.array.map { $0["name"] as? String } == ["tenants/acme"])
    let unknownToken = try run("tenants", "list", token: "wrong")
    #expect(unknownToken.status == 5)

    #expect(try run("vpcs", "get", "nope", "--tenant", "acme").status == 3)

    // The VNI range holds two VPCs.
    #expect(try run("vpcs", "create", "green", "--tenant", "beta", "--cidr", "10.1.0.0/16").status == 0)
    let exhausted = try run("vpcs", "create", "red", "--tenant", "beta", "--cidr", "10.2.0.0/16")
    #expect(exhausted.status == 4)
    #expect(exhausted.errorOutput.contains("all 2 VNIs (100...101) are allocated"))

    let cards = try run("cards", "list", "-o", "json")
    #expect(cards.array.count == 1)
  }

  @Test func anUnreachableControllerSaysHowToStartIt() throws {
    let result = try dpuctl(
      ["tenants", "list", "--attempts", "2"], controller: "unix:/nonexistent/bulkhead.sock")
    #expect(result.status == 6)
    #expect(result.errorOutput.contains("is unreachable"))
    #expect(result.errorOutput.contains("start it with `bulkhead-controller"))
  }

  @Test func helpShowsExamplesAndExitCodes() throws {
    let help = try dpuctl(["--help"], controller: "unix:/unused")
    #expect(help.status == 0)
    #expect(help.output.contains("dpuctl vpcs create blue --tenant acme --cidr 10.0.0.0/16"))
    #expect(help.output.contains("6   controller unreachable"))
  }
}
