import Volumes

/// A tenant volume this card serves as a virtio-blk host function: where
/// the guest's front-end connects, where the ciphertext lives, and the
/// volume's wrapped data key. The KEK that unwraps it is named by path,
/// never held in the configuration.
public struct HostVolume: Equatable, Sendable {
  public var id: UInt32
  /// The vhost-user-blk socket (QEMU `-device vhost-user-blk-pci`).
  public var socketPath: String
  public var location: VolumeLocation
  /// Wrapped key, encryption sector size, read-only.
  public var spec: VolumeSpec
  /// The file holding the key-encryption key (`KeyEncryptionKeyFile`).
  public var kekPath: String
  /// Request queues offered to the guest (virtio 1.2 §5.2.3 num_queues).
  public var queueCount: Int

  public init(
    id: UInt32, socketPath: String, location: VolumeLocation, spec: VolumeSpec, kekPath: String,
    queueCount: Int = 2
  ) {
    self.id = id
    self.socketPath = socketPath
    self.location = location
    self.spec = spec
    self.kekPath = kekPath
    self.queueCount = queueCount
  }

  /// What GET_ID answers (virtio 1.2 §5.2.6: up to 20 bytes).
  public var serial: String { "bulkhead-vol-" + String(id) }
}
