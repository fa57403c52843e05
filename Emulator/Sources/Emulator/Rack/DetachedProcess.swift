import Foundation

/// A process of the rack (a card's firmware, a guest's QEMU) that outlives
/// the command that started it: its own session (no terminal, no signal
/// from the user's Ctrl-C), every descriptor but its log closed, no signal
/// blocked. Identified later by PID and kernel start time together, so a
/// PID the system has given to another process is never signalled.
public struct DetachedProcess: Codable, Equatable, Sendable {
  public var pid: Int32
  /// Field 22 of /proc/PID/stat (clock ticks since boot).
  public var startTime: UInt64
  public var command: [String]
  public var logPath: String

  /// The environment variable that marks a rack's processes: its value is
  /// the rack's state directory. `Rack.down` finds by it what a killed `up`
  /// started but had not yet recorded.
  public static let rackVariable = "BULKHEAD_RACK_STATE"

  /// Starts `command` (looked up on PATH) with standard output and error
  /// appended to `logPath`; with `rack`, its environment carries
  /// `BULKHEAD_RACK_STATE=rack` (inherited by what it execs).
  public static func start(_ command: [String], logPath: String, rack: String? = nil) throws
    -> DetachedProcess
  {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    for descriptor in open.compactMap({ Int32($0) }) where descriptor > 2 {
      posix_spawn_file_actions_addclose(&actions, descriptor)
    }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    var defaultSignals = sigset_t()
    sigfillset(&defaultSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
    // POSIX_SPAWN_SETSID (glibc 2.26+; 0x80): a session of its own.
    let setSession: Int32 = 0x80
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | setSession))
    let argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    var environment: [String] = []
    var entry = environ
    while let pointer = entry.pointee {
      let text = String(cString: pointer)
      if !text.hasPrefix(rackVariable + "=") { environment.append(text) }
      entry += 1
    }
    if let rack { environment.append(rackVariable + "=" + rack) }
    let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
    defer { for pointer in envp { free(pointer) } }
    var pid: pid_t = 0
    let spawned = posix_spawnp(&pid, command[0], &actions, &attributes, argv, envp)
    guard spawned == 0 else {
      throw RackError("cannot start \(command[0]): \(String(cString: strerror(spawned)))")
    }
    return DetachedProcess(
      pid: pid, startTime: Self.startTime(of: pid) ?? 0, command: command, logPath: logPath)
  }

  /// This user's running processes whose environment carries
  /// `BULKHEAD_RACK_STATE=rack`, wherever they came from (a recorded part,
  /// or one a killed `up` started and could not record).
  public static func marked(rack: String) -> [DetachedProcess] {
    let needle = Array((rackVariable + "=" + rack).utf8)
    var found: [DetachedProcess] = []
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
      guard let pid = Int32(entry), pid != getpid(),
        let handle = FileHandle(forReadingAtPath: "/proc/\(pid)/environ")
      else { continue }
      let environment = handle.readDataToEndOfFile()
      try? handle.close()
      // Entries are NUL-terminated; compare whole entries only.
      let marked = environment.split(separator: 0, omittingEmptySubsequences: true).contains {
        $0.elementsEqual(needle)
      }
      guard marked, let start = startTime(of: pid) else { continue }
      let process = DetachedProcess(pid: pid, startTime: start, command: [], logPath: "")
      if process.isRunning { found.append(process) }
    }
    return found
  }

  /// Whether this very process still runs (not a zombie, and the PID not
  /// reused).
  public var isRunning: Bool {
    guard let stat = Self.stat(of: pid) else { return false }
    return stat.state != "Z" && stat.startTime == startTime
  }

  /// SIGTERM, then SIGKILL after `grace` seconds; reaps it if it is our
  /// child. Returns whether it had to be killed.
  @discardableResult
  public func stop(grace: Double = 5) -> Bool {
    guard isRunning else {
      reap()
      return false
    }
    kill(pid, SIGTERM)
    let deadline = Date(timeIntervalSinceNow: grace)
    while isRunning && Date() < deadline {
      reap()
      usleep(50_000)
    }
    guard isRunning else {
      reap()
      return false
    }
    kill(pid, SIGKILL)
    while isRunning {
      reap()
      usleep(20_000)
    }
    reap()
    return true
  }

  /// Sends `signal` if the process still runs.
  public func signal(_ signal: Int32) -> Bool {
    guard isRunning else { return false }
    return kill(pid, signal) == 0
  }

  func reap() {
    var status: Int32 = 0
    _ = waitpid(pid, &status, WNOHANG)
  }

  static func startTime(of pid: Int32) -> UInt64? { stat(of: pid)?.startTime }

  /// State and start time from /proc/PID/stat (the command name may hold
  /// spaces and parentheses: fields are counted after the last ')').
  static func stat(of pid: Int32) -> (state: Character, startTime: UInt64)? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let close = text.lastIndex(of: ")")
    else { return nil }
    let fields = text[text.index(after: close)...].split(separator: " ")
    // fields[0] is field 3 (state); start time is field 22.
    guard fields.count > 19, let state = fields[0].first, let start = UInt64(fields[19]) else { return nil }
    return (state, start)
  }
}

/// Why a rack command could not do its work, said so the user knows what
/// to do next.
public struct RackError: Error, CustomStringConvertible, Sendable {
  public var description: String
  public init(_ description: String) { self.description = description }
}
