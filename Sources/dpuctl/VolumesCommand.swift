import ArgumentParser
import ProviderAPI

/// `dpuctl volumes`: a tenant's encrypted block volumes. The controller
/// draws each volume's data key and keeps it wrapped; a volume reaches a
/// card when `dpuctl attachments create --volume` attaches it there.
struct VolumesCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "volumes", abstract: "Create, list, show, grow and delete encrypted volumes.",
    discussion: """
      A volume is served to a guest as virtio-blk by the card it is attached
      to (dpuctl attachments create ... --volume NAME). Its data key
      (AES-XTS-256) is drawn by the controller and never shown: the store
      keeps it wrapped, and each card serving the volume gets it wrapped
      with its own key-encryption key.

      Examples:
        dpuctl volumes create data --tenant acme --size 10GiB --backend file:///srv/volumes/data.img
        dpuctl volumes create logs --tenant acme --size 512MiB --backend nbd://192.0.2.10:10809/logs \\
            --sector-size 512 --queues 4
        dpuctl volumes resize data --tenant acme --size 20GiB
        dpuctl volumes list --tenant acme --output json
      """,
    subcommands: [Create.self, List.self, Get.self, Resize.self, Update.self, Delete.self])

  static var columns: [(String, (Bulkhead_V1_Volume) -> String)] {
    [
      ("name", \.name), ("number", { String($0.number) }), ("size", { ByteSize.text($0.sizeBytes) }),
      ("backend", \.backendUri), ("sector", { String($0.sectorSize) }),
      ("mode", { $0.readOnly ? "ro" : "rw" }), ("queues", { String($0.queues) }),
      ("cipher", { $0.encryption.cipher == .aesXts256 ? "aes-xts-256" : "\($0.encryption.cipher)" }),
      ("key", \.encryption.keyHandle),
    ]
  }

  static func name(_ tenant: String, _ id: String) -> String { Names.tenant(tenant) + "/volumes/" + id }

  struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Create a volume; the controller draws its data key.",
      discussion: """
        --backend is where the ciphertext lives, fixed at create; only the
        provider names one (a tenant's credential is refused). Without it the
        controller places the volume at file://ROOT/TENANT/ID.img (its
        --volume-root; cards take files only inside their --volume-dir):
          file:///ABS/PATH                      a file on the card's host
          nbd://IPV4[:PORT]/EXPORT              an NBD server (port 10809 by default)
          nbd+unix:///EXPORT?socket=/ABS/PATH   an NBD server on a unix socket
        --size takes bytes or a KiB, MiB, GiB or TiB suffix; it must be a
        multiple of --sector-size.

        Example: dpuctl volumes create data --tenant acme --size 10GiB --backend file:///srv/volumes/data.img
        """)
    @Argument(help: "Volume id.") var id: String
    @Option(help: "Tenant id.") var tenant: String
    @Option(help: "Size: bytes, or with a KiB/MiB/GiB/TiB suffix (e.g. 10GiB).") var size: ByteSize
    @Option(
      help:
        "Backend URI (file:///..., nbd://IPV4[:PORT]/EXPORT, nbd+unix:///EXPORT?socket=/...); provider only, default: the controller's volume root."
    )
    var backend: String?
    @Option(help: "Sector size (the XTS data unit): 512 or 4096.") var sectorSize: UInt32 = 4096
    @Flag(help: "The guest sees a read-only device; such a volume may be attached more than once.")
    var readOnly = false
    @Option(help: "Request queues, 1 to 16.") var queues: UInt32 = 2
    @Option(help: "IOPS limit (0: none).") var maxIops: UInt32 = 0
    @Option(help: "Bandwidth limit in Mbit/s (0: none).") var maxBandwidthMbps: UInt32 = 0
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_CreateVolumeRequest.with {
        $0.parent = Names.tenant(tenant)
        $0.volumeID = id
        $0.volume.sizeBytes = size.bytes
        $0.volume.backendUri = backend ?? ""
        $0.volume.sectorSize = sectorSize
        $0.volume.readOnly = readOnly
        $0.volume.queues = queues
        $0.volume.maxIops = maxIops
        $0.volume.maxBandwidthMbps = maxBandwidthMbps
        $0.volume.encryption.cipher = .aesXts256
        $0.requestID = options.resolvedRequestID
      }
      let volume = try await options.run { client in
        try await client.call(.idempotentWithRequestID) {
          try await client.volumes.createVolume(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).show(volume, columns: VolumesCommand.columns)
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List a tenant's volumes.")
    @Option(help: "Tenant id.") var tenant: String
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_ListVolumesRequest.with { $0.parent = Names.tenant(tenant) }
      let page = try await options.run { client in
        try await client.call(.safe) {
          try await client.volumes.listVolumes(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).list(
        page.volumes, nextPageToken: page.nextPageToken, columns: VolumesCommand.columns)
    }
  }

  struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a volume.")
    @Argument(help: "Volume id.") var id: String
    @Option(help: "Tenant id.") var tenant: String
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_GetVolumeRequest.with { $0.name = VolumesCommand.name(tenant, id) }
      let volume = try await options.run { client in
        try await client.call(.safe) {
          try await client.volumes.getVolume(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).show(volume, columns: VolumesCommand.columns)
    }
  }

  struct Resize: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Grow a volume; the cards serving it resize the running device.",
      discussion: """
        A volume only grows: a smaller --size is refused (the guest's data
        past the new end would be lost). The guest sees the new capacity
        through a virtio config change; grow its partition and file system
        there.

        Example: dpuctl volumes resize data --tenant acme --size 20GiB
        """)
    @Argument(help: "Volume id.") var id: String
    @Option(help: "Tenant id.") var tenant: String
    @Option(help: "New size: bytes, or with a KiB/MiB/GiB/TiB suffix.") var size: ByteSize
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_UpdateVolumeRequest.with {
        $0.volume.name = VolumesCommand.name(tenant, id)
        $0.volume.sizeBytes = size.bytes
        $0.updateMask.paths = ["size_bytes"]
        $0.requestID = options.resolvedRequestID
      }
      let volume = try await options.run { client in
        try await client.call(.idempotentWithRequestID) {
          try await client.volumes.updateVolume(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).show(volume, columns: VolumesCommand.columns)
    }
  }

  struct Update: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Change what may change after create: read-only, queues, limits.",
      discussion: """
        Only the options given change. The cards serving the volume attach it
        again with the new settings (the guest sees the device go and come
        back). A volume attached more than once cannot become read-write.
        The backend, encryption and sector size are fixed at create; use
        `resize` for the size.

        Examples:
          dpuctl volumes update data --tenant acme --queues 4
          dpuctl volumes update base --tenant acme --read-only true
        """)
    @Argument(help: "Volume id.") var id: String
    @Option(help: "Tenant id.") var tenant: String
    @Option(help: "true: the guest sees a read-only device; false: read-write.") var readOnly: Bool?
    @Option(help: "Request queues, 1 to 16.") var queues: UInt32?
    @Option(help: "IOPS limit (0: none).") var maxIops: UInt32?
    @Option(help: "Bandwidth limit in Mbit/s (0: none).") var maxBandwidthMbps: UInt32?
    @OptionGroup var options: GlobalOptions

    func validate() throws {
      guard readOnly != nil || queues != nil || maxIops != nil || maxBandwidthMbps != nil else {
        throw ValidationError("give at least one of --read-only, --queues, --max-iops, --max-bandwidth-mbps")
      }
    }

    func run() async throws {
      var request = Bulkhead_V1_UpdateVolumeRequest.with {
        $0.volume.name = VolumesCommand.name(tenant, id)
        $0.requestID = options.resolvedRequestID
      }
      if let readOnly {
        request.volume.readOnly = readOnly
        request.updateMask.paths.append("read_only")
      }
      if let queues {
        request.volume.queues = queues
        request.updateMask.paths.append("queues")
      }
      if let maxIops {
        request.volume.maxIops = maxIops
        request.updateMask.paths.append("max_iops")
      }
      if let maxBandwidthMbps {
        request.volume.maxBandwidthMbps = maxBandwidthMbps
        request.updateMask.paths.append("max_bandwidth_mbps")
      }
      let update = request
      let volume = try await options.run { client in
        try await client.call(.idempotentWithRequestID) {
          try await client.volumes.updateVolume(update, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).show(volume, columns: VolumesCommand.columns)
    }
  }

  struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Delete a volume no attachment uses (its data key goes with it).",
      discussion: "Example: dpuctl volumes delete data --tenant acme")
    @Argument(help: "Volume id.") var id: String
    @Option(help: "Tenant id.") var tenant: String
    @OptionGroup var options: GlobalOptions

    func run() async throws {
      let request = Bulkhead_V1_DeleteVolumeRequest.with {
        $0.name = VolumesCommand.name(tenant, id)
        $0.requestID = options.resolvedRequestID
      }
      let response = try await options.run { client in
        try await client.call(.idempotentWithRequestID) {
          try await client.volumes.deleteVolume(request, metadata: $0, options: $1)
        }
      }
      try Printer(format: options.output).deleted(response)
    }
  }
}

/// A size on the command line: bytes, or a whole number with a binary
/// suffix (IEC 80000-13: KiB, MiB, GiB, TiB).
struct ByteSize: ExpressibleByArgument, Equatable {
  var bytes: UInt64

  static let units: [(suffix: String, shift: UInt64)] = [("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)]

  init(bytes: UInt64) { self.bytes = bytes }

  init?(argument: String) {
    let text = argument.trimmingCharacters(in: .whitespaces)
    var digits = Substring(text)
    var shift: UInt64 = 0
    if let unit = Self.units.first(where: { text.hasSuffix($0.suffix) }) {
      digits = text.dropLast(unit.suffix.count)
      shift = unit.shift
    }
    guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let value = UInt64(digits),
      value <= UInt64.max >> shift
    else { return nil }
    bytes = value << shift
  }

  static var defaultCompletionKind: CompletionKind { .default }

  /// The largest unit that says the size exactly ("10 GiB", "4097 B").
  static func text(_ bytes: UInt64) -> String {
    for unit in units where bytes >= 1 << unit.shift && bytes % (1 << unit.shift) == 0 {
      return "\(bytes >> unit.shift) \(unit.suffix)"
    }
    return "\(bytes) B"
  }
}
