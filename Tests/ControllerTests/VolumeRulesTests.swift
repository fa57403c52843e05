import Foundation
import ProviderAPI
import Testing

@testable import Controller

/// Volumes and their attachments as the API takes them: each refusal names
/// the field, the data key is drawn here and never answered, a volume only
/// grows, and one read-write volume has one attachment.
struct VolumeRulesTests {
  let storeKey: [UInt8] = (0..<32).map { UInt8($0 ^ 0x3c) }

  func fixture() async throws -> Fixture {
    let fixture = try Fixture()
    try await fixture.card()
    try await fixture.card("c2")
    try await fixture.tenant("acme")
    try await fixture.tenant("other")
    return fixture
  }

  @discardableResult
  func create(
    _ fixture: Fixture, _ id: String = "data", tenant: String = "acme", storeKey: [UInt8]? = nil,
    principal: Principal = .providerAdmin, _ change: (inout Bulkhead_V1_Volume) -> Void = { _ in }
  ) async throws -> Bulkhead_V1_Volume {
    let request = Bulkhead_V1_CreateVolumeRequest.with {
      $0.parent = "tenants/\(tenant)"
      $0.volumeID = id
      $0.volume.sizeBytes = 8 << 20
      $0.volume.backendUri = "file:///srv/volumes/\(id).img"
      $0.requestID = Fixture.key()
      change(&$0.volume)
    }
    return try await fixture.service.create(
      request.volume, id: id, parent: request.parent,
      rules: VolumeRules(storeKey: storeKey ?? self.storeKey, volumeRoot: "/srv/tenant-volumes"),
      request: request, requestID: request.requestID, principal: principal)
  }

  /// The backend is the provider's: a tenant naming one is refused (it
  /// would point a card at any file or NBD server); without one, the
  /// volume goes under the controller's volume root, in the tenant's own
  /// folder.
  @Test func onlyTheProviderNamesABackend() async throws {
    let fixture = try await fixture()
    for backend in ["file:///etc/shadow", "nbd://192.0.2.9/x", "file:///srv/tenant-volumes/acme/mine.img"] {
      let refused = await apiError {
        try await self.create(fixture, "mine", principal: .tenant("acme")) { $0.backendUri = backend }
      }
      #expect(refused?.code == .permissionDenied, "\(backend): \(String(describing: refused))")
      #expect(refused?.message.contains("backend_uri") == true)
    }
    let placed = try await create(fixture, "mine", principal: .tenant("acme")) { $0.backendUri = "" }
    #expect(placed.backendUri == "file:///srv/tenant-volumes/acme/mine.img")
    let byProvider = try await create(fixture, "theirs", tenant: "other") { $0.backendUri = "" }
    #expect(byProvider.backendUri == "file:///srv/tenant-volumes/other/theirs.img")
    let named = try await create(fixture, "named") { $0.backendUri = "nbd://192.0.2.10/named" }
    #expect(named.backendUri == "nbd://192.0.2.10/named")
  }

  func update(_ fixture: Fixture, _ paths: [String], _ change: (inout Bulkhead_V1_Volume) -> Void)
    async throws
    -> Bulkhead_V1_Volume
  {
    let request = Bulkhead_V1_UpdateVolumeRequest.with {
      $0.volume.name = "tenants/acme/volumes/data"
      $0.updateMask.paths = paths
      $0.requestID = Fixture.key()
      change(&$0.volume)
    }
    return try await fixture.service.update(
      request.volume, mask: request.updateMask, rules: VolumeRules(storeKey: storeKey), request: request,
      requestID: request.requestID, principal: .providerAdmin)
  }

  @discardableResult
  func attach(
    _ fixture: Fixture, _ id: String, volume: String = "tenants/acme/volumes/data", card: String = "cards/c1",
    hostFunction: String? = nil, tenant: String = "acme"
  ) async throws -> Bulkhead_V1_GuestAttachment {
    let request = Bulkhead_V1_CreateGuestAttachmentRequest.with {
      $0.parent = "tenants/\(tenant)"
      $0.guestAttachmentID = id
      $0.guestAttachment.card = card
      $0.guestAttachment.volume = volume
      $0.guestAttachment.hostFunction = hostFunction ?? "\(id).sock"
      $0.requestID = Fixture.key()
    }
    return try await fixture.service.create(
      request.guestAttachment, id: id, parent: request.parent, rules: GuestAttachmentRules(),
      request: request,
      requestID: request.requestID, principal: .providerAdmin)
  }

  func detach(_ fixture: Fixture, _ id: String) async throws {
    let request = Bulkhead_V1_DeleteGuestAttachmentRequest.with {
      $0.name = "tenants/acme/guestAttachments/\(id)"
      $0.requestID = Fixture.key()
    }
    _ = try await fixture.service.delete(
      Bulkhead_V1_GuestAttachment.self, name: request.name, rules: GuestAttachmentRules(), request: request,
      requestID: request.requestID, principal: .providerAdmin)
  }

  func deleteVolume(_ fixture: Fixture) async throws {
    let request = Bulkhead_V1_DeleteVolumeRequest.with {
      $0.name = "tenants/acme/volumes/data"
      $0.requestID = Fixture.key()
    }
    _ = try await fixture.service.delete(
      Bulkhead_V1_Volume.self, name: request.name, rules: VolumeRules(storeKey: storeKey), request: request,
      requestID: request.requestID, principal: .providerAdmin)
  }

  @Test func aVolumeGetsDefaultsANumberAndAKeyThatIsNeverAnswered() async throws {
    let fixture = try await fixture()
    let made = try await create(fixture)
    #expect(made.sectorSize == 4096 && made.queues == 2 && !made.readOnly)
    #expect(made.encryption.cipher == .aesXts256)
    #expect(made.number == 1 && made.encryption.keyHandle == "vol-1")
    #expect(made.wrappedDataKey.isEmpty)
    let got = try await fixture.service.get(
      Bulkhead_V1_Volume.self, name: made.name, principal: .providerAdmin)
    #expect(got.wrappedDataKey.isEmpty && got.number == 1)
    let listed = try await fixture.service.list(
      Bulkhead_V1_Volume.self, parent: "tenants/acme", pageSize: 0, pageToken: "", principal: .providerAdmin)
    #expect(listed.resources.count == 1 && listed.resources.allSatisfy { $0.wrappedDataKey.isEmpty })
    // The store holds the key, wrapped with the store key: 64 bytes inside.
    let entry = try #require(try await fixture.store.read(Bulkhead_V1_Volume.key(made.name)))
    let stored = try Bulkhead_V1_Volume(serializedBytes: entry.value)
    let key = try UnderlayKeyring.unwrap(Array(stored.wrappedDataKey), with: storeKey)
    #expect(key.count == 64 && Set(key).count > 1)
    // A caller cannot plant a key or a number.
    let planted = try await create(fixture, "planted") {
      $0.wrappedDataKey = Data(repeating: 7, count: 72)
      $0.number = 99
    }
    let plantedEntry = try #require(try await fixture.store.read(Bulkhead_V1_Volume.key(planted.name)))
    let plantedStored = try Bulkhead_V1_Volume(serializedBytes: plantedEntry.value)
    #expect(plantedStored.number == 2 && plantedStored.wrappedDataKey != Data(repeating: 7, count: 72))
    #expect(try UnderlayKeyring.unwrap(Array(plantedStored.wrappedDataKey), with: storeKey) != key)
  }

  @Test func aBackendServesOneVolume() async throws {
    let fixture = try await fixture()
    try await create(fixture, "a") { $0.backendUri = "nbd://192.0.2.1/e" }
    let same = await apiError { try await create(fixture, "b") { $0.backendUri = "nbd://192.0.2.1:10809/e" } }
    #expect(same?.code == .alreadyExists && same?.message.contains("volume 'tenants/acme/volumes/a'") == true)
    let theirs = await apiError {
      try await create(fixture, "c", tenant: "other") { $0.backendUri = "nbd://192.0.2.1/e" }
    }
    #expect(theirs?.message.contains("another tenant's volume") == true)
    #expect(theirs?.message.contains("acme") == false)
    try await create(fixture, "d") { $0.backendUri = "nbd://192.0.2.1/f" }
  }

  @Test func numbersAreNeverReused() async throws {
    let fixture = try await fixture()
    #expect(try await create(fixture, "a").number == 1)
    #expect(try await create(fixture, "data").number == 2)
    try await deleteVolume(fixture)
    #expect(try await create(fixture, "data").number == 3)
    #expect(try await create(fixture, "b", tenant: "other").number == 4)
  }

  @Test func refusalsNameTheFieldAndTheFix() async throws {
    let cases: [((inout Bulkhead_V1_Volume) -> Void, String)] = [
      ({ $0.sizeBytes = 0 }, "volume.size_bytes '0' is not a positive multiple"),
      ({ $0.sizeBytes = 4096 + 512 }, "volume.size_bytes '4608'"),
      (
        {
          $0.sizeBytes = 4096 + 512
          $0.sectorSize = 512
        }, ""
      ),
      ({ $0.sizeBytes = (64 << 40) + 4096 }, "is above 64 TiB"),
      ({ $0.sectorSize = 1024 }, "volume.sector_size '1024'"),
      ({ $0.queues = 17 }, "volume.queues '17'"),
      ({ $0.encryption.cipher = .aesXts128 }, "volume.encryption.cipher 'aesXts128'"),
      ({ $0.backendUri = "/srv/a.img" }, "volume.backend_uri '/srv/a.img'"),
      ({ $0.backendUri = "file://host/srv/a.img" }, "file:///srv/volumes/a.img"),
      ({ $0.backendUri = "file:///srv/../a.img" }, "'..'"),
      ({ $0.backendUri = "nbd://storage.example/e" }, "IPv4"),
      ({ $0.backendUri = "nbd://192.0.2.1:0/e" }, "port '0'"),
      ({ $0.backendUri = "nbd+unix:///e" }, "socket="),
      ({ $0.backendUri = "nbd+unix:///e?socket=run/nbd.sock" }, "absolute path"),
      ({ $0.backendUri = "iscsi://192.0.2.1/x" }, "nbd://192.0.2.10:10809/export"),
    ]
    for (change, expected) in cases {
      let fixture = try await fixture()
      let error = await apiError { try await create(fixture, "data", change) }
      if expected.isEmpty {
        #expect(error == nil, "\(String(describing: error))")
        continue
      }
      #expect(error?.code == .invalidArgument, "\(expected)")
      #expect(error?.message.contains(expected) == true, "\(String(describing: error)) lacks \(expected)")
    }
    let fixture = try await fixture()
    let noSeed = await apiError {
      try await fixture.service.create(
        Bulkhead_V1_Volume.with {
          $0.sizeBytes = 4096
          $0.backendUri = "file:///a"
        }, id: "a", parent: "tenants/acme", rules: VolumeRules(storeKey: nil),
        request: Bulkhead_V1_CreateVolumeRequest(), requestID: Fixture.key(), principal: .providerAdmin)
    }
    #expect(noSeed?.message.contains("no key seed") == true)
  }

  @Test func backendURIsBecomeTheCardsSyntax() throws {
    let cases: [(String, VolumeBackendURI)] = [
      ("file:///srv/volumes/a.img", .init(backend: "file:/srv/volumes/a.img", exportName: "")),
      ("file:///srv/my%20vol.img", .init(backend: "file:/srv/my vol.img", exportName: "")),
      ("nbd://192.0.2.10/data", .init(backend: "nbd:192.0.2.10:10809", exportName: "data")),
      ("nbd://192.0.2.10:10810/data", .init(backend: "nbd:192.0.2.10:10810", exportName: "data")),
      ("nbd://192.0.2.10", .init(backend: "nbd:192.0.2.10:10809", exportName: "")),
      (
        "nbd+unix:///data?socket=/run/nbd.sock",
        .init(backend: "nbd:unix:/run/nbd.sock", exportName: "data")
      ),
      ("nbd+unix:///?socket=/run/nbd.sock", .init(backend: "nbd:unix:/run/nbd.sock", exportName: "")),
    ]
    for (uri, expected) in cases {
      #expect(try VolumeBackendURI.parse(uri).get() == expected, "\(uri)")
    }
    for refused in [
      "", "file:", "file:///", "file:///dir/", "file:relative", "file:///a?b", "nbd://[2001:db8::1]/e",
      "nbd://192.0.2.1:70000/e", "nbd+unix://host/e?socket=/s", "nbd+unix:///e?socket=/s&tls=on",
      "nbds://192.0.2.1/e", "file:///a b",
    ] {
      #expect(throws: VolumeBackendURI.Refusal.self, "\(refused)") {
        try VolumeBackendURI.parse(refused).get()
      }
    }
  }

  @Test func anUpdateGrowsOnlyAndKeepsWhatIsFixed() async throws {
    let fixture = try await fixture()
    let made = try await create(fixture)
    let stored = { () async throws -> Bulkhead_V1_Volume in
      let entry = try #require(try await fixture.store.read(Bulkhead_V1_Volume.key(made.name)))
      return try Bulkhead_V1_Volume(serializedBytes: entry.value)
    }
    let keyBefore = try await stored().wrappedDataKey
    let grown = try await update(fixture, ["size_bytes", "queues", "read_only"]) {
      $0.sizeBytes = 16 << 20
      $0.queues = 4
      $0.readOnly = true
    }
    #expect(grown.sizeBytes == 16 << 20 && grown.queues == 4 && grown.readOnly)
    #expect(grown.number == made.number && grown.wrappedDataKey.isEmpty)
    #expect(try await stored().wrappedDataKey == keyBefore)

    let shrink = await apiError { try await update(fixture, ["size_bytes"]) { $0.sizeBytes = 8 << 20 } }
    #expect(shrink?.code == .failedPrecondition)
    #expect(shrink?.message.contains("volume.size_bytes '8388608'") == true)
    #expect(shrink?.message.contains("only grows") == true)

    for (path, change) in [
      ("backend_uri", { (v: inout Bulkhead_V1_Volume) in v.backendUri = "file:///elsewhere" }),
      ("sector_size", { (v: inout Bulkhead_V1_Volume) in v.sectorSize = 512 }),
      ("encryption", { (v: inout Bulkhead_V1_Volume) in v.encryption.cipher = .aesXts128 }),
      ("number", { (v: inout Bulkhead_V1_Volume) in v.number = 9 }),
      ("wrapped_data_key", { (v: inout Bulkhead_V1_Volume) in v.wrappedDataKey = Data([1]) }),
    ] {
      let error = await apiError { try await update(fixture, [path], change) }
      #expect(error?.code == .invalidArgument && error?.message.contains("update_mask '\(path)'") == true)
    }
    // An empty mask changes the mutable fields only; the fixed ones stay.
    let all = try await update(fixture, []) {
      $0.sizeBytes = 16 << 20
      $0.queues = 4
      $0.readOnly = true
      $0.backendUri = "file:///elsewhere"
      $0.sectorSize = 512
    }
    #expect(all.backendUri == made.backendUri && all.sectorSize == 4096)
    #expect(try await stored().wrappedDataKey == keyBefore)
  }

  @Test func attachmentsOfAVolumeAreChecked() async throws {
    let fixture = try await fixture()
    try await create(fixture)
    try await create(fixture, "shared") { $0.readOnly = true }
    try await create(fixture, "theirs", tenant: "other")

    try await attach(fixture, "data-c1")
    // One writer at a time.
    let second = await apiError { try await attach(fixture, "data-c2", card: "cards/c2") }
    #expect(second?.code == .failedPrecondition)
    #expect(second?.message.contains("already attached by 'tenants/acme/guestAttachments/data-c1'") == true)
    // A read-only volume may be attached more than once.
    try await attach(fixture, "shared-c1", volume: "tenants/acme/volumes/shared")
    try await attach(fixture, "shared-c2", volume: "tenants/acme/volumes/shared", card: "cards/c2")

    let shared = "tenants/acme/volumes/shared"
    let refusals: [(() async throws -> Bulkhead_V1_GuestAttachment, String)] = [
      (
        { try await attach(fixture, "h1", volume: shared, hostFunction: "../../etc/x.sock") },
        "guest_attachment.host_function"
      ),
      ({ try await attach(fixture, "h2", volume: shared, hostFunction: ".hidden") }, "0000:3b:00.2"),
      (
        { try await attach(fixture, "h3", volume: shared, hostFunction: "") },
        "guest_attachment.host_function ''"
      ),
      (
        { try await attach(fixture, "h4", volume: shared, hostFunction: String(repeating: "a", count: 65)) },
        "1 to 64"
      ),
      (
        {
          try await attach(fixture, "h5", volume: "tenants/acme/volumes/shared", hostFunction: "data-c1.sock")
        },
        "is already used on cards/c1"
      ),
      (
        { try await attach(fixture, "x", volume: "tenants/other/volumes/theirs") },
        "belongs to another tenant"
      ),
      ({ try await attach(fixture, "x", volume: "tenants/acme/volumes/none") }, "does not exist"),
      ({ try await attach(fixture, "x", card: "cards/none") }, "is not a registered card"),
    ]
    for (call, expected) in refusals {
      let error = await apiError { try await call() }
      #expect(error?.message.contains(expected) == true, "\(String(describing: error)) lacks \(expected)")
    }
    // A PCI function is a plain name.
    try await create(fixture, "pci")
    try await attach(fixture, "pci-c1", volume: "tenants/acme/volumes/pci", hostFunction: "0000:3b:00.2")

    // Twice attached: the volume may not become read-write.
    let writable = await apiError {
      try await fixture.service.update(
        Bulkhead_V1_Volume.with {
          $0.name = "tenants/acme/volumes/shared"
          $0.readOnly = false
        }, mask: .init(protoPaths: ["read_only"]), rules: VolumeRules(storeKey: storeKey),
        request: Bulkhead_V1_UpdateVolumeRequest(), requestID: Fixture.key(), principal: .providerAdmin)
    }
    #expect(writable?.code == .failedPrecondition && writable?.message.contains("shared-c2") == true)

    // Delete is refused while attached, naming the attachment; allowed after.
    let busy = await apiError { try await deleteVolume(fixture) }
    #expect(busy?.code == .failedPrecondition && busy?.message.contains("data-c1") == true)
    try await detach(fixture, "data-c1")
    try await attach(fixture, "data-c2", card: "cards/c2")
    try await detach(fixture, "data-c2")
    try await deleteVolume(fixture)
  }
}
