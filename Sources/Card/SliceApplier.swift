import CardAgent
import CardHandoff
import DataPlane
import Ipsec
import Management

/// What the card agent applies a pushed slice to: translates it against the
/// card's own settings, compiles it once to prove the data plane accepts it
/// (so a bad generation is reported and the one in force stays), then hands
/// it to the run loop. All or nothing, as `DesiredStateTarget` asks.
///
/// The slice's card-pair SAs travel with its network: unwrapped with the
/// card's key-encryption key, they reach the ESP stage in the same step.
/// A card that can take SAs (it has a KEK) runs its guests at the MTU ESP
/// leaves, SAs or not, so that a guest's MTU does not change under it when
/// a second card joins its VPC.
///
/// The slice's volumes are checked and, where the run loop must attach
/// them, opened here (`SliceVolumePreparation`): a backend that cannot be
/// opened or sized rejects the generation before it is handed over. The
/// loop then only binds sockets, attaches, resizes and detaches.
public struct SliceApplier: DesiredStateTarget {
  public let base: CardConfiguration
  public let handoff: CardConfigurationHandoff
  public let keyEncryptionKey: CardKeyEncryptionKey?
  /// Where slice volumes' sockets go (`--host-function-dir`).
  public let hostFunctionDirectory: String
  /// The only directory slice volumes' file backends may lie in
  /// (`--volume-dir`); nil: anywhere absolute.
  public let volumeDirectory: String?
  /// The slice volumes of the generation handed over last: what the run
  /// loop runs, or will once it takes that generation.
  public private(set) var handedVolumes: [SliceVolume] = []

  public init(
    base: CardConfiguration, handoff: CardConfigurationHandoff, keyEncryptionKey: CardKeyEncryptionKey? = nil,
    hostFunctionDirectory: String = ".", volumeDirectory: String? = nil
  ) {
    self.base = base
    self.handoff = handoff
    self.keyEncryptionKey = keyEncryptionKey
    self.hostFunctionDirectory = hostFunctionDirectory
    self.volumeDirectory = volumeDirectory
  }

  public mutating func apply(_ state: DesiredState) throws(ApplyFailure) {
    var network: NetworkConfiguration
    let esp: [EspAssociation]
    let sites: [EspSite]
    let volumes: [SliceVolume]
    do throws(SliceTranslationError) {
      network = try SliceTranslation.configuration(from: state, base: base)
      esp = try SliceTranslation.associations(from: state, base: base, kek: keyEncryptionKey)
      sites = try SliceTranslation.sites(from: state, network: network)
      volumes = try SliceTranslation.volumes(
        from: state, base: base, hostFunctionDirectory: hostFunctionDirectory,
        volumeDirectory: volumeDirectory,
        kek: keyEncryptionKey)
    } catch {
      throw ApplyFailure(message: error.description)
    }
    // The file's `esp` lines lowered the MTUs already.
    if base.esp.isEmpty, keyEncryptionKey != nil || !esp.isEmpty {
      network = ProtectedUnderlay.protecting(network, suite: esp.first?.suite ?? .aesGCM256)
    }
    do throws(ConfigurationError) {
      // Small tables: only the compilation matters here, not the flows.
      _ = try DataPlane(configuration: network, flowCapacity: 16, connectionCapacity: 16)
    } catch {
      throw ApplyFailure(message: "rejected by the data plane: " + error.description)
    }
    // Last, as it touches files (creates or extends backends).
    let attachments: [SliceVolumeAttachment]
    do throws(SliceTranslationError) {
      attachments = try SliceVolumePreparation.prepare(
        volumes, previous: handedVolumes, kek: keyEncryptionKey)
    } catch {
      throw ApplyFailure(message: error.description)
    }
    handoff.publish(
      generation: state.generation, network: network, esp: esp, sites: sites, volumes: attachments,
      carryOver: { SliceVolumePreparation.carryOver(&$0, from: $1) })
    handedVolumes = volumes
  }
}
