import ArgumentParser
import Foundation
import ProviderAPI

/// `dpuctl ipsec-tunnels`: a VPC's tunnels to outside sites, manually
/// keyed (IKEv2 comes later). The card whose underlay address is
/// `--local-ip` terminates the tunnel; the site's prefix is routed to it.
struct IpsecTunnelsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ipsec-tunnels", abstract: "Create, list, show and delete IPsec tunnels to outside sites.",
    subcommands: [Create.self, List.self, Get.self, Rekey.self, Delete.self])

  static var columns: [(String, (Bulkhead_V1_IpsecTunnel) -> String)] {
    [
      ("name", \.name), ("local", \.localIp), ("remote", \.remoteIp),
      ("remote-cidrs", { $0.remoteCidrs.joined(separator: ",") }),
      ("cipher", { $0.cipher == .aesGcm128 ? "aes-gcm-128" : "aes-gcm-256" }),
      ("spi-in", { "0x" + String($0.inboundSpi, radix: 16) }),
      ("spi-out", { "0x" + String($0.outboundSpi, radix: 16) }),
      ("keys", { $0.wrappedInboundKey.isEmpty ? "none" : "set" }),
      (
        "rekey",
        {
          $0.nextInboundSpi != 0
            ? "pending spi-in 0x" + String($0.nextInboundSpi, radix: 16) + " spi-out 0x"
              + String($0.nextOutboundSpi, radix: 16) : "-"
        }
      ),
    ]
  }

  static func name(_ tenant: String, _ vpc: String, _ id: String) -> String {
    Names.vpc(tenant, vpc) + "/ipsecTunnels/" + id
  }

  /// An SPI as decimal or 0x-hex.
  struct SPI: ExpressibleByArgument {
    var value: UInt32
    init?(argument: String) {
      let parsed =
        argument.hasPrefix("0x") ? UInt32(argument.dropFirst(2), radix: 16) : UInt32(argument)
      guard let parsed, parsed >= 256 else { return nil }
      value = parsed
    }
  }

  struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Create a tunnel from a card to an outside site's IPsec gateway.",
      discussion: """
        Manual keys: the SPIs and keys must match the remote peer's. Keys are
        the AES key then the 4-byte salt, in hex (40 digits for aes-gcm-128,
        72 for aes-gcm-256), as `ip xfrm state ... aead 'rfc4106(gcm(aes))'`
        takes them. The controller keeps them wrapped and never shows them
        again. With --generate-keys dpuctl draws SPIs and keys itself and
        prints, once, the `ip xfrm` commands for a Linux peer.

        Examples:
          dpuctl ipsec-tunnels create hq --tenant acme --vpc blue --local-ip 10.255.1.2 \\
            --remote-ip 203.0.113.9 --remote-cidr 10.254.1.0/24 --generate-keys
          dpuctl ipsec-tunnels create hq --tenant acme --vpc blue --local-ip 10.255.1.2 \\
            --remote-ip 203.0.113.9 --remote-cidr 10.254.1.0/24 --cipher aes-gcm-128 \\
            --inbound-spi 0x1001 --inbound-key HEX --outbound-spi 0x2002 --outbound-key HEX
        """)
    @Argument(help: "Tunnel id.") var id: String
    @Option(help: "Tenant id.") var tenant: String
    @Option(help: "VPC id.") var vpc: String
    @Option(help: "Underlay address of the card that terminates the tunnel.") var localIp: String
    @Option(help: "The site gateway's address.") var remoteIp: String
    @Option(help: "The site's prefix.") var remoteCidr: String
    @Option(help: "aes-gcm-128 or aes-gcm-256.") var cipher: String = "aes-gcm-256"
    @Option(help: "SPI the site seals with (decimal or 0x-hex, 256 or more).") var inboundSpi: SPI?
    @Option(help: "SPI the card seals with.") var outboundSpi: SPI?
    @Option(help: "Key material the site seals with (hex).") var inboundKey: String?
    @Option(help: "Key material the card seals with (hex).") var outboundKey: String?
    @Flag(help: "Draw SPIs and keys here and print the remote peer's ip xfrm commands.") var generateKeys =
      false
    @Option(help: "Anti-replay window in packets (64-4096).") var replayWindow: UInt32 = 1024
    @Flag(help: "32-bit sequence numbers (no ESN, RFC 4303 §2.2.1).") var noEsn = false
    @OptionGroup var options: GlobalOptions

    func validate() throws {
      guard ["aes-gcm-128", "aes-gcm-256"].contains(cipher) else {
        throw ValidationError("--cipher '\(cipher)' is not aes-gcm-128 or aes-gcm-256")
      }
      let manual = [inboundSpi == nil, outboundSpi == nil, inboundKey == nil, outboundKey == nil]
      if generateKeys {
        guard manual.allSatisfy({ $0 }) else {
          throw ValidationError("--generate-keys draws the SPIs and keys; give none of them")
        }
      } else if manual.contains(true) {
        throw ValidationError(
          "give --inbound-spi, --inbound-key, --outbound-spi and --outbound-key (the remote peer's), or --generate-keys"
        )
      }
    }

    func run() async throws {
      let keyLength = cipher == "aes-gcm-128" ? 20 : 36
      let spiIn = inboundSpi?.value ?? IpsecTunnelsCommand.drawSPI()
      let spiOut = outboundSpi?.value ?? IpsecTunnelsCommand.drawSPI()
      let keyIn = inboundKey ?? IpsecTunnelsCommand.drawKey(byteCount: keyLength)
      let keyOut = outboundKey ?? IpsecTunnelsCommand.drawKey(byteCount: keyLength)
      let request = Bulkhead_V1_CreateIpsecTunnelRequest.with {
        $0.parent = Names.vpc(tenant, vpc)
        $0.ipsecTunnelID = id
        $0.ipsecTunnel.localIp = localIp
        $0.ipsecTunnel.remoteIp = remoteIp
        $0.ipsecTunnel.remoteCidrs = [remoteCidr]
        $0.ipsecTunnel.mode = .tunnel
        $0.ipsecTunnel.cipher = cipher == "aes-gcm-128" ? .aesGcm128 : .aesGcm256
        $0.ipsecTunnel.extendedSequenceNumbers = !noEsn
        $0.ipsecTunnel.antiReplayWindow = replayWindow
        $0.ipsecTunnel.inboundSpi = spiIn
        $0.ipsecTunnel.outboundSpi = spiOut
        $0.ipsecTunnel.inboundKey = keyIn
        $0.ipsecTunnel.outboundKey = keyOut
        $0.requestID = options.resolvedRequestID
      }
      let (tunnel, vpcCIDR) = try await options.run { client in
        let made = try await client.call(.idempotentWithRequestID) {
          try await client.ipsecTunnels.createIpsecTunnel(request, metadata: $0, options: $1)
        }
        guard generateKeys else { return (made, "") }
        let owner = try await client.call(.safe) {
          try await client.vpcs.getVpc(.with { $0.name = Names.vpc(tenant, vpc) }, metadata: $0, options: $1)
        }
        return (made, owner.cidrBlocks.first { !$0.contains(":") } ?? "VPC-CIDR")
      }
      try Printer(format: options.output).show(tunnel, columns: IpsecTunnelsCommand.columns)
      if generateKeys {
        let peer = IpsecTunnelsCommand.linuxPeer(
          local: localIp, remote: remoteIp, remoteCIDR: remoteCidr, vpcCIDR: vpcCIDR, spiIn: spiIn,
          spiOut: spiOut, keyIn: keyIn, keyOut: keyOut, esn: !noEsn, window: replayWindow)
        // On stderr, so `-o json` output stays one document.
        FileHandle.standardError.write(
          Data(
            ("# The remote peer (Linux); shown once, the controller keeps the keys wrapped:\n" + peer).utf8))
      }
    }
  }

  /// Random key material (hex) and an SPI, for --generate-keys.
  static func drawKey(byteCount: Int) -> String {
    var generator = SystemRandomNumberGenerator()
    return (0..<byteCount).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }
      .joined()
  }
  static func drawSPI() -> UInt32 {
    var generator = SystemRandomNumberGenerator()
    return UInt32.random(in: 0x1000...0x7FFF_FFFF, using: &generator)
  }

  struct Rekey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Rekey a tunnel without losing a packet: new SAs beside the old, then --commit.",
      discussion: """
        1. `rekey NAME --generate-keys` (or the four --inbound/--outbound options
           with the peer's new SPIs and keys): the card opens the new inbound
           SPI beside the current one and keeps sealing with the current
           outbound SA. dpuctl prints the peer's two new `ip xfrm state`
           lines; add them on the peer, which may seal with the new key
           from then on.
        2. `rekey NAME --commit`: the card seals with the new outbound SA;
           the old inbound SA stays open until the next rekey. The peer
           may then delete its old states.

        Examples:
          dpuctl ipsec-tunnels rekey hq --tenant acme --vpc blue --generate-keys
          dpuctl ipsec-tunnels rekey hq --tenant acme --vpc blue --commit
        """)
    @Argument(help: "Tunnel id.") var id: String
    @Option(help: "Tenant id.") var tenant: String
    @Option(help: "VPC id.") var vpc: String
    @Option(help: "New SPI the site seals with.") var inboundSpi: SPI?
    @Option(help: "New SPI the card seals with.") var outboundSpi: SPI?
    @Option(help: "New key material the site seals with (hex).") var inboundKey: String?
    @Option(help: "New key material the card seals with (hex).") var outboundKey: String?
    @Flag(help: "Draw the new SPIs and keys here and print the peer's new ip xfrm states.") var generateKeys =
      false
    @Flag(help: "Step 2: the card seals with the new keys.") var commit = false
    @OptionGroup var options: GlobalOptions

    func validate() throws {
      let manual = [inboundSpi == nil, outboundSpi == nil, inboundKey == nil, outboundKey == nil]
      if commit {
        guard manual.allSatisfy({ $0 }), !generateKeys else {
          throw ValidationError("--commit takes no keys: it puts in force the ones the first step gave")
        }
      } else if generateKeys {
        guard manual.allSatisfy({ $0 }) else {
          throw ValidationError("--generate-keys draws the SPIs and keys; give none of them")
        }
      } else if manual.contains(true) {
        throw ValidationError(
          "give --inbound-spi, --inbound-key, --outbound-spi and --outbound-key, or --generate-keys, or --commit"
        )
      }
    }

    func run() async throws {
      let name = IpsecTunnelsCommand.name(tenant, vpc, id)
      let requestID = options.resolvedRequestID
      var printed = ""
      let tunnel = try await options.run { client in
        var request = Bulkhead_V1_UpdateIpsecTunnelRequest.with {
          $0.ipsecTunnel.name = name
          $0.requestID = requestID
        }
        if commit {
          request.ipsecTunnel.commitRekey = true
          request.updateMask.paths = ["commit_rekey"]
        } else {
          let current = try await client.call(.safe) {
            try await client.ipsecTunnels.getIpsecTunnel(.with { $0.name = name }, metadata: $0, options: $1)
          }
          let length = current.cipher == .aesGcm128 ? 20 : 36
          let spiIn = inboundSpi?.value ?? IpsecTunnelsCommand.drawSPI()
          let spiOut = outboundSpi?.value ?? IpsecTunnelsCommand.drawSPI()
          let keyIn = inboundKey ?? IpsecTunnelsCommand.drawKey(byteCount: length)
          let keyOut = outboundKey ?? IpsecTunnelsCommand.drawKey(byteCount: length)
          request.ipsecTunnel.nextInboundSpi = spiIn
          request.ipsecTunnel.nextOutboundSpi = spiOut
          request.ipsecTunnel.nextInboundKey = keyIn
          request.ipsecTunnel.nextOutboundKey = keyOut
          request.updateMask.paths = [
            "next_inbound_spi", "next_outbound_spi", "next_inbound_key", "next_outbound_key",
          ]
          if generateKeys {
            printed =
              IpsecTunnelsCommand.linuxPeer(
                local: current.localIp, remote: current.remoteIp, remoteCIDR: current.remoteCidrs.first ?? "",
                vpcCIDR: "", spiIn: spiIn, spiOut: spiOut, keyIn: keyIn, keyOut: keyOut,
                esn: current.extendedSequenceNumbers, window: current.antiReplayWindow
              ).split(separator: "\n").filter { $0.hasPrefix("ip xfrm state") }.joined(separator: "\n") + "\n"
          }
        }
        let update = request
        return try await client.call(.idempotentWithRequestID) {
          try await client.ipsecTunnels.updateIpsecTunnel(update, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).show(tunnel, columns: IpsecTunnelsCommand.columns)
      if !printed.isEmpty {
        FileHandle.standardError.write(
          Data(
            ("# The remote peer's new states (shown once); then: dpuctl ipsec-tunnels rekey \(id) --commit\n"
              + printed).utf8))
      }
    }
  }

  /// The `ip xfrm` commands that make a Linux host at `remote` the site end
  /// of the tunnel.
  static func linuxPeer(
    local: String, remote: String, remoteCIDR: String, vpcCIDR: String, spiIn: UInt32, spiOut: UInt32,
    keyIn: String, keyOut: String, esn: Bool, window: UInt32
  ) -> String {
    let flags = esn ? " flag esn replay-window \(window)" : " replay-window \(min(window, 32))"
    let aead = "aead 'rfc4106(gcm(aes))'"
    let spi = { (v: UInt32) in "0x" + String(v, radix: 16) }
    return """
      ip xfrm state add src \(remote) dst \(local) proto esp spi \(spi(spiIn)) reqid 1 mode tunnel \(aead) 0x\(keyIn) 128\(flags)
      ip xfrm state add src \(local) dst \(remote) proto esp spi \(spi(spiOut)) reqid 1 mode tunnel \(aead) 0x\(keyOut) 128\(flags)
      ip xfrm policy add src \(remoteCIDR) dst \(vpcCIDR) dir out tmpl src \(remote) dst \(local) proto esp reqid 1 mode tunnel
      ip xfrm policy add src \(vpcCIDR) dst \(remoteCIDR) dir in tmpl src \(local) dst \(remote) proto esp reqid 1 mode tunnel
      ip xfrm policy add src \(vpcCIDR) dst \(remoteCIDR) dir fwd tmpl src \(local) dst \(remote) proto esp reqid 1 mode tunnel

      """
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List a VPC's IPsec tunnels.")
    @Option(help: "Tenant id.") var tenant: String
    @Option(help: "VPC id.") var vpc: String
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_ListIpsecTunnelsRequest.with { $0.parent = Names.vpc(tenant, vpc) }
      let page = try await options.run { client in
        try await client.call(.safe) {
          try await client.ipsecTunnels.listIpsecTunnels(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).list(
        page.ipsecTunnels, nextPageToken: page.nextPageToken, columns: IpsecTunnelsCommand.columns)
    }
  }

  struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show an IPsec tunnel.")
    @Argument(help: "Tunnel id.") var id: String
    @Option(help: "Tenant id.") var tenant: String
    @Option(help: "VPC id.") var vpc: String
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_GetIpsecTunnelRequest.with {
        $0.name = IpsecTunnelsCommand.name(tenant, vpc, id)
      }
      let tunnel = try await options.run { client in
        try await client.call(.safe) {
          try await client.ipsecTunnels.getIpsecTunnel(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).show(tunnel, columns: IpsecTunnelsCommand.columns)
    }
  }

  struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete an IPsec tunnel no route uses.")
    @Argument(help: "Tunnel id.") var id: String
    @Option(help: "Tenant id.") var tenant: String
    @Option(help: "VPC id.") var vpc: String
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_DeleteIpsecTunnelRequest.with {
        $0.name = IpsecTunnelsCommand.name(tenant, vpc, id)
        $0.requestID = options.resolvedRequestID
      }
      let response = try await options.run { client in
        try await client.call(.idempotentWithRequestID) {
          try await client.ipsecTunnels.deleteIpsecTunnel(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).deleted(response)
    }
  }
}
