import CardCrypto
import Foundation
import Testing

@testable import Volumes

@Suite struct KeyEncryptionKeyFileTests {
  func withFile(_ bytes: [UInt8], _ body: (String) throws -> Void) throws {
    let directory = try temporaryDirectory("kek")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/kek"
    #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
    try body(path)
  }

  /// The key read from the file unwraps what the same key wrapped.
  func unwrapsTheTestDataKey(_ kek: borrowing SymmetricKey) -> Bool {
    guard let wrapped = try? TestKeys.wrappedDataKey() else { return false }
    return (try? KeyWrap.unwrap(wrapped, kek: kek)) != nil
  }

  @Test func hexWithANewlineIsRead() throws {
    try withFile(Array((TestKeys.kekHex + "\n").utf8)) { path in
      let kek = try KeyEncryptionKeyFile.read(path: path)
      #expect(kek.byteCount == 32)
      let unwraps = unwrapsTheTestDataKey(kek)
      #expect(unwraps)
    }
  }

  @Test func upperCaseHexIsRead() throws {
    try withFile(Array(TestKeys.kekHex.uppercased().utf8)) { path in
      let kek = try KeyEncryptionKeyFile.read(path: path)
      let unwraps = unwrapsTheTestDataKey(kek)
      #expect(unwraps)
    }
  }

  @Test func thirtyTwoRawBytesAreRead() throws {
    let raw = (0..<32).map { UInt8($0) }  // the same KEK as TestKeys.kekHex
    try withFile(raw) { path in
      let kek = try KeyEncryptionKeyFile.read(path: path)
      let unwraps = unwrapsTheTestDataKey(kek)
      #expect(unwraps)
    }
  }

  @Test(arguments: [
    Array("0011".utf8), Array((TestKeys.kekHex + "00").utf8),
    Array(("zz" + TestKeys.kekHex.dropFirst(2)).utf8),
    [UInt8](repeating: 1, count: 31), [UInt8](),
  ])
  func anythingElseIsRefused(_ contents: [UInt8]) throws {
    try withFile(contents) { path in
      #expect(throws: KeyEncryptionKeyFile.ReadError.badContents(byteCount: contents.count)) {
        _ = try KeyEncryptionKeyFile.read(path: path)
      }
    }
  }

  @Test func aMissingFileNamesTheSystemCall() {
    #expect(throws: KeyEncryptionKeyFile.ReadError.system(operation: "open", errno: 2)) {
      _ = try KeyEncryptionKeyFile.read(path: "/nonexistent/kek")
    }
  }
}
