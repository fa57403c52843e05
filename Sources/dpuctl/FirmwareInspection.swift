import ArgumentParser
import FirmwareImage
import Foundation

/// Prints key/value facts as aligned lines for people, or as one JSON
/// object (sorted keys) for scripts.
struct FactsPrinter {
  let format: OutputFormat

  func print(_ object: [String: Any], lines: [(String, String)]) throws {
    switch format {
    case .json:
      let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
      Swift.print(String(decoding: data, as: UTF8.self))
    case .table:
      let width = lines.map(\.0.count).max() ?? 0
      for (title, value) in lines {
        Swift.print(title.uppercased().padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value)
      }
    }
  }
}

struct InspectCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "inspect", abstract: "Show an image's manifest, parts, ELF facts and signature status.")
  @Argument(help: "Image file.") var image: String
  @Option(help: "A trusted public key: the signature is checked against it.") var trustedKey: String?
  @Option(name: .shortAndLong, help: "Output format: table or json.") var output: OutputFormat = .table

  func run() throws {
    let (file, facts, signature, parts) = try firmwareStep { () throws(FirmwareImageError) in
      let file = try FirmwareImageFile(bytes: FileBytes.read(image))
      let firmware = file.manifest.part("firmware")!
      let facts = try ElfFacts(file.contents(of: firmware))
      var signature = file.isSigned ? "signed by key \(Hex.encode(file.keyID).prefix(16))" : "unsigned"
      if let trustedKey, file.isSigned {
        do {
          try ImageVerifier.verifySignature(file, trustedKey: KeyFile.readVerifyingKey(at: trustedKey))
          signature += ", valid for the trusted key"
        } catch {
          signature += ", INVALID: \(error)"
        }
      }
      let parts = file.manifest.parts.map { part in
        (part, SHA256Digest(of: Array(file.contents(of: part))) == part.sha256)
      }
      return (file, facts, signature, parts)
    }
    let manifest = file.manifest
    let elfVerdict: String
    do {
      try facts.check(expectedBuildID: manifest.buildID)
      elfVerdict = "ok"
    } catch {
      elfVerdict = "\(error)"
    }
    var lines: [(String, String)] = [
      ("format", "\(manifest.formatVersion)"), ("board", manifest.board),
      ("firmware version", manifest.firmwareVersion),
      ("security version", "\(manifest.securityVersion)"), ("build id", manifest.buildID),
      ("source date epoch", "\(manifest.sourceDateEpoch)"), ("size", "\(file.bytes.count)"),
      ("signature", signature),
    ]
    for (part, intact) in parts {
      lines.append(
        (
          "part \(part.name)",
          "\(part.size) bytes at \(part.offset), sha256 \(part.sha256)\(intact ? "" : " ALTERED")"
        ))
    }
    lines += [
      (
        "elf",
        "\(facts.machineName), type \(facts.type), entry 0x\(String(facts.entry, radix: 16)), \(facts.loadSegments) load segments"
      ),
      ("elf build id", facts.buildID ?? "none"), ("elf verdict", elfVerdict),
    ]
    let json: [String: Any] = [
      "formatVersion": Int(manifest.formatVersion), "board": manifest.board,
      "firmwareVersion": manifest.firmwareVersion,
      "securityVersion": Int(manifest.securityVersion), "buildId": manifest.buildID,
      "sourceDateEpoch": Int(manifest.sourceDateEpoch), "size": file.bytes.count, "signature": signature,
      "signed": file.isSigned, "keyId": file.isSigned ? Hex.encode(file.keyID) : NSNull(),
      "parts": parts.map { part, intact in
        [
          "name": part.name, "offset": part.offset, "size": part.size, "sha256": part.sha256.description,
          "intact": intact,
        ]
          as [String: Any]
      },
      "elf": [
        "machine": facts.machineName, "type": Int(facts.type), "entry": Int(facts.entry),
        "loadSegments": facts.loadSegments, "static": !facts.hasInterpreter && facts.neededLibraries == 0,
        "writableExecutableSegment": facts.hasWritableExecutableSegment, "buildId": facts.buildID ?? NSNull(),
        "verdict": elfVerdict,
      ] as [String: Any],
    ]
    try FactsPrinter(format: output).print(json, lines: lines)
  }
}

struct StatusCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "status", abstract: "Show an emulated card's slots, versions, counter and any fallback.")
  @OptionGroup var card: CardOptions
  @Option(name: .shortAndLong, help: "Output format: table or json.") var output: OutputFormat = .table

  func run() throws {
    let card = try card.open()
    let status = try firmwareStep { () throws(FirmwareImageError) in try card.status() }
    try FactsPrinter(format: output).print(Self.json(status), lines: Self.lines(status))
  }

  static func lines(_ status: CardStatus) -> [(String, String)] {
    let state = status.state
    var lines: [(String, String)] = [
      ("card", status.card), ("board", status.board), ("active slot", state.active?.rawValue ?? "none"),
      ("pending slot", state.pending.map { "\($0.rawValue) (\(state.tries) tries left)" } ?? "none"),
      ("security counter", "\(state.securityCounter)"), ("boots", "\(state.boots)"),
      ("last boot", "\(state.lastSlot?.rawValue ?? "none"): \(state.lastResult)"),
      ("running version", state.runningVersion),
      (
        "fallback",
        state.fallbackFrom.map {
          "from slot \($0.rawValue) (version \(state.fallbackVersion)): it did not confirm"
        } ?? "none"
      ),
    ]
    for slot in status.slots {
      let marks = [slot.isActive ? "active" : nil, slot.isPending ? "pending" : nil].compactMap { $0 }
      let text =
        slot.firmwareVersion.map {
          "\($0), security version \(slot.securityVersion ?? 0), build id \(slot.buildID ?? "?")"
        } ?? "blank"
      lines.append(
        ("slot \(slot.slot.rawValue)", text + (marks.isEmpty ? "" : " [\(marks.joined(separator: ", "))]")))
    }
    return lines
  }

  static func json(_ status: CardStatus) -> [String: Any] {
    let state = status.state
    return [
      "card": status.card, "board": status.board, "activeSlot": state.active?.rawValue ?? NSNull(),
      "pendingSlot": state.pending?.rawValue ?? NSNull(), "triesLeft": state.tries,
      "securityCounter": Int(state.securityCounter), "boots": state.boots,
      "lastSlot": state.lastSlot?.rawValue ?? NSNull(), "lastResult": state.lastResult,
      "runningVersion": state.runningVersion,
      "fallback": state.fallbackFrom.map { ["fromSlot": $0.rawValue, "version": state.fallbackVersion] }
        ?? NSNull(),
      "slots": status.slots.map { slot in
        [
          "slot": slot.slot.rawValue, "firmwareVersion": slot.firmwareVersion ?? NSNull(),
          "securityVersion": slot.securityVersion.map { Int($0) } ?? NSNull(),
          "buildId": slot.buildID ?? NSNull(),
          "active": slot.isActive, "pending": slot.isPending,
        ] as [String: Any]
      },
    ]
  }
}
