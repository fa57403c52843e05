import CardAgent
import CardHandoff
import CardTLS
import DataPlane
import Ipsec
import Ports
import Volumes

/// Where the firmware's tenant configuration comes from once it runs:
/// pushed slices through the controller link, or the slice persisted by an
/// earlier run when there is no controller. Either way a new generation
/// reaches the data plane through `handoff`, between batches.
public final class ControlledConfiguration {
  public let handoff: CardConfigurationHandoff
  public let link: ControllerLink?

  init(handoff: CardConfigurationHandoff, link: ControllerLink?) {
    self.handoff = handoff
    self.link = link
  }

  /// Restores the persisted slice (if any) into the handoff and, with a
  /// controller configured, prepares the link. Nil after saying why not.
  public static func start(
    _ options: CardOptions, _ configuration: CardConfiguration, _ say: (String) -> Void
  ) -> ControlledConfiguration? {
    if let settings = options.linkSettings {
      let link: ControllerLink
      do {
        link = try ControllerLink(settings: settings, base: configuration)
      } catch {
        say(error.description)
        return nil
      }
      if let generation = link.restorePersistedState() {
        say("restored generation " + String(generation) + " from " + options.stateFilePath)
      }
      return ControlledConfiguration(handoff: link.handoff, link: link)
    }
    let handoff: CardConfigurationHandoff
    do {
      handoff = try CardConfigurationHandoff()
    } catch {
      say("controller handoff: " + error.description)
      return nil
    }
    var kek: CardKeyEncryptionKey? = nil
    if let path = options.keyEncryptionKeyPath {
      do {
        kek = try CardKeyEncryptionKey.read(path: path)
      } catch {
        say(path + ": " + error.description)
      }
    }
    var applier = SliceApplier(
      base: configuration, handoff: handoff, keyEncryptionKey: kek,
      hostFunctionDirectory: options.hostFunctionDirectory, volumeDirectory: options.volumeDirectory)
    do {
      if let generation = try PersistedSlice.restore(path: options.stateFilePath, into: &applier) {
        say("no controller: restored generation " + String(generation) + " from " + options.stateFilePath)
      }
    } catch {
      say("no controller: " + options.stateFilePath + " not restored (" + error.message + ")")
    }
    return ControlledConfiguration(handoff: handoff, link: nil)
  }

  /// On the run loop's thread, between batches: puts a pending generation
  /// in force. It was compiled once already by `SliceApplier`, so a
  /// failure here is unexpected; it is said and the old tables stay.
  ///
  /// Its SAs go to `encryption` first (new inbound SAs open before the
  /// mappings that bring their peer's traffic are in force); if the data
  /// plane then refuses the network, the previous SAs are put back. Its
  /// volumes go to `volumes` last (attached, resized, detached).
  public func takePending(
    into plane: DataPlane, encryption: UnderlayEncryption?, volumes: VolumeFunctions?,
    _ say: (String) -> Void
  ) {
    guard let pending = handoff.take() else { return }
    let previous = encryption?.associations ?? []
    if let encryption {
      do {
        try encryption.apply(pending.esp, now: UnderlayEncryption.seconds)
      } catch {
        say("generation " + String(pending.generation) + " rejected: esp: " + error.description)
        return
      }
    } else if !pending.esp.isEmpty {
      say(
        "generation " + String(pending.generation)
          + " rejected: it has ESP SAs and this card runs no ESP stage")
      return
    }
    do {
      try plane.apply(pending.network)
    } catch {
      try? encryption?.apply(previous, now: UnderlayEncryption.seconds)
      say("generation " + String(pending.generation) + " rejected: " + error.description)
      return
    }
    encryption?.setSites(pending.sites, network: pending.network)
    var volumeFailures = 0
    if let volumes {
      volumeFailures = volumes.apply(pending.volumes, log: say)
    } else if !pending.volumes.isEmpty {
      say("generation " + String(pending.generation) + ": its volumes ignored: this card serves no volumes")
    }
    handoff.markInForce(pending.generation)
    say(
      "generation " + String(pending.generation) + " in force: " + String(pending.network.nics.count)
        + " NICs, "
        + String(pending.network.vpcs.count) + " VPCs, " + String(pending.network.securityGroups.count)
        + " security groups, " + String(pending.network.mappings.count) + " mappings"
        + (pending.esp.isEmpty ? "" : ", " + String(pending.esp.count) + " ESP SAs")
        + (pending.sites.isEmpty ? "" : ", " + String(pending.sites.count) + " sites")
        + (pending.volumes.isEmpty ? "" : ", " + String(pending.volumes.count) + " volumes")
        + (volumeFailures == 0 ? "" : " (" + String(volumeFailures) + " not attached)"))
  }

  /// On the run loop's thread, from `onControl`: the totals the agent's
  /// next heartbeat carries (nothing to do without a controller).
  public func publishCounters<Port: PacketPort>(ports: [Port], plane: DataPlane, volumes: VolumeFunctions?) {
    link?.agent.dataPlaneCounters.publish(ports: ports, plane: plane, volumes: volumes)
  }

  public func startLink(_ say: (String) -> Void) -> Bool {
    guard let link else { return true }
    do {
      try link.start()
    } catch {
      say(error.description)
      return false
    }
    say(
      "controller " + link.agent.configuration.controllerHost + ":"
        + String(link.agent.configuration.controllerPort)
        + " as " + link.agent.configuration.cardName)
    return true
  }

  public func stopLink() { link?.stop() }
}
