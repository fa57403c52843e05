import ArgumentParser
import ProviderAPI

/// `dpuctl attachments`: guest attachments, the API's record of which host
/// function of which card presents a tenant's volume (virtio-blk) or NIC
/// (virtio-net). `dpuctl guest` is the other end, on the host: it plugs the
/// function a card serves into a QEMU guest.
struct AttachmentsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "attachments", abstract: "Attach volumes and NICs to cards' host functions.",
    discussion: """
      An attachment of a volume puts the volume in the card's slice: the card
      serves it as virtio-blk on the host function, with the data key the
      controller wraps for that card. Deleting the attachment detaches it
      (the card flushes it and zeroes the key). A read-write volume has one
      attachment at a time; a read-only one may have several.

      On the host, `dpuctl guest` connects the function to a QEMU guest; this
      command only says which function serves what.

      Examples:
        dpuctl attachments create data-c1 --tenant acme --card rack1-slot3 --volume data \\
            --host-function data.sock
        dpuctl attachments create web-1 --tenant acme --card rack1-slot3 --nic web-1 --host-function 0000:3b:00.2
        dpuctl attachments list --tenant acme
        dpuctl attachments delete data-c1 --tenant acme
      """,
    subcommands: [Create.self, List.self, Get.self, Delete.self])

  static var columns: [(String, (Bulkhead_V1_GuestAttachment) -> String)] {
    [
      ("name", \.name), ("card", \.card),
      (
        "device",
        {
          switch $0.device {
          case .volume(let volume): return "volume " + volume
          case .nic(let nic): return "nic " + nic
          case .none: return "-"
          }
        }
      ),
      ("host function", \.hostFunction),
    ]
  }

  static func name(_ tenant: String, _ id: String) -> String {
    Names.tenant(tenant) + "/guestAttachments/" + id
  }

  struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Attach a volume or a NIC to a host function of a card.",
      discussion: """
        --host-function is a plain name of 1 to 64 letters, digits, '.', '-',
        '_' or ':', not starting with '.': a PCI function on hardware
        (0000:3b:00.2) or, in the emulator, the vhost-user socket's file
        name in the card's host-function folder (data.sock).

        Examples:
          dpuctl attachments create data-c1 --tenant acme --card rack1-slot3 --volume data \\
              --host-function data.sock
          dpuctl attachments create web-1 --tenant acme --card rack1-slot3 --nic web-1 \\
              --host-function 0000:3b:00.2
        """)
    @Argument(help: "Attachment id.") var id: String
    @Option(help: "Tenant id.") var tenant: String
    @Option(help: "Card id that serves the function.") var card: String
    @Option(help: "Volume id (or a full name) to present as virtio-blk.") var volume: String?
    @Option(help: "NIC id (or a full name) to present as virtio-net.") var nic: String?
    @Option(help: "Host function, e.g. 0000:3b:00.2 or data.sock.") var hostFunction: String
    @Option(help: "Queue pairs (NICs).") var queuePairs: UInt32 = 1
    @Option(help: "MTU (NICs), 68 to 9000.") var mtu: UInt32 = 1500
    @OptionGroup var options: GlobalOptions

    func validate() throws {
      guard (volume == nil) != (nic == nil) else {
        throw ValidationError("give exactly one of --volume NAME or --nic NAME")
      }
    }

    func run() async throws {
      let request = Bulkhead_V1_CreateGuestAttachmentRequest.with {
        $0.parent = Names.tenant(tenant)
        $0.guestAttachmentID = id
        $0.guestAttachment.card = Names.card(card)
        if let volume {
          $0.guestAttachment.volume = Names.inTenant(volume, tenant: tenant, collection: "volumes")
        }
        if let nic { $0.guestAttachment.nic = Names.inTenant(nic, tenant: tenant, collection: "nics") }
        $0.guestAttachment.hostFunction = hostFunction
        $0.guestAttachment.queuePairs = queuePairs
        $0.guestAttachment.mtu = mtu
        $0.requestID = options.resolvedRequestID
      }
      let attachment = try await options.run { client in
        try await client.call(.idempotentWithRequestID) {
          try await client.guestAttachments.createGuestAttachment(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).show(attachment, columns: AttachmentsCommand.columns)
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List a tenant's attachments.")
    @Option(help: "Tenant id.") var tenant: String
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_ListGuestAttachmentsRequest.with { $0.parent = Names.tenant(tenant) }
      let page = try await options.run { client in
        try await client.call(.safe) {
          try await client.guestAttachments.listGuestAttachments(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).list(
        page.guestAttachments, nextPageToken: page.nextPageToken, columns: AttachmentsCommand.columns)
    }
  }

  struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show an attachment.")
    @Argument(help: "Attachment id.") var id: String
    @Option(help: "Tenant id.") var tenant: String
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_GetGuestAttachmentRequest.with {
        $0.name = AttachmentsCommand.name(tenant, id)
      }
      let attachment = try await options.run { client in
        try await client.call(.safe) {
          try await client.guestAttachments.getGuestAttachment(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).show(attachment, columns: AttachmentsCommand.columns)
    }
  }

  struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Delete an attachment; the card stops serving the function.",
      discussion: "Example: dpuctl attachments delete data-c1 --tenant acme")
    @Argument(help: "Attachment id.") var id: String
    @Option(help: "Tenant id.") var tenant: String
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_DeleteGuestAttachmentRequest.with {
        $0.name = AttachmentsCommand.name(tenant, id)
        $0.requestID = options.resolvedRequestID
      }
      let response = try await options.run { client in
        try await client.call(.idempotentWithRequestID) {
          try await client.guestAttachments.deleteGuestAttachment(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).deleted(response)
    }
  }
}
