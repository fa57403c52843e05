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
public final class VolumeFunctions: LoopService {
  public struct Function {
    public let volume: HostVolume
    public let device: VolumeDevice
  }

  public struct OpenError: Error, Sendable, CustomStringConvertible {
    public var volume: UInt32
    public var problem: String
    public var description: String { "volume " + String(volume) + ": " + problem }
  }

  public let server: VhostUserServer<VirtioDeviceAdapter<VolumeDevice>>
  public private(set) var functions: [Function] = []

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
    // A failed wait is the epoll instance's own trouble; the next pass
    // tries again.
    try? server.runOnce(timeoutMilliseconds: 0)
  }

  public var wakeDescriptor: FileDescriptor? { server.waitDescriptor }

  public func prepareToSleep() -> Bool { server.isPolling }

  /// Closes the sockets, then flushes each volume and zeroes its data key.
  public func detachAll(log: (String) -> Void) {
    server.shutdown()
    for function in functions {
      do throws(BlockIOError) {
        try function.device.store.detach()
        log("volume " + String(function.volume.id) + ": detached, key zeroed")
      } catch {
        log(
          "volume " + String(function.volume.id) + ": detached, key zeroed; last flush failed: "
            + error.description)
      }
    }
  }

  /// One line per volume: the device's and the volume's counters.
  public func reportLines() -> [String] {
    functions.map { f in
      let c = f.device.counters
      let v = f.device.store.counters
      return "volume " + String(f.volume.id) + ": reads " + String(c.reads) + " writes " + String(c.writes)
        + " flushes " + String(c.flushes) + " discards " + String(c.discards) + " write-zeroes "
        + String(c.writeZeroes) + " malformed " + String(c.malformed) + " store-errors "
        + String(c.storeErrors)
        + " dropped-chains " + String(c.droppedChains) + " partial-units " + String(v.partialUnits)
    }
  }
}
