import Management

/// Where a card finds its controller and what it says about itself.
public struct CardAgentConfiguration: Sendable {
  /// The card's name: its certificate's common name and its Hello's id.
  public var cardName: String
  public var firmwareVersion: String
  public var capabilities: Capabilities
  /// The controller's management address (an IP literal) and port.
  public var controllerHost: String
  public var controllerPort: UInt16
  /// The DNS name the controller's certificate must carry.
  public var controllerName: String
  /// Where the last applied state is kept across restarts.
  public var stateFilePath: String
  public var heartbeatIntervalMilliseconds: UInt32
  public var connectTimeoutMilliseconds: Int32
  public var backoffInitialMilliseconds: UInt32
  public var backoffMaximumMilliseconds: UInt32

  public static let defaultControllerName = "bulkhead-controller"

  public init(
    cardName: String, firmwareVersion: String, capabilities: Capabilities = [.geneve, .vxlan],
    controllerHost: String, controllerPort: UInt16,
    controllerName: String = CardAgentConfiguration.defaultControllerName, stateFilePath: String,
    heartbeatIntervalMilliseconds: UInt32 = 1_000, connectTimeoutMilliseconds: Int32 = 5_000,
    backoffInitialMilliseconds: UInt32 = 100, backoffMaximumMilliseconds: UInt32 = 5_000
  ) {
    self.cardName = cardName
    self.firmwareVersion = firmwareVersion
    self.capabilities = capabilities
    self.controllerHost = controllerHost
    self.controllerPort = controllerPort
    self.controllerName = controllerName
    self.stateFilePath = stateFilePath
    self.heartbeatIntervalMilliseconds = heartbeatIntervalMilliseconds
    self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
    self.backoffInitialMilliseconds = backoffInitialMilliseconds
    self.backoffMaximumMilliseconds = backoffMaximumMilliseconds
  }
}
