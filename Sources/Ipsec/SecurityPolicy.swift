/// One SPD entry (RFC 4301 §4.4.1): packets whose IP addresses match the
/// selector get the action. The selector is matched against the IP header
/// of the frame as the pipeline hands it over, so one shape serves both
/// uses: between cards that header is the underlay's (outer) one and the
/// SA runs in transport mode; towards an outside gateway it is the VPC
/// packet's (inner) one and the SA runs in tunnel mode.
public struct SecurityPolicy: Hashable, Sendable {
  public enum Action: Hashable, Sendable {
    /// RFC 4301 §4.4.1 PROTECT with the outbound SA in this SAD slot.
    /// Inbound, the same policy makes clear-text packets that match it drop.
    case protect(outboundSlot: Int)
    /// BYPASS: passes in clear both ways (IKE, for instance).
    case bypass
    /// DISCARD.
    case discard
  }

  public var selector: TrafficSelector
  public var action: Action

  public init(selector: TrafficSelector, action: Action) {
    self.selector = selector
    self.action = action
  }
}
