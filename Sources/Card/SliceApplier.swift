import CardAgent
import CardHandoff
import DataPlane
import Management

/// What the card agent applies a pushed slice to: translates it against the
/// card's own settings, compiles it once to prove the data plane accepts it
/// (so a bad generation is reported and the one in force stays), then hands
/// it to the run loop. All or nothing, as `DesiredStateTarget` asks.
public struct SliceApplier: DesiredStateTarget {
  public let base: CardConfiguration
  public let handoff: ConfigurationHandoff

  public init(base: CardConfiguration, handoff: ConfigurationHandoff) {
    self.base = base
    self.handoff = handoff
  }

  public mutating func apply(_ state: DesiredState) throws(ApplyFailure) {
    let network: NetworkConfiguration
    do throws(SliceTranslationError) {
      network = try SliceTranslation.configuration(from: state, base: base)
    } catch {
      throw ApplyFailure(message: error.description)
    }
    do throws(ConfigurationError) {
      // Small tables: only the compilation matters here, not the flows.
      _ = try DataPlane(configuration: network, flowCapacity: 16, connectionCapacity: 16)
    } catch {
      throw ApplyFailure(message: "rejected by the data plane: " + error.description)
    }
    handoff.publish(generation: state.generation, network: network)
  }
}
