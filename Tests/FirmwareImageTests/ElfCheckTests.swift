import Testing

@testable import FirmwareImage

/// The ELF rules, on executables compiled for the purpose.
struct ElfCheckTests {
  @Test func staticAArch64ExecutablePasses() throws {
    let facts = try ElfFacts(Fixtures.aarch64Firmware())
    #expect(facts.machine == ElfFacts.aarch64)
    #expect(!facts.hasInterpreter && facts.neededLibraries == 0)
    #expect(facts.entryIsInExecutableLoadSegment)
    #expect(facts.buildID?.count == 40)  // SHA-1
    try facts.check(expectedBuildID: facts.buildID)
  }

  @Test func wrongMachineIsNamed() throws {
    let x86 = try Fixtures.x86Firmware()
    let error = #expect(throws: FirmwareImageError.self) { try ElfFacts(x86).check() }
    #expect(error?.description.contains("x86-64") == true)
  }

  @Test func dynamicExecutableIsRejected() throws {
    let facts = try ElfFacts(Fixtures.aarch64Dynamic())
    #expect(facts.hasInterpreter)
    #expect(throws: FirmwareImageError.self) { try facts.check() }
  }

  @Test func missingBuildIDIsRejected() throws {
    let facts = try ElfFacts(Fixtures.aarch64WithoutBuildID())
    #expect(facts.buildID == nil)
    #expect(throws: FirmwareImageError.elfRejected(reason: "no GNU build-id note; link with --build-id=sha1"))
    {
      try facts.check()
    }
  }

  @Test func buildIDMustMatchTheManifest() throws {
    let facts = try ElfFacts(Fixtures.aarch64Firmware())
    #expect(throws: FirmwareImageError.buildIDMismatch(elf: facts.buildID!, manifest: "00")) {
      try facts.check(expectedBuildID: "00")
    }
  }

  /// A writable and executable segment, made by flipping PF_W on in the
  /// executable segment's program header.
  @Test func writableExecutableSegmentIsRejected() throws {
    var bytes = try Fixtures.aarch64Firmware()
    let phoff = (0..<8).reduce(0) { $0 | Int(bytes[0x20 + $1]) << (8 * $1) }
    let count = Int(bytes[0x38]) | Int(bytes[0x39]) << 8
    for index in 0..<count {
      let header = phoff + index * 56  // Elf64_Phdr
      let flags = header + 4
      if bytes[header] == 1, bytes[flags] & 1 == 1 { bytes[flags] |= 2 }  // PT_LOAD, PF_X: add PF_W
    }
    let facts = try ElfFacts(bytes)
    #expect(facts.hasWritableExecutableSegment)
    #expect(throws: FirmwareImageError.self) { try facts.check() }
  }

  @Test func garbageIsNotAnELF() {
    #expect(throws: FirmwareImageError.self) { try ElfFacts([1, 2, 3, 4]) }
  }
}
