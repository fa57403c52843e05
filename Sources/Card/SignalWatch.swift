import CCardProcess
import Platform

/// SIGTERM, SIGINT and SIGUSR1 as events on a descriptor (a signalfd), so
/// that the run loop's epoll wakes on them and nothing runs in a signal
/// handler. Create it before starting other threads: it blocks the signals
/// in the creating thread, and threads inherit the mask.
public final class SignalWatch {
  public enum Request: Equatable, Sendable {
    case stop
    case reportCounters
    /// SIGHUP: read the configuration file again.
    case reload
  }

  public let descriptor: FileDescriptor

  public init() throws(SystemError) {
    let fd = ccp_signal_descriptor()
    guard fd >= 0 else { throw SystemError("signalfd", errno: -fd) }
    descriptor = FileDescriptor(rawValue: fd)
  }

  deinit { _ = try? descriptor.close() }

  /// The next pending request, nil when no signal is pending.
  public func next() -> Request? {
    while true {
      let signal = ccp_read_signal(descriptor.rawValue)
      if signal <= 0 { return nil }
      if signal == CCP_SIGUSR1 { return .reportCounters }
      if signal == CCP_SIGHUP { return .reload }
      if signal == CCP_SIGTERM || signal == CCP_SIGINT { return .stop }
    }
  }
}
