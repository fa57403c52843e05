/// The card's boot state: the first 4 KiB of its flash, as text lines
/// `key value` so that the boot stage (a busybox shell script) can read and
/// write it (Docs/firmware-image.md, "Boot state"). On hardware this is
/// the boot loader's environment and the anti-rollback counter an OTP or
/// RPMB counter; in the emulator both are this block.
public struct BootState: Equatable, Sendable {
  public enum Slot: String, Equatable, Sendable, CaseIterable {
    case a = "A"
    case b = "B"

    public var other: Slot { self == .a ? .b : .a }
  }

  /// The confirmed slot; nil before the first confirmed boot.
  public var active: Slot?
  /// A flashed slot on trial; the boot ROM boots it while `tries` > 0.
  public var pending: Slot?
  public var tries: Int = 0
  /// Only grows: the highest security version a confirmed firmware had.
  public var securityCounter: UInt32 = 0
  public var boots: Int = 0
  public var lastSlot: Slot?
  /// `booting`, `healthy` or `unhealthy`, as the boot stage left it.
  public var lastResult: String = "none"
  /// What the booted firmware runs (reported by the boot stage).
  public var runningVersion: String = "none"
  /// The slot abandoned by the last fallback, and the version it held.
  public var fallbackFrom: Slot?
  public var fallbackVersion: String = "none"

  public static let areaSize = 4096
  static let header = "bulkhead-boot-state 1"

  public init() {}

  public var text: String {
    func name(_ slot: Slot?) -> String { slot?.rawValue ?? "none" }
    return [
      Self.header, "active \(name(active))", "pending \(name(pending))", "tries \(tries)",
      "security-counter \(securityCounter)", "boots \(boots)", "last-slot \(name(lastSlot))",
      "last-result \(lastResult)", "running-version \(runningVersion)",
      "fallback \(name(fallbackFrom))", "fallback-version \(fallbackVersion)",
    ].joined(separator: "\n") + "\n"
  }

  /// The area's bytes: the text, zero-padded.
  public var area: [UInt8] {
    let bytes = Array(text.utf8)
    precondition(bytes.count <= Self.areaSize, "the boot state outgrew its area")
    return bytes + [UInt8](repeating: 0, count: Self.areaSize - bytes.count)
  }

  /// Reads the area the boot stage may have rewritten. Unknown keys are
  /// ignored; a missing header means the flash was never initialised.
  public init(area: some Collection<UInt8>) throws(FirmwareImageError) {
    let text = String(decoding: area.prefix { $0 != 0 }, as: UTF8.self)
    let lines = text.split(separator: "\n")
    guard lines.first == Substring(Self.header) else {
      throw .card(
        reason: "the card's flash has no boot state; create the card with `dpuctl firmware card-init`")
    }
    func slot(_ value: Substring) -> Slot? { Slot(rawValue: String(value)) }
    for line in lines.dropFirst() {
      let words = line.split(separator: " ", maxSplits: 1)
      guard words.count == 2 else { continue }
      let value = words[1]
      switch words[0] {
      case "active": active = slot(value)
      case "pending": pending = slot(value)
      case "tries": tries = Int(value) ?? 0
      case "security-counter": securityCounter = UInt32(value) ?? securityCounter
      case "boots": boots = Int(value) ?? 0
      case "last-slot": lastSlot = slot(value)
      case "last-result": lastResult = String(value)
      case "running-version": runningVersion = String(value)
      case "fallback": fallbackFrom = slot(value)
      case "fallback-version": fallbackVersion = String(value)
      default: continue
      }
    }
  }

  /// The slot a new image goes to: never the confirmed one.
  public var inactiveSlot: Slot { active?.other ?? .a }
}
