import ArgumentParser
import Emulator
import Foundation

/// `dpuctl emu`: the emulated rack (Docs/rack.md).
struct EmuCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "emu",
    abstract: "Run an emulated rack: cards on an underlay, tenant guests on their host functions.",
    discussion: """
      A topology file (examples/two-cards.toml) names the cards, tenants, VPCs,
      security groups and guests. `up` makes a network namespace per card and a
      routed underlay between them, starts each card's firmware (bulkhead-card)
      with its uplink on the underlay, and boots each guest under QEMU with a
      virtio-net NIC served by its card over vhost-user; guests take their
      addresses from the card by DHCP. Everything outlives the command until
      `down`. Needs root (namespaces) and the packages of scripts/setup.sh.

      Examples:
        dpuctl emu up examples/two-cards.toml
        dpuctl emu status
        dpuctl emu exec a1 -- ping -c 3 172.16.2.10
        dpuctl emu capture --card card1 --count 4
        dpuctl emu counters card1
        dpuctl emu apply examples/two-cards-no-icmp.toml
        dpuctl emu reload card2        # after editing its card.conf by hand
        dpuctl emu console a1          # Ctrl-] leaves
        dpuctl emu down
      """,
    subcommands: [
      EmuUp.self, EmuDown.self, EmuStatus.self, EmuExec.self, EmuConsole.self, EmuCounters.self,
      EmuApply.self, EmuReload.self,
      EmuCapture.self,
    ])
}

struct EmuOptions: ParsableArguments {
  @Option(
    help:
      "Where the rack keeps its state, sockets and logs (env BULKHEAD_EMU_DIR; default /run/bulkhead/emu).")
  var stateDir: String?

  var directory: String {
    stateDir ?? ProcessInfo.processInfo.environment["BULKHEAD_EMU_DIR"] ?? "/run/bulkhead/emu"
  }
  var rack: Rack { Rack(stateDirectory: directory, progress: { EmuOptions.progress($0) }) }

  static func progress(_ line: String) {
    FileHandle.standardError.write(Data(("emu: " + line + "\n").utf8))
  }
}

/// Runs a rack action, turning its errors into a message and exit code 1.
func rackAction<T>(_ body: () throws -> T) throws -> T {
  do {
    return try body()
  } catch let error as RackError {
    FileHandle.standardError.write(Data(("dpuctl emu: " + error.description + "\n").utf8))
    throw ExitCode(1)
  }
}

enum CardArchitecture: String, ExpressibleByArgument, CaseIterable {
  case native, aarch64
}

struct EmuUp: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "up",
    abstract: "Bring a rack up from a topology file; waits until every guest has its address.")
  @Argument(help: "Topology file (TOML), e.g. examples/two-cards.toml.") var topology: String
  @OptionGroup var emu: EmuOptions
  @Option(
    help: "Card firmware: native (the host build) or aarch64 (the Embedded Swift build under qemu-aarch64).")
  var arch: CardArchitecture = .native
  @Option(
    help:
      "The bulkhead-card binary (default: beside dpuctl; for aarch64, .build-aarch64/release/bulkhead-card).")
  var cardBinary: String?
  @Option(help: "Seconds to wait for each guest to boot and take its address.") var bootTimeout: Double = 300

  func run() throws {
    let repository = Repository.root
    let binary: String
    switch arch {
    case .native:
      binary = cardBinary ?? Repository.executableFolder + "/bulkhead-card"
    case .aarch64:
      binary = cardBinary ?? repository + "/.build-aarch64/release/bulkhead-card"
    }
    guard FileManager.default.isExecutableFile(atPath: binary) else {
      let hint =
        arch == .aarch64
        ? "build it with Firmware/build.sh" : "build it with swift build --product bulkhead-card"
      FileHandle.standardError.write(
        Data("dpuctl emu: no card firmware at \(binary): \(hint), or pass --card-binary\n".utf8))
      throw ExitCode(1)
    }
    var options = Rack.Options(
      cardCommand: arch == .aarch64 ? ["qemu-aarch64", binary] : [binary], architecture: arch.rawValue,
      repository: repository)
    options.bootTimeout = bootTimeout
    let plan = try rackAction { try emu.rack.up(topologyPath: topology, options: options) }
    print("rack \(plan.rack) is up (state in \(emu.directory))")
    for guest in plan.guests {
      print("  guest \(guest.name) on \(guest.card), VPC \(guest.vpc), \(guest.ip)")
    }
    for volume in plan.volumes {
      print(
        "  volume \(volume.name) on \(volume.card), \(volume.sizeBytes >> 20) MiB"
          + (volume.guest.map { ", attached to \($0) at boot" }
            ?? ", not attached (dpuctl guest attach GUEST --volume \(volume.name))"))
    }
    print("next: dpuctl emu status | exec GUEST -- COMMAND | console GUEST | down")
  }
}

struct EmuDown: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "down",
    abstract: "Stop every process of the rack and delete its namespaces and sockets (logs stay).")
  @OptionGroup var emu: EmuOptions
  @Option(help: "The rack's name, to clean up after an `up` that left no state file.") var rack: String?

  func run() throws {
    let done = emu.rack.down(rackName: rack)
    if done.isEmpty { print("nothing was running") }
    done.forEach { print($0) }
  }
}

struct EmuStatus: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "status", abstract: "Show each part of the rack and its state.")
  @OptionGroup var emu: EmuOptions
  @Option(name: .shortAndLong, help: "Output format: table or json.") var output: OutputFormat = .table

  func run() throws {
    let rows = try rackAction { try emu.rack.status() }
    try Printer(format: output).rows(rows, headers: ["KIND", "NAME", "STATE", "PID", "DETAIL"]) {
      [$0.kind, $0.name, $0.state, $0.pid.map { String($0) } ?? "-", $0.detail]
    }
  }
}

struct EmuExec: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "exec",
    abstract: "Run a shell command in a guest and print its output; exits with the command's status.",
    discussion: """
      The command runs in the guest's busybox shell with the image's own
      programs (ip, iperf3, tcpdump, ...) on hand. One argument after -- is a
      whole script; several are one command.
        dpuctl emu exec a1 -- iperf3 -c 172.16.2.10 -t 5
        dpuctl emu exec a1 -- 'ip -br addr; ping -c 1 172.16.0.1'
      """)
  @Argument(help: "Guest name.") var guest: String
  @Argument(parsing: .captureForPassthrough, help: "The command (after --).") var command: [String]
  @OptionGroup var emu: EmuOptions
  @Option(help: "Seconds to wait for the command.") var timeout: Double = 120

  func run() throws {
    let words = command.first == "--" ? Array(command.dropFirst()) : command
    guard !words.isEmpty else {
      throw ValidationError("give a command after the guest's name: exec a1 -- ip addr")
    }
    // One argument is a script as it is (`-- 'ip link; ping -c 1 x'`);
    // several are a command whose words are quoted for the guest's shell.
    let script =
      words.count == 1
      ? words[0]
      : words.map { word in
        word.allSatisfy({ $0.isLetter || $0.isNumber || "-_./:=,@%+".contains($0) })
          ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
      }.joined(separator: " ")
    let result = try rackAction { try emu.rack.agent(for: guest).run(script, timeout: timeout) }
    FileHandle.standardOutput.write(Data(result.output.utf8))
    if result.status != 0 { throw ExitCode(Int32(truncatingIfNeeded: result.status)) }
  }
}

struct EmuCounters: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "counters",
    abstract: "Print a card's counters: per port, and the pipeline's drops by reason.")
  @Argument(help: "Card name.") var card: String
  @OptionGroup var emu: EmuOptions

  func run() throws {
    let lines = try rackAction { try emu.rack.counters(card: card) }
    lines.forEach { print($0) }
  }
}

struct EmuApply: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "apply",
    abstract: "Apply a changed topology (tenants, VPCs, security groups, ESP keys) to the running cards.",
    discussion: """
      The cards reload their configuration (SIGHUP); cards and guests must stay the same.
      Raising [rack] esp-generation rekeys every card pair without losing packets: all
      cards first open the new SPIs, then all seal with the new keys, then the old SPIs go.
      """)
  @Argument(help: "The changed topology file (default: the one the rack came up with).") var topology: String?
  @OptionGroup var emu: EmuOptions

  func run() throws {
    let done = try rackAction { try emu.rack.apply(topologyPath: topology) }
    if done.isEmpty { print("no card's configuration changed") }
    done.forEach { print($0) }
  }
}

struct EmuReload: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "reload",
    abstract: "Have a card read its configuration file again, as it is on disk.",
    discussion: """
      For a card.conf edited by hand (it is in the state directory, cards/NAME/card.conf);
      `dpuctl emu apply` writes the topology's version back.
      """)
  @Argument(help: "Card name.") var card: String
  @OptionGroup var emu: EmuOptions

  func run() throws {
    print(try rackAction { try emu.rack.reload(card: card) })
  }
}

struct EmuCapture: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "capture",
    abstract:
      "Capture a card's underlay traffic with tcpdump and print it decoded (Geneve/VXLAN with VNI, ESP with SPI)."
  )
  @Option(help: "Card whose underlay link to capture.") var card: String
  @Option(help: "Packets to capture.") var count: Int = 10
  @Option(help: "Give up after this many seconds.") var seconds: Int = 30
  @Option(help: "Also write the packets to this pcap file.") var write: String?
  @OptionGroup var emu: EmuOptions

  func run() throws {
    let (_, plan) = try rackAction { try emu.rack.plan() }
    guard let target = plan.card(named: card) else {
      throw ValidationError("no card '\(card)' (cards: \(plan.cards.map(\.name).joined(separator: ", ")))")
    }
    var command = [
      "ip", "netns", "exec", plan.routerNamespace, "timeout", String(seconds), "tcpdump", "-n", "-e", "-v",
      "-l",
      "-i", target.routerLink, "-c", String(count),
    ]
    if let write { command += ["-w", write, "--print"] }
    // Geneve and VXLAN are UDP; ESP between cards is IP protocol 50.
    command += ["udp", "or", "ip", "proto", "50"]
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = command
    try process.run()
    process.waitUntilExit()
  }
}

struct EmuConsole: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "console",
    abstract: "Attach to a guest's serial console (a shell); Ctrl-] leaves. --log prints what it showed.")
  @Argument(help: "Guest name.") var guest: String
  @Flag(help: "Print the console log instead of attaching.") var log = false
  @OptionGroup var emu: EmuOptions

  func run() throws {
    let (_, plan) = try rackAction { try emu.rack.plan() }
    guard let target = plan.console(of: guest) else {
      throw ValidationError(
        "no guest '\(guest)' (guests: \((plan.guests.map(\.name) + plan.peers.map(\.name) + plan.sites.map(\.name)).joined(separator: ", ")))"
      )
    }
    if log {
      FileHandle.standardOutput.write(FileManager.default.contents(atPath: target.log) ?? Data())
      return
    }
    try rackAction { try ConsoleRelay(socketPath: target.socket).run() }
  }
}

/// Where the repository and the build's products are, found from dpuctl's
/// own path.
enum Repository {
  static var executableFolder: String {
    URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
  }

  static var root: String {
    var url = URL(fileURLWithPath: executableFolder)
    while url.path != "/" {
      if FileManager.default.fileExists(atPath: url.path + "/Package.swift") { return url.path }
      url = url.deletingLastPathComponent()
    }
    return FileManager.default.currentDirectoryPath
  }
}
