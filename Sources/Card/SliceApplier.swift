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
public struct SliceApplier: DesiredStateTarget {
  public let base: CardConfiguration
  public let handoff: ConfigurationHandoff
  public let keyEncryptionKey: CardKeyEncryptionKey?

  public init(
    base: CardConfiguration, handoff: ConfigurationHandoff, keyEncryptionKey: CardKeyEncryptionKey? = nil
  ) {
    self.base = base
    self.handoff = handoff
    self.keyEncryptionKey = keyEncryptionKey
  }

  public mutating func apply(_ state: DesiredState) throws(ApplyFailure) {
    var network: NetworkConfiguration
    let esp: [EspAssociation]
    let sites: [EspSite]
    do throws(SliceTranslationError) {
      network = try SliceTranslation.configuration(from: state, base: base)
      esp = try SliceTranslation.associations(from: state, base: base, kek: keyEncryptionKey)
      sites = try SliceTranslation.sites(from: state, network: network)
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
    handoff.publish(generation: state.generation, network: network, esp: esp, sites: sites)
  }
}
