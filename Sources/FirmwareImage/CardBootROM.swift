import Emulator
import Foundation

/// What the boot ROM decided: which slot boots, and what QEMU loads.
public struct CardBootPlan: Equatable, Sendable {
  public var slot: BootState.Slot
  public var manifest: Manifest
  /// The slot the ROM gave up on before picking `slot`, if any.
  public var fellBackFrom: BootState.Slot?
  public var kernelArguments: [String]
}

/// The emulated card's boot ROM and loader, run on the host before QEMU
/// starts (on hardware: the ROM, ATF and UEFI). It picks the slot (a
/// pending slot while it has tries, else the active one: U-Boot's
/// bootcount scheme), verifies that slot's image with the OTP key again,
/// and loads its kernel and initramfs; the boot stage inside confirms.
public struct CardBootROM: Sendable {
  public var card: EmulatedCard
  /// A long-running firmware still up after this many seconds is healthy.
  public var healthSeconds: Int = 10

  public init(card: EmulatedCard, healthSeconds: Int = 10) {
    self.card = card
    self.healthSeconds = healthSeconds
  }

  /// Picks the slot, records the attempt in the boot state, and writes the
  /// kernel and initramfs to `card.directory/boot/`.
  public func prepare() throws(FirmwareImageError) -> CardBootPlan {
    let flash = card.flash
    var state = try flash.readState()
    let key = try card.trustedKey()
    var fellBackFrom: BootState.Slot?
    var chosen: (slot: BootState.Slot, image: FirmwareImageFile)?

    if let pending = state.pending {
      if state.tries > 0, let image = try? Self.verifiedImage(flash, pending, key) {
        state.tries -= 1
        chosen = (pending, image)
      } else {
        // The trial used its tries without a confirmation (or the slot no
        // longer verifies): back to the confirmed slot.
        fellBackFrom = pending
        state.fallbackFrom = pending
        state.fallbackVersion = (try? flash.image(in: pending))??.manifest.firmwareVersion ?? "none"
        state.pending = nil
        state.tries = 0
      }
    }
    if chosen == nil {
      guard let active = state.active else {
        try flash.writeState(state)
        throw .card(
          reason:
            "card '\(card.name)' has no confirmed firmware to boot; flash an image with `dpuctl firmware flash`"
        )
      }
      do {
        chosen = (active, try Self.verifiedImage(flash, active, key))
      } catch {
        try flash.writeState(state)
        throw .card(
          reason:
            "card '\(card.name)': the active slot \(active.rawValue) does not verify (\(error)); flash a good image"
        )
      }
    }
    guard let (slot, image) = chosen else { preconditionFailure("a slot was chosen above") }
    state.boots += 1
    state.lastSlot = slot
    state.lastResult = "booting"
    state.runningVersion = "none"
    try flash.writeState(state)

    try write(image, part: "kernel", to: "vmlinuz")
    try write(image, part: "initramfs", to: "initrd.cpio")
    let firmware = image.manifest.part("firmware")!
    let manifest = image.manifest
    return CardBootPlan(
      slot: slot, manifest: manifest, fellBackFrom: fellBackFrom,
      kernelArguments: [
        "bulkhead.slot=\(slot.rawValue)",
        "bulkhead.firmware=\(CardFlash.offset(of: slot) + firmware.offset):\(firmware.size):\(firmware.sha256)",
        "bulkhead.version=\(manifest.firmwareVersion)", "bulkhead.secver=\(manifest.securityVersion)",
        "bulkhead.health-seconds=\(healthSeconds)",
      ])
  }

  /// The directory QEMU loads the kernel and initramfs from.
  public var bootDirectory: String { card.directory + "/boot" }

  /// Boots the card once: prepare, run QEMU until the boot stage powers
  /// off, and return what it reported. The boot state on the flash holds
  /// the outcome either way.
  public func boot(timeout: Double = 120, provisioning: CardProvisioning? = nil) throws -> CardBootReport {
    let (plan, guest) = try start(provisioning: provisioning)
    let outcome = try guest.waitUntilDone(timeout: timeout)
    return CardBootReport(plan: plan, outcome: outcome, status: try card.status())
  }

  /// Prepares and starts the card's QEMU without waiting. With
  /// `provisioning`, the card also gets its provisioning partition
  /// (`provision.img`, a second disk) and a management NIC on QEMU's
  /// restricted user network whose one way out is the controller's port on
  /// the host's loopback; the boot stage then starts the firmware linked
  /// to the controller and lets it serve `serveSeconds` after it came up.
  public func start(provisioning: CardProvisioning? = nil) throws -> (CardBootPlan, Guest) {
    var partition: String?
    if let provisioning {
      var bytes = try provisioning.archive()
      // A disk is whole sectors.
      bytes += [UInt8](repeating: 0, count: (4096 - bytes.count % 4096) % 4096)
      partition = card.directory + "/provision.img"
      try FileBytes.write(bytes, to: partition!)
    }
    var plan = try prepare()
    var configuration = GuestConfiguration(
      name: card.name, image: GuestImage(directory: bootDirectory, architecture: .aarch64), scenario: "")
    configuration.disks = [GuestDisk(.rawFile(path: card.flash.path))]
    if let partition, let provisioning {
      configuration.disks.append(GuestDisk(.rawFile(path: partition)))
      let f = provisioning.forward
      configuration.nics = [
        GuestNIC(
          .userForwards([
            GuestForward(guestAddress: f.guestAddress, guestPort: f.guestPort, hostPort: f.hostPort)
          ]),
          mac: "02:ca:00:00:0f:01")
      ]
      if let uplink = provisioning.uplinkSockets {
        configuration.nics.append(
          GuestNIC(.dgram(local: uplink.local, remote: uplink.remote), mac: CardProvisioning.uplinkMAC))
      }
      plan.kernelArguments.append("bulkhead.provisioned=1")
    }
    configuration.extraKernelArguments = plan.kernelArguments
    return (plan, try Guest(configuration, directory: card.directory))
  }

  static func verifiedImage(_ flash: CardFlash, _ slot: BootState.Slot, _ key: VerifyingKey)
    throws(FirmwareImageError) -> FirmwareImageFile
  {
    guard let image = try flash.image(in: slot) else { throw .card(reason: "slot \(slot.rawValue) is blank") }
    try ImageVerifier.verifySignature(image, trustedKey: key)
    try ImageVerifier.verifyParts(image)
    return image
  }

  private func write(_ image: FirmwareImageFile, part name: String, to file: String)
    throws(FirmwareImageError)
  {
    do {
      try FileManager.default.createDirectory(atPath: bootDirectory, withIntermediateDirectories: true)
    } catch {
      throw .cannotWrite(path: bootDirectory, reason: "\(error)")
    }
    try FileBytes.write(Array(image.contents(of: image.manifest.part(name)!)), to: bootDirectory + "/" + file)
  }
}

/// One boot of the emulated card.
public struct CardBootReport: Sendable {
  public var plan: CardBootPlan
  public var outcome: GuestOutcome
  public var status: CardStatus
  /// The boot stage's verdict on the firmware.
  public var isHealthy: Bool { outcome.value(of: "card-firmware") == "healthy" }
}
