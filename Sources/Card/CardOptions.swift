import CCardProcess
import CardAgent

/// The firmware's command line:
///
///     bulkhead-card CONFIG-FILE [--controller IP:PORT] [--pki-dir DIR --card-name NAME]
///                   [--state-file PATH] [--host-function-dir DIR] [--firmware-version V]
///                   [--heartbeat-ms N]
///
/// Without `--controller` the card runs the configuration file's tenants,
/// or the last state a controller pushed if the state file holds one
/// (static stability). The state file defaults to CONFIG-FILE.state; the
/// host-function directory (where the sockets of the volumes a slice
/// carries are made, one per `hostFunction`) to the state file's directory;
/// the firmware version to $BULKHEAD_FIRMWARE_VERSION (set by the boot stage
/// from the image's manifest), else `CardOptions.builtInVersion`.
public struct CardOptions: Equatable, Sendable {
  public var configurationPath: String
  public var controllerHost: String?
  public var controllerPort: UInt16 = 0
  public var pkiDirectory: String?
  public var cardName: String?
  public var stateFilePath: String
  /// Where slice volumes' vhost-user sockets are made.
  public var hostFunctionDirectory: String = "."
  /// The only directory a slice volume's file backend may lie in: the
  /// controller's volumes never name a file of the card's own.
  public var volumeDirectory: String = "."
  public var firmwareVersion: String
  public var heartbeatMilliseconds: UInt32 = 1_000
  /// $BULKHEAD_BOOT_STATE from the boot stage (Firmware/Card/init).
  public var bootState = ""

  public static let builtInVersion = "0.0.0-dev"
  public static let usage =
    "usage: bulkhead-card CONFIG-FILE [--controller IP:PORT] [--pki-dir DIR --card-name NAME] [--state-file PATH] [--host-function-dir DIR] [--volume-dir DIR] [--firmware-version V] [--heartbeat-ms N]\n  --host-function-dir DIR: where the sockets of the controller's volumes are made (default: the state file's directory)\n  --volume-dir DIR: the only directory the controller's file-backed volumes may lie in (default: the state file's directory)"

  /// `arguments` without the program's name.
  public static func parse(_ arguments: [String], environment: (String) -> String? = CardOptions.environment)
    throws(CardOptionsError) -> CardOptions
  {
    var positional: [String] = []
    var values: [String: String] = [:]
    let known = [
      "--controller", "--pki-dir", "--card-name", "--state-file", "--host-function-dir", "--volume-dir",
      "--firmware-version",
      "--heartbeat-ms",
    ]
    var i = 0
    while i < arguments.count {
      let argument = arguments[i]
      if argument.hasPrefix("--") {
        guard known.contains(argument) else { throw CardOptionsError(argument, "unknown option") }
        guard i + 1 < arguments.count else { throw CardOptionsError(argument, "needs a value") }
        values[argument] = arguments[i + 1]
        i += 2
      } else {
        positional.append(argument)
        i += 1
      }
    }
    guard positional.count == 1 else {
      throw CardOptionsError("CONFIG-FILE", "exactly one configuration file")
    }
    var options = CardOptions(
      configurationPath: positional[0], stateFilePath: values["--state-file"] ?? positional[0] + ".state",
      firmwareVersion: values["--firmware-version"] ?? environment("BULKHEAD_FIRMWARE_VERSION")
        ?? CardOptions.builtInVersion)
    options.bootState = environment("BULKHEAD_BOOT_STATE") ?? ""
    if let directory = values["--host-function-dir"] {
      guard !directory.isEmpty else { throw CardOptionsError("--host-function-dir", "needs a directory") }
      options.hostFunctionDirectory =
        directory.count > 1 && directory.hasSuffix("/")
        ? String(directory.dropLast()) : directory
    } else {
      options.hostFunctionDirectory = Self.directory(of: options.stateFilePath)
    }
    if let directory = values["--volume-dir"] {
      guard directory.hasPrefix("/") else {
        throw CardOptionsError("--volume-dir", "needs an absolute directory")
      }
      options.volumeDirectory =
        directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
    } else {
      options.volumeDirectory = Self.directory(of: options.stateFilePath)
    }
    if let text = values["--heartbeat-ms"] {
      guard let value = UInt32(text), value >= 10 else {
        throw CardOptionsError("--heartbeat-ms", "'" + text + "' is not a number of milliseconds >= 10")
      }
      options.heartbeatMilliseconds = value
    }
    if let controller = values["--controller"] {
      // IP:PORT, the IPv4 literal form (the management interface is IPv4).
      let parts = controller.split(separator: ":")
      guard parts.count == 2, let port = UInt16(parts[1]), port > 0 else {
        throw CardOptionsError("--controller", "'" + controller + "' is not IP:PORT")
      }
      options.controllerHost = String(parts[0])
      options.controllerPort = port
      guard let pki = values["--pki-dir"] else {
        throw CardOptionsError("--pki-dir", "needed with --controller")
      }
      guard let name = values["--card-name"] else {
        throw CardOptionsError("--card-name", "needed with --controller (the name of its certificate)")
      }
      options.pkiDirectory = pki
      options.cardName = name
    } else if let pki = values["--pki-dir"] {
      // No controller: the folder still holds the card's key-encryption
      // key, which a restored slice's SAs need.
      guard let name = values["--card-name"] else {
        throw CardOptionsError("--card-name", "needed with --pki-dir (the name of its certificate)")
      }
      options.pkiDirectory = pki
      options.cardName = name
    }
    return options
  }

  /// The directory part of `path` ("." for a bare file name).
  static func directory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
  }

  /// `PKI_DIR/cards/NAME.kek`, when a PKI folder is given.
  public var keyEncryptionKeyPath: String? {
    guard let pkiDirectory, let cardName else { return nil }
    return pkiDirectory + "/cards/" + cardName + ".kek"
  }

  /// The link's settings, nil when no controller is configured.
  public var linkSettings: ControllerLinkSettings? {
    guard let controllerHost, let pkiDirectory, let cardName else { return nil }
    return ControllerLinkSettings(
      agent: CardAgentConfiguration(
        cardName: cardName, firmwareVersion: firmwareVersion, controllerHost: controllerHost,
        controllerPort: controllerPort, stateFilePath: stateFilePath,
        heartbeatIntervalMilliseconds: heartbeatMilliseconds, bootState: bootState),
      pkiDirectory: pkiDirectory, hostFunctionDirectory: hostFunctionDirectory,
      volumeDirectory: volumeDirectory)
  }

  public static func environment(_ name: String) -> String? {
    guard let value = name.withCString({ ccp_environment($0) }) else { return nil }
    return String(cString: value)
  }
}

public struct CardOptionsError: Error, Equatable, Sendable, CustomStringConvertible {
  public var option: String
  public var problem: String
  public init(_ option: String, _ problem: String) {
    self.option = option
    self.problem = problem
  }
  public var description: String { option + ": " + problem + "\n" + CardOptions.usage }
}
