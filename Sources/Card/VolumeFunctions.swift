import BlockStorage
import CardCrypto
import Platform
import VhostUser
import VhostUserBackend
import VirtioBlk
import Volumes

/// The device a card volume is: virtio-blk over an AES-XTS volume over a
/// file or NBD backend.
public typealias VolumeDevice = VirtioBlkDevice<EncryptedVolume<VolumeBackend>>

/// The card's encrypted volumes as virtio-blk host functions: each volume
/// is attached (its data key unwrapped into card memory under the KEK from
/// its KEK file), wrapped in a `VirtioBlkDevice`, and served on its own
/// vhost-user-blk socket by one `VhostUserServer`. The run loop drives the
/// server (`LoopService`): one non-blocking turn per pass, asleep on the
/// server's epoll descriptor when idle. Requests are served inside that
/// turn, on the loop's thread.
///
/// A front-end that disconnects (a guest shut down, QEMU restarting) does
/// not detach the volume: the next front-end on the socket finds it as it
/// was. `detachAll` (the card stopping) flushes each volume and zeroes its
/// key.
///
/// Beside the file's volumes, the controller's: `apply` puts a slice's
/// volumes in force on the loop's thread, keyed by host function (attach
/// the new, detach the gone, resize the grown in place and tell the
/// front-end, replace the changed, leave the rest untouched).
public final class VolumeFunctions: LoopService {
  public struct Function {
    public let volume: HostVolume
    public let device: VolumeDevice
  }

  /// A volume from a slice, served on endpoint `endpoint` of the server.
  public struct SliceFunction {
    public var volume: SliceVolume
    public let device: VolumeDevice
    public let endpoint: Int
  }

  public struct OpenError: Error, Sendable, CustomStringConvertible {
    public var volume: UInt32
    public var problem: String
    public var description: String { "volume " + String(volume) + ": " + problem }
  }

  public let server: VhostUserServer<VirtioDeviceAdapter<VolumeDevice>>
  public private(set) var functions: [Function] = []
  public private(set) var sliceFunctions: [SliceFunction] = []

  /// Attaches every volume and listens on its socket; all or nothing (a
  /// volume that fails leaves the others detached, their keys zeroed).
  public init(_ volumes: [HostVolume], log: @escaping (String) -> Void) throws(OpenError) {
    do {
      server = try VhostUserServer()
    } catch {
      throw OpenError(volume: 0, problem: "vhost-user server: " + error.description)
    }
    server.log = log
    for volume in volumes {
      do throws(OpenError) {
        let device = try Self.attach(volume)
        do {
          try server.addEndpoint(path: volume.socketPath, device: VirtioDeviceAdapter(device))
        } catch {
          throw OpenError(volume: volume.id, problem: volume.socketPath + ": " + error.description)
        }
        functions.append(Function(volume: volume, device: device))
        log(
          "volume " + String(volume.id) + ": attached (" + volume.location.description + ", "
            + String(device.store.sectorCount / 2048) + " MiB, sector size "
            + String(volume.spec.encryptionSectorSize.rawValue)
            + (volume.spec.isReadOnly ? ", read-only" : "")
            + ") on " + volume.socketPath)
      } catch {
        detachAll(log: log)
        throw error
      }
    }
  }

  static func attach(_ volume: HostVolume) throws(OpenError) -> VolumeDevice {
    let kek: SymmetricKey
    do {
      kek = try KeyEncryptionKeyFile.read(path: volume.kekPath)
    } catch {
      throw OpenError(volume: volume.id, problem: "kek-file " + volume.kekPath + ": " + error.description)
    }
    let backend: VolumeBackend
    do {
      backend = try VolumeBackend(opening: volume.location, readOnly: volume.spec.isReadOnly)
    } catch {
      throw OpenError(volume: volume.id, problem: volume.location.description + ": " + error.description)
    }
    let store: EncryptedVolume<VolumeBackend>
    do {
      store = try EncryptedVolume(spec: volume.spec, kek: kek, backend: backend)
    } catch {
      throw OpenError(volume: volume.id, problem: error.description)
    }
    // The KEK is released (and zeroed) here; only the data key stays.
    return VirtioBlkDevice(store: store, serial: volume.serial, queueCount: volume.queueCount)
  }

  public func serviceOnce() {
    // No volume, no system call: the loop turns this once per pass.
    guard !functions.isEmpty || !sliceFunctions.isEmpty else { return }
    // A failed wait is the epoll instance's own trouble; the next pass
    // tries again.
    try? server.runOnce(timeoutMilliseconds: 0)
  }

  public var wakeDescriptor: FileDescriptor? { server.waitDescriptor }

  public func prepareToSleep() -> Bool { server.isPolling }

  /// Closes the sockets, then flushes each volume and zeroes its data key.
  public func detachAll(log: (String) -> Void) {
    server.shutdown()
    for function in functions { Self.detach(function.device.store, id: function.volume.id, log: log) }
    for function in sliceFunctions { Self.detach(function.device.store, id: function.volume.id, log: log) }
    sliceFunctions.removeAll()
  }

  static func detach(_ store: EncryptedVolume<VolumeBackend>, id: UInt32, log: (String) -> Void) {
    do throws(BlockIOError) {
      try store.detach()
      log("volume " + String(id) + ": detached, key zeroed")
    } catch {
      log("volume " + String(id) + ": detached, key zeroed; last flush failed: " + error.description)
    }
  }

  /// On the loop's thread: puts a slice's volumes in force. Returns how
  /// many could not be attached or resized here (each said in `log`; the
  /// applier opened and sized their backends already, so what is left to
  /// fail is binding a socket).
  @discardableResult
  public func apply(_ wanted: [SliceVolumeAttachment], log: (String) -> Void) -> Int {
    // Gone or changed: socket closed, flushed, key zeroed.
    var kept: [SliceFunction] = []
    for function in sliceFunctions {
      // A smaller volume that comes opened (the applier did not know it
      // ran: a generation that dropped it was replaced before the loop
      // took it) is a new volume, not a shrink.
      if let next = wanted.first(where: { $0.volume.hostFunction == function.volume.hostFunction }),
        !next.volume.replaces(function.volume),
        next.opened == nil || next.volume.byteCount >= function.volume.byteCount
      {
        kept.append(function)
        continue
      }
      server.removeEndpoint(at: function.endpoint)
      Self.detach(function.device.store, id: function.volume.id, log: log)
    }
    sliceFunctions = kept
    var failures = 0
    for next in wanted {
      if let i = sliceFunctions.firstIndex(where: { $0.volume.hostFunction == next.volume.hostFunction }) {
        if next.volume.byteCount != sliceFunctions[i].volume.byteCount {
          if !resize(i, to: next.volume.byteCount, log: log) { failures += 1 }
        }
        continue
      }
      guard let store = next.opened else {
        // The applier opens every volume it hands over that the loop does
        // not run; one missing here is a bug, said rather than trapped.
        log("volume " + String(next.volume.id) + ": not attached: it was not opened")
        failures += 1
        continue
      }
      if !attach(next.volume, store, log: log) { failures += 1 }
    }
    return failures
  }

  func attach(_ volume: SliceVolume, _ store: EncryptedVolume<VolumeBackend>, log: (String) -> Void) -> Bool {
    let device = VirtioBlkDevice(store: store, serial: volume.serial, queueCount: volume.queueCount)
    let endpoint: Int
    do throws(SystemError) {
      guard UnixSocket.mayReplace(path: volume.socketPath) else {
        log("volume " + String(volume.id) + ": not attached: " + volume.socketPath + " is not a socket")
        Self.detach(store, id: volume.id, log: log)
        return false
      }
      endpoint = try server.addEndpoint(path: volume.socketPath, device: VirtioDeviceAdapter(device))
    } catch {
      log("volume " + String(volume.id) + ": not attached: " + volume.socketPath + ": " + error.description)
      Self.detach(store, id: volume.id, log: log)
      return false
    }
    sliceFunctions.append(SliceFunction(volume: volume, device: device, endpoint: endpoint))
    log(
      "volume " + String(volume.id) + ": attached (" + volume.location.description + ", "
        + String(store.sectorCount / 2048) + " MiB, sector size "
        + String(volume.spec.encryptionSectorSize.rawValue) + (volume.spec.isReadOnly ? ", read-only" : "")
        + ") on " + volume.socketPath)
    // Carried over from an earlier generation that was never taken, the
    // volume may have grown since it was opened.
    if store.sectorCount * 512 != volume.byteCount {
      return resize(sliceFunctions.count - 1, to: volume.byteCount, log: log)
    }
    return true
  }

  /// Grows slice volume `index` in place: the guest keeps its connection;
  /// its front-end is told (CONFIG_CHANGE_MSG) if it gave a back-end
  /// channel, else it reads the capacity on its next GET_CONFIG.
  func resize(_ index: Int, to byteCount: UInt64, log: (String) -> Void) -> Bool {
    let function = sliceFunctions[index]
    let store = function.device.store
    do throws(BlockIOError) {
      try store.backend.refreshByteCount()
    } catch {
      log("volume " + String(function.volume.id) + ": not resized: " + error.description)
      return false
    }
    do throws(VolumeAttachError) {
      try store.grow(toByteCount: byteCount)
    } catch {
      log("volume " + String(function.volume.id) + ": not resized: " + error.description)
      return false
    }
    sliceFunctions[index].volume.byteCount = byteCount
    let told =
      function.device.refreshCapacity() && server.announceConfigurationChange(endpoint: function.endpoint)
    log(
      "volume " + String(function.volume.id) + ": resized to " + String(byteCount / 1_048_576) + " MiB"
        + (told ? " (front-end told)" : ""))
    return true
  }

  /// One line per volume: the device's and the volume's counters.
  public func reportLines() -> [String] {
    functions.map { Self.reportLine(id: $0.volume.id, device: $0.device) }
      + sliceFunctions.map { Self.reportLine(id: $0.volume.id, device: $0.device) }
  }

  static func reportLine(id: UInt32, device: VolumeDevice) -> String {
    let c = device.counters
    let v = device.store.counters
    return "volume " + String(id) + ": reads " + String(c.reads) + " writes " + String(c.writes)
      + " flushes " + String(c.flushes) + " discards " + String(c.discards) + " write-zeroes "
      + String(c.writeZeroes) + " malformed " + String(c.malformed) + " store-errors "
      + String(c.storeErrors)
      + " dropped-chains " + String(c.droppedChains) + " partial-units " + String(v.partialUnits)
  }
}
