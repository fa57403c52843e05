import BlockStorage
import CardCrypto
import Testing

@testable import Volumes

@Suite struct VolumeRoundTripTests {
  static let sizes: [AESXTS.DataUnitSize] = [.bytes512, .bytes4096]

  @Test(arguments: sizes) func whatIsWrittenReadsBackAndTheBackendHoldsOnlyCiphertext(
    size: AESXTS.DataUnitSize
  ) throws {
    let backend = MemoryBackend(byteCount: 1 << 20)
    let volume = try TestKeys.volume(backend, size)
    let text = pattern(64 * 1024)
    try volume.write(sector: 16, text)
    #expect(try volume.read(sector: 16, count: text.count) == text)
    #expect(!contains(backend.bytes, Array(text[0..<26])), "plaintext reached the backend")
    #expect(volume.counters.partialUnits == 0)
  }

  /// The backend's bytes are exactly dm-crypt's aes-xts-plain64 layout: each
  /// data unit encrypted alone with tweak = its first 512-byte sector.
  @Test(arguments: sizes) func theLayoutIsPlain64(size: AESXTS.DataUnitSize) throws {
    let backend = MemoryBackend(byteCount: 64 * 1024)
    let volume = try TestKeys.volume(backend, size)
    let text = pattern(32 * 1024, seed: 3)
    try volume.write(sector: 8, text)
    var cipher = try AESXTS(key: try SymmetricKey(hex: TestKeys.dataKeyHex), dataUnitSize: size)
    let unit = size.rawValue
    for i in 0..<(text.count / unit) {
      let sector = UInt64(8 + i * unit / 512)
      let expected = try cipher.encrypt(sector: sector, Array(text[i * unit..<(i + 1) * unit]))
      let offset = Int(sector) * 512
      #expect(Array(backend.bytes[offset..<offset + unit]) == expected, "unit \(i)")
    }
  }

  /// Random 512-aligned requests of any length against a plain model: with
  /// 4096-byte units most of them start or end inside a unit.
  @Test(arguments: sizes) func unalignedRequestsMatchAModel(size: AESXTS.DataUnitSize) throws {
    let sectors = 512
    let backend = MemoryBackend(byteCount: sectors * 512)
    let volume = try TestKeys.volume(backend, size)
    var model = [UInt8](repeating: 0, count: sectors * 512)
    try volume.write(sector: 0, model)
    var random = SplitMix64(state: UInt64(size.rawValue))
    for step in 0..<300 {
      let start = Int.random(in: 0..<sectors, using: &random)
      let count = Int.random(in: 1...min(40, sectors - start), using: &random)
      if Bool.random(using: &random) {
        let data = (0..<count * 512).map { _ in UInt8.random(in: 0...255, using: &random) }
        try volume.write(sector: UInt64(start), data)
        model.replaceSubrange(start * 512..<(start + count) * 512, with: data)
      } else {
        let got = try volume.read(sector: UInt64(start), count: count * 512)
        #expect(got == Array(model[start * 512..<(start + count) * 512]), "step \(step)")
      }
    }
    #expect(try volume.read(sector: 0, count: model.count) == model)
    if size == .bytes4096 { #expect(volume.counters.partialUnits > 0) }
  }

  @Test(arguments: sizes) func writeZeroesReadsZerosAndStoresCiphertext(size: AESXTS.DataUnitSize) throws {
    let backend = MemoryBackend(byteCount: 256 * 1024)
    let volume = try TestKeys.volume(backend, size)
    try volume.write(sector: 0, pattern(256 * 1024))
    try volume.writeZeroes(sector: 3, sectors: 200)
    let all: [UInt8] = try volume.read(sector: 0, count: 256 * 1024)
    let original: [UInt8] = pattern(256 * 1024)
    let head = 3 * 512
    let tail = 203 * 512
    #expect(all[head..<tail].allSatisfy { $0 == 0 })
    #expect(all[0..<head].elementsEqual(original[0..<head]))
    #expect(all[tail...].elementsEqual(original[tail...]))
    // Zero plaintext is not zero ciphertext.
    #expect(!backend.bytes[8 * 512..<16 * 512].allSatisfy { $0 == 0 })
  }

  @Test func discardFreesOnlyWholeUnits() throws {
    let backend = MemoryBackend(byteCount: 64 * 1024)
    let volume = try TestKeys.volume(backend, .bytes4096)
    try volume.write(sector: 0, pattern(64 * 1024))
    // Sectors 4..<28 contain whole units 8..<16 and 16..<24.
    try volume.discard(sector: 4, sectors: 24)
    #expect(backend.bytes[8 * 512..<24 * 512].allSatisfy { $0 == 0 })
    #expect(try volume.read(sector: 0, count: 4096) == Array(pattern(64 * 1024)[0..<4096]))
    #expect(try volume.read(sector: 24, count: 4096) == Array(pattern(64 * 1024)[24 * 512..<32 * 512]))
  }

  @Test func flushReachesTheBackend() throws {
    let backend = MemoryBackend(byteCount: 64 * 1024)
    let volume = try TestKeys.volume(backend, .bytes512)
    try volume.flush()
    try volume.flush()
    #expect(backend.flushCount == 2)
    try volume.detach()
    #expect(backend.flushCount == 3, "detach flushes first")
  }
}
