import Foundation

/// A card of the emulator, kept in files under
/// `<state directory>/cards/<name>/` (Docs/firmware-image.md):
///
///     flash.img            the flash: boot state and slots A/B (`CardFlash`)
///     otp-trusted-key.pub  the key fused into the card (stands for OTP)
///     boot/                kernel and initramfs the boot ROM loaded last
///     <name>.console.log   the last boot's console
public struct EmulatedCard: Sendable {
  public let name: String
  public let directory: String
  public let board = Board.emulated
  public var flash: CardFlash { CardFlash(path: directory + "/flash.img") }
  public var trustedKeyPath: String { directory + "/otp-trusted-key.pub" }

  public static func directory(stateDirectory: String, name: String) -> String {
    stateDirectory + "/cards/" + name
  }

  /// Opens an existing card.
  public init(stateDirectory: String, name: String) throws(FirmwareImageError) {
    guard !name.isEmpty, !name.contains("/") else {
      throw .card(reason: "card name '\(name)' must be one path component")
    }
    self.name = name
    directory = Self.directory(stateDirectory: stateDirectory, name: name)
    guard FileManager.default.fileExists(atPath: directory + "/flash.img") else {
      throw .card(
        reason:
          "no emulated card '\(name)' under \(stateDirectory); create it with `dpuctl firmware card-init --card \(name) --trusted-key KEY.pub`"
      )
    }
  }

  /// A new card with blank slots that trusts `trustedKey`.
  @discardableResult
  public static func create(stateDirectory: String, name: String, trustedKey: VerifyingKey)
    throws(FirmwareImageError) -> EmulatedCard
  {
    let directory = Self.directory(stateDirectory: stateDirectory, name: name)
    do {
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    } catch {
      throw .cannotWrite(path: directory, reason: "\(error)")
    }
    guard !FileManager.default.fileExists(atPath: directory + "/flash.img") else {
      throw .card(reason: "card '\(name)' already exists in \(stateDirectory)")
    }
    try FileBytes.write(Array(KeyFile.publicText(trustedKey).utf8), to: directory + "/otp-trusted-key.pub")
    _ = try CardFlash.create(at: directory + "/flash.img", state: BootState())
    return try EmulatedCard(stateDirectory: stateDirectory, name: name)
  }

  public func trustedKey() throws(FirmwareImageError) -> VerifyingKey {
    try KeyFile.readVerifyingKey(at: trustedKeyPath)
  }

  /// Verifies `image` as the card would (trusted key, board, anti-rollback
  /// counter, part digests, ELF) and only then writes it to the inactive
  /// slot, marked to be tried once. On any error nothing is written.
  @discardableResult
  public func flash(_ image: FirmwareImageFile) throws(FirmwareImageError) -> BootState.Slot {
    var state = try flash.readState()
    try ImageVerifier(trustedKey: trustedKey(), board: board.name, securityCounter: state.securityCounter)
      .verify(image)
    let slot = state.inactiveSlot
    // The image first, the state after: a power cut between them leaves
    // the old state pointing at the old slots.
    try flash.write(image: image, to: slot)
    state.pending = slot
    state.tries = 1
    state.fallbackFrom = nil
    state.fallbackVersion = "none"
    try flash.writeState(state)
    return slot
  }

  /// What `dpuctl firmware status` shows.
  public func status() throws(FirmwareImageError) -> CardStatus {
    let state = try flash.readState()
    var slots: [CardStatus.SlotInfo] = []
    for slot in BootState.Slot.allCases {
      let manifest = (try? flash.image(in: slot))??.manifest
      slots.append(
        CardStatus.SlotInfo(
          slot: slot, firmwareVersion: manifest?.firmwareVersion, securityVersion: manifest?.securityVersion,
          buildID: manifest?.buildID, isActive: state.active == slot, isPending: state.pending == slot))
    }
    return CardStatus(card: name, board: board.name, state: state, slots: slots)
  }
}

/// A card's slots and boot state, for people and scripts.
public struct CardStatus: Equatable, Sendable {
  public struct SlotInfo: Equatable, Sendable {
    public var slot: BootState.Slot
    public var firmwareVersion: String?
    public var securityVersion: UInt32?
    public var buildID: String?
    public var isActive: Bool
    public var isPending: Bool
  }

  public var card: String
  public var board: String
  public var state: BootState
  public var slots: [SlotInfo]
}
