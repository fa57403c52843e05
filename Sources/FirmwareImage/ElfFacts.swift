import CFirmwareImage

/// What libelf says about a firmware ELF (read, not yet judged).
public struct ElfFacts: Equatable, Sendable {
  public var isELF64: Bool
  /// ELF gABI e_type: 2 is ET_EXEC, 3 is ET_DYN.
  public var type: UInt16
  /// ELF e_machine: 183 is EM_AARCH64, 62 is EM_X86_64.
  public var machine: UInt16
  public var entry: UInt64
  public var loadSegments: Int
  public var hasInterpreter: Bool
  public var hasDynamicSection: Bool
  public var neededLibraries: Int
  public var entryIsInExecutableLoadSegment: Bool
  public var hasWritableExecutableSegment: Bool
  /// The GNU build-id note, hex; nil when absent.
  public var buildID: String?

  public static let aarch64: UInt16 = 183
  public static let executableType: UInt16 = 2

  public init(_ bytes: some Collection<UInt8>) throws(FirmwareImageError) {
    var facts = bh_elf_facts()
    var message: UnsafePointer<CChar>? = nil
    let contiguous = Array(bytes)
    // Sound: libelf reads `contiguous` only during the call.
    let status = contiguous.withUnsafeBufferPointer { buffer in
      bh_elf_read_facts(buffer.baseAddress, buffer.count, &facts, &message)
    }
    guard status == 0 else {
      throw .elfRejected(
        reason: "libelf cannot read it (\(message.map { String(cString: $0) } ?? "unknown error"))")
    }
    isELF64 = facts.is_elf64 != 0
    type = facts.type
    machine = facts.machine
    entry = facts.entry
    loadSegments = Int(facts.load_segments)
    hasInterpreter = facts.has_interpreter != 0
    hasDynamicSection = facts.has_dynamic != 0
    neededLibraries = Int(facts.needed_count)
    entryIsInExecutableLoadSegment = facts.entry_in_executable_load != 0
    hasWritableExecutableSegment = facts.has_writable_executable != 0
    let length = Int(facts.build_id_length)
    buildID =
      length == 0 ? nil : withUnsafeBytes(of: facts.build_id) { Hex.encode($0.prefix(length)) }
  }

  public var machineName: String {
    switch machine {
    case Self.aarch64: return "AArch64"
    case 62: return "x86-64"
    case 40: return "ARM"
    case 243: return "RISC-V"
    default: return "machine \(machine)"
    }
  }

  /// The card's rules for a firmware executable. Every failure says which
  /// rule and how to fix the build.
  public func check(expectedBuildID: String? = nil) throws(FirmwareImageError) {
    guard isELF64 else { throw .elfRejected(reason: "not a 64-bit ELF") }
    guard machine == Self.aarch64 else {
      throw .elfRejected(
        reason: "built for \(machineName), the card runs AArch64; build it with Firmware/build.sh")
    }
    guard type == Self.executableType else {
      throw .elfRejected(
        reason:
          "not a static executable (e_type \(type); ET_DYN means PIE or a library); link with -static -no-pie"
      )
    }
    guard !hasInterpreter, neededLibraries == 0, !hasDynamicSection else {
      throw .elfRejected(
        reason:
          "dynamically linked (interpreter or \(neededLibraries) needed libraries); the card has no loader: link statically"
      )
    }
    guard entryIsInExecutableLoadSegment else {
      throw .elfRejected(
        reason: "the entry point 0x\(String(entry, radix: 16)) is not inside a loadable executable segment")
    }
    guard !hasWritableExecutableSegment else {
      throw .elfRejected(reason: "a segment is both writable and executable (W^X); check the linker flags")
    }
    guard let buildID else {
      throw .elfRejected(reason: "no GNU build-id note; link with --build-id=sha1")
    }
    if let expectedBuildID, expectedBuildID != buildID {
      throw .buildIDMismatch(elf: buildID, manifest: expectedBuildID)
    }
  }
}
