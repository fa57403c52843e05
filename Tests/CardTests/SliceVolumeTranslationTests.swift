import Card
import CardCrypto
import Management
import Testing
import Volumes

/// The volumes of a slice, checked as hostile input: every field the card
/// refuses is named in the error sent back to the controller.
@Suite struct SliceVolumeTranslationTests {
  /// The error's text, or nil if the slice was accepted.
  func refusal(
    _ volumes: [VolumeSlice], _ fixture: SliceVolumeFixture, kek: CardKeyEncryptionKey?
  ) -> String? {
    do {
      _ = try SliceTranslation.volumes(
        from: fixture.state(volumes), base: fixture.base, hostFunctionDirectory: fixture.directory, kek: kek)
      return nil
    } catch {
      return error.description
    }
  }

  @Test func aGoodVolumeBecomesASocketInTheHostFunctionDirectory() throws {
    let f = try SliceVolumeFixture()
    defer { f.remove() }
    let slice = try f.volume(
      id: 7, hostFunction: "0000:3b:00.2", file: "v7.img", sizeBytes: 8192, sectorSize: 512)
    let volumes = try SliceTranslation.volumes(
      from: f.state([slice]), base: f.base, hostFunctionDirectory: f.directory, kek: f.kek())
    #expect(
      volumes == [
        SliceVolume(
          id: 7, hostFunction: "0000:3b:00.2", socketPath: f.directory + "/0000:3b:00.2",
          location: .file(path: f.path("v7.img")),
          spec: VolumeSpec(wrappedKey: slice.wrappedKey, encryptionSectorSize: .bytes512), queueCount: 2,
          byteCount: 8192)
      ])
    #expect(volumes[0].serial == "bulkhead-vol-7")
    // Translating touches no file.
    #expect(f.fileSize("v7.img") == nil)
  }

  @Test func eachBadFieldIsNamed() throws {
    let f = try SliceVolumeFixture()
    defer { f.remove() }
    let kek = try f.kek()
    let good = try f.volume(id: 1, hostFunction: "vol-1", file: "a.img")
    func refused(_ change: (inout VolumeSlice) throws -> Void) throws -> String? {
      var v = good
      try change(&v)
      return refusal([v], f, kek: kek)
    }
    #expect(refusal([good], f, kek: kek) == nil)
    #expect(try refused { $0.cipher = .aesXTS128 }?.contains("volume 1: bad cipher") == true)
    #expect(try refused { $0.cipher = .aesGCM256 }?.contains("cipher") == true)
    for name in ["", ".hidden", "..", "a/b", "../x", "with space", String(repeating: "x", count: 65), "é"] {
      #expect(try refused { $0.hostFunction = name }?.contains("bad hostFunction") == true, "\(name)")
    }
    #expect(try refused { $0.hostFunction = String(repeating: "x", count: 64) } == nil)
    #expect(try refused { $0.backend = "ftp:host/x" }?.contains("bad backend") == true)
    #expect(try refused { $0.backend = "file:" }?.contains("bad backend") == true)
    #expect(try refused { $0.backend = "file:relative.img" }?.contains("absolute") == true)
    #expect(try refused { $0.backend = "nbd:10.0.0:80" }?.contains("bad backend") == true)
    #expect(try refused { $0.exportName = "e" }?.contains("bad export") == true)
    #expect(try refused { $0.sizeBytes = 0 }?.contains("bad sizeBytes") == true)
    #expect(try refused { $0.sizeBytes = 4096 + 512 }?.contains("bad sizeBytes") == true)
    #expect(try refused { $0.sectorSize = 1024 }?.contains("bad sectorSize") == true)
    #expect(try refused { $0.queues = 0 }?.contains("bad queues") == true)
    #expect(try refused { $0.queues = 17 }?.contains("bad queues") == true)
    #expect(
      try refused {
        $0.wrappedKey = try f.wrapped(SliceVolumeFixture.dataKey, kek: [UInt8](repeating: 9, count: 32))
      }?
      .contains("bad wrappedKey") == true)
    #expect(
      try refused { $0.wrappedKey = Array($0.wrappedKey.dropLast(8)) }?.contains("bad wrappedKey") == true)
    #expect(
      try refused { $0.wrappedKey = try f.wrapped([UInt8](repeating: 1, count: 32)) }?.contains(
        "32 bytes; AES-XTS-256 takes 64") == true)
    // NBD backends parse with the file's parser too.
    #expect(try refused { $0.backend = "nbd:127.0.0.1:10809" } == nil)
    #expect(try refused { $0.backend = "nbd:unix:/run/nbd.sock" } == nil)
  }

  /// A card given `--volume-dir` takes file backends only below it: a
  /// controller (or a tenant who got a path past it) cannot name the
  /// card's own files.
  @Test func fileBackendsStayInTheVolumeDirectory() throws {
    let f = try SliceVolumeFixture()
    defer { f.remove() }
    func refusal(_ backend: String, in directory: String) throws -> String? {
      var slice = try f.volume(id: 3, hostFunction: "v3.sock", file: "v3.img")
      slice.backend = backend
      let kek = try f.kek()
      do throws(SliceTranslationError) {
        _ = try SliceTranslation.volumes(
          from: f.state([slice]), base: f.base, hostFunctionDirectory: f.directory,
          volumeDirectory: directory,
          kek: kek)
        return nil
      } catch {
        return error.description
      }
    }
    let inside = f.directory + "/volumes"
    #expect(try refusal("file:" + inside + "/acme/v3.img", in: inside) == nil)
    for outside in [
      "file:" + f.directory + "/v3.img", "file:" + inside + "/../v3.img", "file:" + inside + "/./v3.img",
      "file:" + inside + "//v3.img", "file:" + inside, "file:" + inside + "x/v3.img",
      "file:/etc/shadow",
    ] {
      let refused = try refusal(outside, in: inside)
      #expect(refused?.contains("volume directory " + inside) == true, "\(outside): \(refused ?? "accepted")")
    }
  }

  @Test func namesAndIdsAreUniqueWithinTheSlice() throws {
    let f = try SliceVolumeFixture()
    defer { f.remove() }
    let a = try f.volume(id: 1, hostFunction: "a", file: "a.img")
    let sameFunction = try f.volume(id: 2, hostFunction: "a", file: "b.img")
    let sameID = try f.volume(id: 1, hostFunction: "b", file: "b.img")
    #expect(
      refusal([a, sameFunction], f, kek: try f.kek())?.contains("volume 2: bad hostFunction 'a'") == true)
    #expect(refusal([a, sameID], f, kek: try f.kek())?.contains("volume 1: bad id") == true)
  }

  @Test func aCardWithoutAKEKRefusesVolumes() throws {
    let f = try SliceVolumeFixture()
    defer { f.remove() }
    let text = refusal([try f.volume(id: 3, hostFunction: "a", file: "a.img")], f, kek: nil)
    #expect(text?.contains("volume 3") == true && text?.contains("no key-encryption key") == true)
    // Without volumes no key is needed.
    #expect(refusal([], f, kek: nil) == nil)
  }

  @Test func theConfigurationFilesSocketsAreNotTaken() throws {
    let probe = try SliceVolumeFixture()
    defer { probe.remove() }
    let fileVolume = HostVolume(
      id: 9, socketPath: probe.directory + "/taken", location: .file(path: "/dev/null"),
      spec: VolumeSpec(wrappedKey: [], encryptionSectorSize: .bytes4096), kekPath: "/k")
    var base = probe.base
    base.volumes = [fileVolume]
    let volumes = [try probe.volume(id: 1, hostFunction: "taken", file: "a.img")]
    #expect(throws: SliceTranslationError.self) {
      _ = try SliceTranslation.volumes(
        from: probe.state(volumes), base: base, hostFunctionDirectory: probe.directory, kek: try probe.kek())
    }
    // A directory whose socket paths would be too long for a unix socket.
    let long = "/" + String(repeating: "d", count: 110)
    let text = refusalIn(long, probe, volumes)
    #expect(text?.contains("too long") == true)
  }

  func refusalIn(_ directory: String, _ f: SliceVolumeFixture, _ volumes: [VolumeSlice]) -> String? {
    do {
      _ = try SliceTranslation.volumes(
        from: f.state(volumes), base: f.base, hostFunctionDirectory: directory, kek: try f.kek())
      return nil
    } catch {
      return "\(error)"
    }
  }
}
