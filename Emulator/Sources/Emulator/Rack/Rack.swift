import Foundation
import HostDriver

/// The emulated rack behind `dpuctl emu`: brings a topology up (namespaces
/// and links, one firmware process per card, one QEMU guest per guest),
/// reports on it, runs commands in its guests, applies a changed topology
/// to the running cards, and takes it all down again.
public struct Rack: Sendable {
  public struct Options: Sendable {
    /// The card firmware's command, without its arguments: the host build of
    /// `bulkhead-card`, or `qemu-aarch64 PATH` for the aarch64 build.
    public var cardCommand: [String]
    public var architecture: String
    /// The repository, for the guest image builder.
    public var repository: String
    public var bootTimeout: Double = 300

    public init(cardCommand: [String], architecture: String, repository: String) {
      self.cardCommand = cardCommand
      self.architecture = architecture
      self.repository = repository
    }
  }

  public let stateDirectory: String
  public let progress: @Sendable (String) -> Void

  public init(stateDirectory: String, progress: @escaping @Sendable (String) -> Void = { _ in }) {
    self.stateDirectory = stateDirectory
    self.progress = progress
  }

  public static func readTopology(_ path: String) throws -> RackTopology {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw RackError("cannot read the topology file \(path)")
    }
    do {
      return try RackTopology(String(decoding: data, as: UTF8.self))
    } catch {
      throw RackError(path + ": " + error.description)
    }
  }

  // MARK: up

  /// Brings the rack up; on failure everything made so far is taken down
  /// again before the error is thrown.
  public func up(topologyPath: String, options: Options) throws -> RackPlan {
    let topology = try Self.readTopology(topologyPath)
    if let existing = try RackState.load(from: stateDirectory),
      existing.parts.contains(where: { $0.process.isRunning })
    {
      throw RackError(
        "rack \(existing.rack) is already up in \(stateDirectory): `dpuctl emu down` first, or pass another --state-dir"
      )
    }
    var plan = RackPlan(topology, stateDirectory: stateDirectory)
    try? FileManager.default.removeItem(atPath: stateDirectory)
    for directory in ["logs", "cards", "guests", "volumes"] + plan.cards.map({ "cards/" + $0.name })
      + plan.guests.map({ "guests/" + $0.name }) + plan.peers.map({ "guests/" + $0.name })
      + plan.sites.map({ "guests/" + $0.name })
    {
      try FileManager.default.createDirectory(
        atPath: stateDirectory + "/" + directory, withIntermediateDirectories: true)
    }
    // ESP keys of the card pairs (fresh for a fresh rack), then the cards'
    // files can say them.
    // Volumes: a KEK per card that serves one, each volume's data key
    // drawn and kept only wrapped, and its sparse backing file.
    plan = RackPlan(
      topology, stateDirectory: stateDirectory,
      espKeys: try EspKeyring.ensure(for: topology, stateDirectory: stateDirectory),
      volumeKeys: try VolumeKeyring.ensure(for: topology, stateDirectory: stateDirectory))
    for volume in plan.volumes { try Self.makeBackingFile(volume) }
    var state = RackState(
      rack: topology.name, topologyPath: URL(fileURLWithPath: topologyPath).standardizedFileURL.path,
      architecture: options.architecture)
    state.esp = topology.esp
    state.espGeneration = topology.espGeneration
    try state.save(to: stateDirectory)
    do {
      try bringUp(plan, options: options, state: &state)
    } catch {
      progress("up failed: \(error); taking down what was made")
      down()
      throw error
    }
    return plan
  }

  private func bringUp(_ plan: RackPlan, options: Options, state: inout RackState) throws {
    let started = Date()
    progress("guest image: building or reusing the cached one")
    let image = try GuestImage.build(
      repository: options.repository, progress: { self.progress("  image: " + $0) })

    progress("underlay: router namespace \(plan.routerNamespace)")
    state.namespaces.append(plan.routerNamespace)
    try state.save(to: stateDirectory)
    let router = try NetworkNamespace(plan.routerNamespace)
    try router.run(["sysctl", "-qw", "net.ipv4.ip_forward=1"])
    try router.run(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"])
    var namespaces = [router]
    defer { for namespace in namespaces { namespace.keep() } }
    for card in plan.cards {
      state.namespaces.append(card.namespace)
      try state.save(to: stateDirectory)
      let namespace = try NetworkNamespace(card.namespace)
      namespaces.append(namespace)
      try namespace.run(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"])
      try namespace.run(["ip", "link", "add", "uplink", "type", "veth", "peer", "name", card.routerLink])
      try namespace.run(["ip", "link", "set", card.routerLink, "netns", plan.routerNamespace])
      try namespace.run(["ip", "link", "set", "uplink", "address", card.mac, "mtu", "1500", "up"])
      try router.run(["ip", "link", "set", card.routerLink, "address", card.routerMAC, "up"])
      try router.addAddress(card.routerAddress + "/24", to: card.routerLink)
      // The card answers no ARP on the underlay: the router knows its MAC.
      try router.run([
        "ip", "neigh", "replace", card.underlayAddress, "lladdr", card.mac, "dev", card.routerLink, "nud",
        "permanent",
      ])
      try Self.writeCardFile(card.configuration, to: card.configurationPath)
    }

    for card in plan.cards {
      progress(
        "card \(card.name): starting \(options.architecture) firmware in \(card.namespace), underlay \(card.underlayAddress)"
      )
      let process = try DetachedProcess.start(
        ["ip", "netns", "exec", card.namespace] + options.cardCommand + [card.configurationPath],
        logPath: card.logPath, rack: processMark)
      state.parts.append(RackState.Part(kind: "card", name: card.name, process: process))
      try state.save(to: stateDirectory)
    }
    for card in plan.cards {
      let process = state.parts.first { $0.kind == "card" && $0.name == card.name }!.process
      try waitForLog(
        card.logPath, containing: "running with", process: process, timeout: 90, what: "card \(card.name)")
      progress("card \(card.name): running (pid \(process.pid))")
    }
    for volume in plan.volumes {
      progress(
        "volume \(volume.name): \(volume.sizeBytes >> 20) MiB on card \(volume.card), AES-XTS-256, "
          + (volume.guest.map { "for guest \($0)" } ?? "not attached"))
    }

    for guest in plan.guests {
      let process = try startQemu(
        plan.qemuConfiguration(of: guest, image: image), name: guest.name, consoleLog: guest.consoleLog)
      state.parts.append(RackState.Part(kind: "guest", name: guest.name, process: process))
      try state.save(to: stateDirectory)
      progress("guest \(guest.name): booting on card \(guest.card) (QEMU pid \(process.pid))")
    }
    for peer in plan.peers {
      try router.addTap(peer.tap)
      try router.addAddress(peer.routerAddress + "/24", to: peer.tap)
    }
    for site in plan.sites {
      try router.addTap(site.tap)
      try router.addAddress(site.routerAddress + "/24", to: site.tap)
    }
    for peer in plan.peers {
      let configuration = plan.qemuConfiguration(of: peer, image: image)
      let process = try startQemu(configuration, name: peer.name, consoleLog: peer.consoleLog)
      state.parts.append(RackState.Part(kind: "peer", name: peer.name, process: process))
      try state.save(to: stateDirectory)
      progress(
        "peer \(peer.name): booting on the underlay, \(peer.underlayAddress), Linux \(peer.encapsulation) to card \(peer.card)"
      )
    }
    for site in plan.sites {
      let process = try startQemu(
        plan.qemuConfiguration(of: site, image: image), name: site.name, consoleLog: site.consoleLog)
      state.parts.append(RackState.Part(kind: "site", name: site.name, process: process))
      try state.save(to: stateDirectory)
      progress(
        "site \(site.name): booting on the underlay, \(site.underlayAddress), IPsec tunnels to "
          + site.tunnels.map(\.card).joined(separator: ", "))
    }
    for guest in plan.guests {
      let process = state.parts.first { $0.kind == "guest" && $0.name == guest.name }!.process
      try waitForLog(
        guest.consoleLog, containing: "BULKHEAD-SERVING", process: process, timeout: options.bootTimeout,
        what: "guest \(guest.name)")
      let lease = GuestStatus(consoleLog: guest.consoleLog)
      guard lease.address != nil else {
        throw RackError(
          "guest \(guest.name) got no DHCP lease from card \(guest.card); see \(guest.consoleLog) and \(plan.card(named: guest.card)!.logPath)"
        )
      }
      progress(
        "guest \(guest.name): up, \(lease.address!) (\(lease.readySeconds.map { String(format: "%.1f", $0) } ?? "?") s to userspace)"
      )
    }
    for peer in plan.peers {
      let process = state.parts.first { $0.kind == "peer" && $0.name == peer.name }!.process
      try waitForLog(
        peer.consoleLog, containing: "BULKHEAD-SERVING", process: process, timeout: options.bootTimeout,
        what: "peer \(peer.name)")
      progress("peer \(peer.name): up, \(peer.ip) behind VTEP \(peer.underlayAddress)")
    }
    for site in plan.sites {
      let process = state.parts.first { $0.kind == "site" && $0.name == site.name }!.process
      try waitForLog(
        site.consoleLog, containing: "BULKHEAD-SERVING", process: process, timeout: options.bootTimeout,
        what: "site \(site.name)")
      progress("site \(site.name): up, \(site.cidr) behind gateway \(site.underlayAddress)")
    }
    progress(String(format: "rack %@ is up in %.0f s", plan.rack, Date().timeIntervalSince(started)))
  }

  /// A volume's backing file: sparse, its whole size (a card's `volume`
  /// line serves its backend's whole length), readable by root alone.
  static func makeBackingFile(_ volume: RackPlan.VolumePlan) throws {
    guard
      FileManager.default.createFile(
        atPath: volume.backingFile, contents: nil, attributes: [.posixPermissions: 0o600]),
      let handle = FileHandle(forWritingAtPath: volume.backingFile)
    else { throw RackError("volume \(volume.name): cannot make its backing file \(volume.backingFile)") }
    defer { try? handle.close() }
    do {
      try handle.truncate(atOffset: UInt64(volume.sizeBytes))
    } catch {
      throw RackError("volume \(volume.name): cannot size \(volume.backingFile): \(error)")
    }
  }

  func startQemu(_ configuration: GuestConfiguration, name: String, consoleLog: String) throws
    -> DetachedProcess
  {
    let scenarioFile = stateDirectory + "/guests/" + name + "/scenario.sh"
    let commandLine = QemuCommandLine(configuration, scenarioFile: scenarioFile)
    if commandLine.needsScenarioFile {
      try configuration.scenario.write(toFile: scenarioFile, atomically: true, encoding: .utf8)
    }
    _ = FileManager.default.createFile(atPath: consoleLog, contents: nil)
    return try DetachedProcess.start(
      commandLine.command, logPath: stateDirectory + "/logs/" + name + ".qemu.log", rack: processMark)
  }

  func waitForLog(
    _ path: String, containing text: String, process: DetachedProcess, timeout: Double, what: String
  )
    throws
  {
    let deadline = Date(timeIntervalSinceNow: timeout)
    while true {
      let log = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
      if log.contains(text) { return }
      guard process.isRunning else {
        throw RackError(
          "\(what) exited; its log (\(path)) ends:\n"
            + log.split(whereSeparator: \.isNewline).suffix(15).joined(separator: "\n"))
      }
      guard Date() < deadline else {
        throw RackError(
          "\(what) was not ready within \(Int(timeout)) s; its log (\(path)) ends:\n"
            + log.split(whereSeparator: \.isNewline).suffix(15).joined(separator: "\n"))
      }
      usleep(100_000)
    }
  }

  // MARK: down

  /// The mark every process of this rack carries in its environment: the
  /// state directory, as an absolute path.
  public var processMark: String { URL(fileURLWithPath: stateDirectory).standardizedFileURL.path }

  /// Stops every process of the rack (also ones a killed `up` started
  /// before it could record them: every process marked with the rack's
  /// state directory), deletes its namespaces (also ones a killed `up` made
  /// before it could record them: every `bh-RACK-*`), and
  /// removes its sockets and state; logs stay in `STATE-DIR/logs`.
  /// Returns what it did, one line each.
  @discardableResult
  public func down(rackName: String? = nil) -> [String] {
    var done: [String] = []
    let state = try? RackState.load(from: stateDirectory)
    // Guests first (they hold the cards' sockets), then cards.
    for part in (state?.parts ?? []).sorted(by: { $0.kind != "card" && $1.kind == "card" }) {
      if part.process.isRunning {
        let killed = part.process.stop()
        done.append("\(part.kind) \(part.name): stopped pid \(part.process.pid)\(killed ? " (SIGKILL)" : "")")
      }
    }
    // What a killed `up` started but did not record (it died between
    // starting a process and saving the state): found by the mark in the
    // process's environment.
    for process in DetachedProcess.marked(rack: processMark) {
      let killed = process.stop()
      done.append("process \(process.pid) (not recorded): stopped\(killed ? " (SIGKILL)" : "")")
    }
    var namespaces = Set(state?.namespaces ?? [])
    if let rack = state?.rack ?? rackName {
      let prefix = RackPlan.namespacePrefix(rack: rack)
      for name in (try? NetworkNamespace.existing()) ?? [] where name.hasPrefix(prefix) {
        namespaces.insert(name)
      }
    }
    for name in namespaces.sorted() where ((try? NetworkNamespace.existing()) ?? []).contains(name) {
      _ = try? HostCommand.run(["ip", "netns", "delete", name])
      done.append("namespace \(name): deleted")
    }
    let fileManager = FileManager.default
    for entry in (try? fileManager.contentsOfDirectory(atPath: stateDirectory)) ?? [] where entry != "logs" {
      try? fileManager.removeItem(atPath: stateDirectory + "/" + entry)
    }
    return done
  }

  // MARK: status

  public struct PartStatus: Codable, Equatable, Sendable {
    public var kind: String
    public var name: String
    public var state: String
    public var pid: Int32?
    public var detail: String
    /// Volumes: the card that serves it, its size, the guest it is
    /// attached to (none: absent) and its vhost-user socket.
    public var card: String? = nil
    public var sizeBytes: Int? = nil
    public var guest: String? = nil
    public var socket: String? = nil
  }

  public func status() throws -> [PartStatus] {
    guard let state = try RackState.load(from: stateDirectory) else {
      throw RackError(
        "no rack in \(stateDirectory): `dpuctl emu up TOPOLOGY` first (or pass its --state-dir)")
    }
    let existing = Set((try? NetworkNamespace.existing()) ?? [])
    var rows: [PartStatus] = state.namespaces.map {
      PartStatus(
        kind: "namespace", name: $0, state: existing.contains($0) ? "present" : "missing", detail: "")
    }
    let topology = try? Self.readTopology(state.topologyPath)
    let plan = topology.map { RackPlan($0, stateDirectory: stateDirectory) }
    for part in state.parts {
      let running = part.process.isRunning
      var row = PartStatus(
        kind: part.kind, name: part.name, state: running ? "running" : "exited", pid: part.process.pid,
        detail: "")
      if part.kind == "card", let card = plan?.card(named: part.name) {
        row.detail = "underlay \(card.underlayAddress), \(state.architecture), log \(card.logPath)"
      } else if part.kind == "guest", let guest = plan?.guest(named: part.name) {
        let status = GuestStatus(consoleLog: guest.consoleLog)
        if running { row.state = status.serving ? "up" : "booting" }
        row.detail = "card \(guest.card), vpc \(guest.vpc), " + (status.address ?? "no address yet")
      } else if part.kind == "peer", let peer = plan?.peers.first(where: { $0.name == part.name }) {
        if running { row.state = GuestStatus(consoleLog: peer.consoleLog).serving ? "up" : "booting" }
        row.detail =
          "underlay \(peer.underlayAddress), vpc \(peer.vpc), \(peer.ip) over Linux \(peer.encapsulation)"
      } else if part.kind == "site", let site = plan?.sites.first(where: { $0.name == part.name }) {
        if running { row.state = GuestStatus(consoleLog: site.consoleLog).serving ? "up" : "booting" }
        row.detail =
          "underlay \(site.underlayAddress), vpc \(site.vpc), \(site.cidr) over IPsec to "
          + site.tunnels.map(\.card).joined(separator: ", ")
      }
      rows.append(row)
    }
    for volume in plan?.volumes ?? [] {
      rows.append(volumeStatus(volume, plan: plan!))
    }
    return rows
  }

  /// A volume's row: its card and size, the guest that has it now (asked
  /// of each running guest's monitor), and whether its socket is there.
  func volumeStatus(_ volume: RackPlan.VolumePlan, plan: RackPlan) -> PartStatus {
    var attached: String?
    for guest in plan.guests where attached == nil {
      let slots = (try? hostAgent(guest.name, plan: plan).slots()) ?? []
      if slots.contains(where: { $0.device == FunctionPlan.Identifiers(function: volume.name).device }) {
        attached = guest.name
      }
    }
    var info = stat()
    let listening = stat(volume.socket, &info) == 0 && info.st_mode & S_IFMT == S_IFSOCK
    let size =
      volume.sizeBytes % (1 << 30) == 0 ? "\(volume.sizeBytes >> 30) GiB" : "\(volume.sizeBytes >> 20) MiB"
    var row = PartStatus(
      kind: "volume", name: volume.name, state: listening ? "listening" : "no socket",
      detail: "card \(volume.card), \(size), "
        + (attached.map { "attached to \($0)" } ?? "not attached") + (volume.isReadOnly ? ", read-only" : ""))
    row.card = volume.card
    row.sizeBytes = volume.sizeBytes
    row.guest = attached
    row.socket = volume.socket
    return row
  }

  // MARK: guests and cards

  public func plan() throws -> (RackState, RackPlan) {
    guard let state = try RackState.load(from: stateDirectory) else {
      throw RackError(
        "no rack in \(stateDirectory): `dpuctl emu up TOPOLOGY` first (or pass its --state-dir)")
    }
    return (state, RackPlan(try Self.readTopology(state.topologyPath), stateDirectory: stateDirectory))
  }

  public func agent(for guestName: String) throws -> GuestAgent {
    let (_, plan) = try plan()
    if let peer = plan.peers.first(where: { $0.name == guestName }) {
      return GuestAgent(socketPath: peer.agentSocket)
    }
    if let site = plan.sites.first(where: { $0.name == guestName }) {
      return GuestAgent(socketPath: site.agentSocket)
    }
    guard let guest = plan.guest(named: guestName) else {
      throw RackError(
        "no guest '\(guestName)' in this rack (guests: \((plan.guests.map(\.name) + plan.peers.map(\.name) + plan.sites.map(\.name)).joined(separator: ", ")))"
      )
    }
    return GuestAgent(socketPath: guest.agentSocket)
  }

  /// Asks a card for its counters (SIGUSR1) and returns the report lines it
  /// printed.
  public func counters(card name: String, timeout: Double = 10) throws -> [String] {
    let (state, plan) = try plan()
    guard let card = plan.card(named: name),
      let part = state.parts.first(where: { $0.kind == "card" && $0.name == name })
    else {
      throw RackError(
        "no card '\(name)' in this rack (cards: \(plan.cards.map(\.name).joined(separator: ", ")))")
    }
    let before = (try? FileManager.default.attributesOfItem(atPath: card.logPath)[.size] as? Int) ?? 0
    guard part.process.signal(SIGUSR1) else {
      throw RackError("card \(name) is not running (dpuctl emu status)")
    }
    let deadline = Date(timeIntervalSinceNow: timeout)
    var lastSize = before
    var quietSince = Date()
    while Date() < deadline {
      usleep(100_000)
      let size = (try? FileManager.default.attributesOfItem(atPath: card.logPath)[.size] as? Int) ?? 0
      if size != lastSize {
        lastSize = size
        quietSince = Date()
      } else if size > before && Date().timeIntervalSince(quietSince) > 0.4 {
        break
      }
    }
    let data = FileManager.default.contents(atPath: card.logPath) ?? Data()
    let text = String(decoding: data.dropFirst(before), as: UTF8.self)
    let lines = text.split(whereSeparator: \.isNewline).map {
      String($0.hasPrefix("bulkhead-card: ") ? $0.dropFirst(15) : $0)
    }
    guard lines.contains(where: { $0.hasPrefix("loop:") }) else {
      throw RackError("card \(name) printed no counters within \(Int(timeout)) s; see \(card.logPath)")
    }
    return lines
  }

  /// Rewrites the cards' configuration files from the (changed) topology
  /// and has each card reload it (SIGHUP). Cards and guests must stay the
  /// same; tenants, VPCs' rules and security groups may change. A higher
  /// `esp-generation` rekeys every card pair make-before-break: all cards
  /// first open the new SPIs too, then all seal with the new keys, then
  /// the old SPIs leave (each card keeps them for a short grace).
  public func apply(topologyPath: String?) throws -> [String] {
    let (state, old) = try plan()
    let path = topologyPath ?? state.topologyPath
    let topology = try Self.readTopology(path)
    let keys = try EspKeyring.ensure(for: topology, stateDirectory: stateDirectory)
    let new = RackPlan(topology, stateDirectory: stateDirectory, espKeys: keys)
    guard new.cards.map(\.name) == old.cards.map(\.name), new.guests.map(\.name) == old.guests.map(\.name),
      new.peers.map(\.name) == old.peers.map(\.name), new.sites == old.sites, new.volumes == old.volumes,
      zip(new.guests, old.guests).allSatisfy({ $0.card == $1.card && $0.mac == $1.mac })
    else {
      throw RackError(
        "cards, guests or volumes changed: apply changes tenants, VPCs and security groups only; `dpuctl emu down` and `up` for the rest"
      )
    }
    guard state.esp == topology.esp else {
      throw RackError(
        "ESP was turned on or off or changed cipher: cards start with or without ESP; `dpuctl emu down` and `up` for that"
      )
    }
    var done: [String] = []
    let from = state.espGeneration ?? 1
    if topology.esp != nil, from != topology.espGeneration {
      let to = topology.espGeneration
      for stage in [
        RackPlan.EspStage(inbound: [from, to], outbound: from),
        RackPlan.EspStage(inbound: [from, to], outbound: to),
      ] {
        for card in new.cards {
          let text = RackPlan.configuration(of: card, topology: topology, plan: new, stage: stage)
          done.append(try reload(card: card, state: state, configuration: text))
        }
      }
    }
    for card in new.cards {
      guard card.configuration != (try? String(contentsOfFile: card.configurationPath, encoding: .utf8))
      else { continue }
      done.append(try reload(card: card, state: state, configuration: card.configuration))
    }
    var updated = state
    updated.topologyPath = URL(fileURLWithPath: path).standardizedFileURL.path
    updated.espGeneration = topology.espGeneration
    if updated != state { try updated.save(to: stateDirectory) }
    return done
  }

  /// A card's file may hold ESP keys: only root reads it.
  static func writeCardFile(_ text: String, to path: String) throws {
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
  }

  /// Has card `name` read its configuration file again as it is on disk
  /// (after it was edited by hand); returns the card's answer.
  public func reload(card name: String) throws -> String {
    let (state, plan) = try plan()
    guard let card = plan.card(named: name) else {
      throw RackError(
        "no card '\(name)' in this rack (cards: \(plan.cards.map(\.name).joined(separator: ", ")))")
    }
    return try reload(card: card, state: state, configuration: nil)
  }

  /// Writes `configuration` (if given) to the card's file, sends SIGHUP and
  /// waits for the card to confirm or reject the reload.
  func reload(card: RackPlan.CardPlan, state: RackState, configuration: String?) throws -> String {
    guard let part = state.parts.first(where: { $0.kind == "card" && $0.name == card.name }) else {
      throw RackError("card \(card.name) is not part of the running rack (dpuctl emu status)")
    }
    // The card's answer is looked for only in what its log gains after
    // the signal, counted in bytes (a log is appended, never rewritten).
    let before = (try? Data(contentsOf: URL(fileURLWithPath: card.logPath)))?.count ?? 0
    if let configuration {
      try Self.writeCardFile(configuration, to: card.configurationPath)
    }
    guard part.process.signal(SIGHUP) else {
      throw RackError("card \(card.name) is not running (dpuctl emu status)")
    }
    let deadline = Date(timeIntervalSinceNow: 30)
    var outcome: String?
    while outcome == nil && Date() < deadline {
      usleep(50_000)
      let bytes = (try? Data(contentsOf: URL(fileURLWithPath: card.logPath))) ?? Data()
      let log = String(decoding: bytes.dropFirst(before), as: UTF8.self)
      outcome = log.split(whereSeparator: \.isNewline).first {
        $0.contains("reloaded") || $0.contains("reload rejected")
      }.map(String.init)
    }
    guard let outcome else {
      throw RackError("card \(card.name) did not confirm the reload; see \(card.logPath)")
    }
    guard outcome.contains("reloaded") else { throw RackError("card \(card.name): \(outcome)") }
    return "card \(card.name): \(outcome.replacingOccurrences(of: "bulkhead-card: ", with: ""))"
  }
}

/// What a rack guest's console log says: ready, serving, its DHCP lease.
public struct GuestStatus: Sendable {
  public var serving = false
  public var address: String?
  public var readySeconds: Double?

  public init(consoleLog: String) {
    let text = (try? String(contentsOfFile: consoleLog, encoding: .utf8)) ?? ""
    for line in text.split(whereSeparator: \.isNewline) {
      let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
      if trimmed.hasPrefix("BULKHEAD-SERVING") { serving = true }
      if trimmed.hasPrefix("BULKHEAD-READY"), case .ready(let uptime) = ConsoleLine(Substring(trimmed)) {
        readySeconds = uptime
      }
      if trimmed.hasPrefix("BULKHEAD lease "),
        let field = trimmed.split(separator: " ").first(where: { $0.hasPrefix("ip=") })
      {
        address = String(field.dropFirst(3))
      }
    }
  }
}
