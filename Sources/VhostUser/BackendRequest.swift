/// Back-end → front-end requests, sent on the channel the front-end gave
/// with SET_BACKEND_REQ_FD (vhost-user.rst, "Back-end message types").
/// Only the one this back-end sends is named.
public enum BackendRequest: UInt32, Sendable {
  /// VHOST_USER_BACKEND_CONFIG_CHANGE_MSG: the device's config space
  /// changed; the front-end reads it again (GET_CONFIG on the main channel)
  /// and raises the guest's configuration change interrupt. No payload.
  case configChange = 2

  /// The message's bytes: a header with no payload. NEED_REPLY is never
  /// set: QEMU answers a config change by sending GET_CONFIG on the main
  /// channel and waiting for it before it would acknowledge, and the
  /// back-end serves the main channel only after it returned from sending;
  /// waiting for the acknowledgement would stall both.
  public var encoded: [UInt8] {
    var bytes: [UInt8] = []
    MessageHeader(request: rawValue, flags: MessageHeader.version, size: 0).encode(into: &bytes)
    return bytes
  }
}
