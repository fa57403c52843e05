// bulkhead-card: the card's firmware. Reads its configuration file, opens
// the uplink and the host functions' ports, and runs the data plane's
// run-to-completion loop until SIGTERM or SIGINT. SIGUSR1 prints the
// counters; so does a clean exit. SIGHUP reads the file again (tenants,
// VPCs, security groups, NICs; not the ports).
//
//   bulkhead-card CONFIG-FILE [--controller IP:PORT] [--pki-dir DIR --card-name NAME]
//                 [--state-file PATH] [--host-function-dir DIR] [--firmware-version V]
//                 [--heartbeat-ms N]
//
// `volume` lines make encrypted virtio-blk host functions (Docs/volumes.md);
// their keys are zeroed when the card stops cleanly. `esp` lines protect
// the underlay to peer cards with ESP (Docs/ipsec.md); SIGHUP applies their
// changes make-before-break. With a controller, its slices carry the
// card-pair SAs instead (keys wrapped with the card's cards/NAME.kek).
//
// With a controller, the card agent runs the management channel and each
// slice it applies replaces the file's tenants (Docs/control-plane.md) and
// attaches, resizes and detaches the slice's volumes beside the file's;
// the file still gives the card's own settings and ports (Docs/card.md).
// Without one, the last slice a controller pushed (the state file) is
// restored if there is one.
import Card
import CardHandoff
import DataPlane
import Ipsec
import Platform
import Ports

/// libc's exit(3) and fflush(3); Glibc cannot be imported in Embedded Swift.
@_extern(c, "exit") func exitProcess(_ status: Int32)
@_extern(c, "fflush") func flushOutput(_ stream: UnsafeMutableRawPointer?) -> Int32

func say(_ line: String) {
  print("bulkhead-card: " + line)
  _ = flushOutput(nil)
}

func runCard() -> Int32 {
  let options: CardOptions
  do {
    options = try CardOptions.parse(Array(ProcessArguments.all.dropFirst()))
  } catch {
    say(error.description)
    return 2
  }
  let path = options.configurationPath
  let text: String
  do {
    text = try ConfigurationFileReader.read(path: path)
  } catch {
    say(path + ": " + error.description)
    return 1
  }
  let configuration: CardConfiguration
  do {
    configuration = try ConfigurationFileParser.parse(text)
  } catch {
    say(path + ": " + error.description)
    return 1
  }
  // Signals first: the signalfd works only if they are blocked before
  // anything else runs.
  let signals: SignalWatch
  do {
    signals = try SignalWatch()
  } catch {
    say("signals: " + error.description)
    return 1
  }
  _ = try? ProcessSignals.ignoreBrokenPipe()
  let pool = PacketPool(bufferCount: configuration.bufferCount)
  let plane: DataPlane
  do {
    plane = try DataPlane(configuration: configuration.network)
  } catch {
    say("configuration rejected by the data plane: " + error.description)
    return 1
  }
  // ESP: the file's `esp` lines, or the SAs a controller's slices carry
  // (a card with a PKI folder may be given them at any time).
  var encryption: UnderlayEncryption? = nil
  if !configuration.esp.isEmpty || options.pkiDirectory != nil {
    do {
      encryption = try UnderlayEncryption(
        configuration.esp, card: configuration.network.card.underlayAddress,
        uplinkMTU: configuration.uplinkMTU)
      encryption?.setSites(configuration.sites, network: configuration.network)
    } catch {
      say("esp rejected: " + error.description)
      return 1
    }
    if !configuration.esp.isEmpty {
      say(
        "esp: " + String(configuration.esp.count) + " SAs with "
          + String(encryption?.path.policies.count ?? 0) + " peers (" + String(configuration.sites.count)
          + " of them sites); underlay MTU "
          + String(configuration.network.card.underlayMTU) + " before sealing, guest MTU "
          + String(configuration.network.card.guestMTU))
    }
  }
  // Volumes: the file's (data keys unwrapped into card memory, sockets
  // listening), and room for a slice's (a card with a PKI folder has the
  // KEK they are wrapped with).
  var volumes: VolumeFunctions? = nil
  if !configuration.volumes.isEmpty || options.pkiDirectory != nil {
    do {
      volumes = try VolumeFunctions(configuration.volumes, log: { say($0) })
    } catch {
      say(error.description)
      return 1
    }
  }
  defer { volumes?.detachAll(log: { say($0) }) }
  guard let controlled = ControlledConfiguration.start(options, configuration, say) else { return 1 }
  controlled.takePending(into: plane, encryption: encryption, volumes: volumes, say)
  let ports: [CardPort]
  do {
    ports = try CardPorts.open(configuration, pool: pool, log: { say($0) })
  } catch {
    say(error.description)
    return 1
  }
  // The run loop is generic over what processes a batch: the pipeline, or
  // the pipeline between ESP's open and seal.
  func serve<Processor: BatchProcessor>(_ processor: Processor) -> Int32 {
    let loop = RunLoop(ports: ports, pool: pool, processor: processor)
    var services: [any LoopService] = []
    if let volumes { services.append(volumes) }
    if let encryption { services.append(encryption) }
    loop.services = services
    func report() {
      for line in CounterReport.lines(
        ports: ports, describe: { $0.kind }, plane: plane, loop: loop.statistics)
      {
        say(line)
      }
      for line in volumes?.reportLines() ?? [] { say(line) }
      for line in encryption?.reportLines() ?? [] { say(line) }
    }
    say("running with " + String(ports.count) + " ports, firmware " + options.firmwareVersion)
    guard controlled.startLink(say) else { return 1 }
    defer { controlled.stopLink() }
    // SIGHUP: read the file again and put its tenants, VPCs, security
    // groups, NICs and ESP SAs in force (the ports stay as they were opened).
    func reload() {
      guard options.controllerHost == nil else {
        say("reload rejected: the controller drives this card's tenants")
        return
      }
      let freshText: String
      let fresh: CardConfiguration
      do {
        freshText = try ConfigurationFileReader.read(path: path)
      } catch {
        say("reload rejected: " + path + ": " + error.description)
        return
      }
      do {
        fresh = try ConfigurationFileParser.parse(freshText)
      } catch {
        say("reload rejected: " + path + ": " + error.description)
        return
      }
      guard fresh.uplink == configuration.uplink, fresh.hostFunctions == configuration.hostFunctions,
        fresh.volumes == configuration.volumes
      else {
        say("reload rejected: the ports or volumes changed; restart the card for that")
        return
      }
      guard fresh.esp.isEmpty == configuration.esp.isEmpty else {
        say("reload rejected: ESP was turned on or off; restart the card for that")
        return
      }
      let previous = encryption?.associations ?? []
      let previousSites = encryption?.siteTunnels ?? []
      if let encryption {
        do {
          try encryption.apply(fresh.esp, now: UnderlayEncryption.seconds)
        } catch {
          say("reload rejected: esp: " + error.description)
          return
        }
        encryption.setSites(fresh.sites, network: fresh.network)
      }
      do {
        try plane.apply(fresh.network)
      } catch {
        try? encryption?.apply(previous, now: UnderlayEncryption.seconds)
        encryption?.setSiteTunnels(previousSites)
        say("reload rejected by the data plane: " + error.description)
        return
      }
      say(
        "reloaded: " + String(fresh.network.nics.count) + " NICs, " + String(fresh.network.vpcs.count)
          + " VPCs, "
          + String(fresh.network.securityGroups.count) + " security groups, " + String(fresh.esp.count)
          + " ESP SAs")
    }
    do {
      try loop.run(
        signals: signals, controlDescriptor: controlled.handoff.descriptor,
        onControl: {
          controlled.takePending(into: plane, encryption: encryption, volumes: volumes, say)
          controlled.publishCounters(ports: ports, plane: plane, volumes: volumes)
        },
        onReload: reload,
        onReport: report)
    } catch {
      say("run loop: " + error.description)
      report()
      return 1
    }
    say("stopping")
    report()
    return 0
  }
  if let encryption { return serve(encryption.protecting(plane)) }
  return serve(plane)
}

exitProcess(runCard())
