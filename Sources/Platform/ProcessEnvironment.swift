import CPlatform

/// CLOCK_MONOTONIC, for timeouts and rates (never for correctness).
public enum MonotonicClock {
  public static var nanoseconds: UInt64 { cp_monotonic_nanoseconds() }
}

/// Process-wide settings a long-running server needs.
public enum ProcessSignals {
  /// A peer that closes its socket must produce EPIPE, not kill us.
  public static func ignoreBrokenPipe() throws(SystemError) {
    _ = try checked("signal", cp_ignore_broken_pipe())
  }

  /// Standard output flushed at each newline (logs read by other processes).
  public static func lineBufferStandardOutput() { cp_line_buffer_stdout() }

  public static var processID: Int32 { cp_process_id() }
}
