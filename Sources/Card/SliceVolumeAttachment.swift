import BlockStorage
import CardCrypto
import CardHandoff
import Platform
import Volumes

/// A slice volume on its way to the run loop: its checked value and, for
/// one the loop must attach, the volume already opened on the management
/// channel's thread (backend sized and open, data key unwrapped), so that
/// a backend that cannot be opened rejects the generation there and the
/// controller hears of it.
///
/// @unchecked Sendable: handed over once, through the handoff's lock; the
/// channel's thread keeps no reference to `opened` after publishing, so the
/// loop is its only user from then on.
public struct SliceVolumeAttachment: @unchecked Sendable {
  public var volume: SliceVolume
  /// Nil for a volume the loop runs already (unchanged or grown).
  public var opened: EncryptedVolume<VolumeBackend>?

  public init(volume: SliceVolume, opened: EncryptedVolume<VolumeBackend>?) {
    self.volume = volume
    self.opened = opened
  }
}

/// The card's handoff: a generation's network, SAs and slice volumes.
public typealias CardConfigurationHandoff = ConfigurationHandoff<[SliceVolumeAttachment]>

/// The volume half of applying a slice, on the channel's thread, against
/// the slice volumes of the generation handed over last (`previous`): a
/// new or replaced volume is opened (a missing file created sparse at its
/// size, a shorter one extended; an NBD export at least as large), a grown
/// one has its file extended (or its export's size checked); shrinking is
/// refused. All or nothing: on an error whatever was opened is released
/// (keys zeroed) and the error names the volume.
enum SliceVolumePreparation {
  static func prepare(
    _ volumes: [SliceVolume], previous: [SliceVolume], kek: CardKeyEncryptionKey?
  ) throws(SliceTranslationError) -> [SliceVolumeAttachment] {
    var attachments: [SliceVolumeAttachment] = []
    for volume in volumes {
      func bad(_ field: String) -> SliceTranslationError { .badVolume(handle: volume.id, field: field) }
      // A socket path may only replace a socket: never the state file or
      // anything else that shares the host-function directory.
      guard UnixSocket.mayReplace(path: volume.socketPath) else {
        throw bad("hostFunction (" + volume.socketPath + " exists and is not a socket)")
      }
      if let old = previous.first(where: { $0.hostFunction == volume.hostFunction }), !volume.replaces(old) {
        guard volume.byteCount >= old.byteCount else {
          throw bad(
            "sizeBytes (shrinking from " + String(old.byteCount) + " to " + String(volume.byteCount)
              + " bytes is refused; make a new volume)")
        }
        if volume.byteCount > old.byteCount { try sizeBackend(volume) }
        attachments.append(SliceVolumeAttachment(volume: volume, opened: nil))
        continue
      }
      guard let kek else { throw bad("wrappedKey (this card has no key-encryption key)") }
      try probeSocket(volume)
      attachments.append(SliceVolumeAttachment(volume: volume, opened: try open(volume, kek: kek)))
    }
    return attachments
  }

  /// Where nothing is yet, listens once on the socket path and removes it
  /// again: a directory that is missing or not writable, or a path the
  /// kernel refuses, rejects the generation here rather than on the loop
  /// (which binds for real, after the controller was answered). A socket
  /// already there is left alone: it may be a running volume's.
  static func probeSocket(_ volume: SliceVolume) throws(SliceTranslationError) {
    guard UnixSocket.isAbsent(path: volume.socketPath) else { return }
    do throws(SystemError) {
      let listener = try UnixSocket.listen(path: volume.socketPath)
      try? listener.close()
      UnixSocket.unlink(path: volume.socketPath)
    } catch {
      throw .badVolume(
        handle: volume.id,
        field: "hostFunction (cannot listen on " + volume.socketPath + ": " + error.description + ")")
    }
  }

  /// The backend holds at least the volume's size: a file is created or
  /// extended; an NBD export is asked its size (a fresh connection).
  static func sizeBackend(_ volume: SliceVolume) throws(SliceTranslationError) {
    switch volume.location {
    case .file(let path):
      do throws(BlockIOError) {
        try FileBackend.ensureSize(path: path, atLeast: volume.byteCount)
      } catch {
        throw .badVolume(handle: volume.id, field: "backend (" + path + ": " + error.description + ")")
      }
    case .nbd:
      _ = try openBackend(volume)
    }
  }

  static func openBackend(_ volume: SliceVolume) throws(SliceTranslationError) -> VolumeBackend {
    func bad(_ problem: String) -> SliceTranslationError {
      .badVolume(handle: volume.id, field: "backend (" + volume.location.description + ": " + problem + ")")
    }
    let backend: VolumeBackend
    do throws(BlockIOError) {
      if case .file(let path) = volume.location {
        try FileBackend.ensureSize(path: path, atLeast: volume.byteCount)
      }
      backend = try VolumeBackend(opening: volume.location, readOnly: volume.spec.isReadOnly)
    } catch {
      throw bad(error.description)
    }
    guard backend.byteCount >= volume.byteCount else {
      throw bad(
        "the export holds " + String(backend.byteCount) + " bytes, fewer than sizeBytes "
          + String(volume.byteCount))
    }
    return backend
  }

  static func open(_ volume: SliceVolume, kek: CardKeyEncryptionKey) throws(SliceTranslationError)
    -> EncryptedVolume<VolumeBackend>
  {
    let backend = try openBackend(volume)
    do throws(VolumeAttachError) {
      return try EncryptedVolume(
        spec: volume.spec, kek: kek.key, backend: backend, byteCount: volume.byteCount)
    } catch {
      throw .badVolume(handle: volume.id, field: "volume (" + error.description + ")")
    }
  }

  /// Moves what a replaced, never-taken generation opened into the one
  /// replacing it, for each volume the new one still wants unchanged (the
  /// applier saw it as running already, so opened nothing for it).
  static func carryOver(_ attachments: inout [SliceVolumeAttachment], from replaced: [SliceVolumeAttachment])
  {
    for i in attachments.indices where attachments[i].opened == nil {
      guard
        let old = replaced.first(where: {
          $0.volume.hostFunction == attachments[i].volume.hostFunction && $0.opened != nil
        }), !attachments[i].volume.replaces(old.volume)
      else { continue }
      attachments[i].opened = old.opened
    }
  }
}
