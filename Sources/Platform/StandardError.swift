import CPlatform

/// Diagnostics for a person watching the process, on file descriptor 2
/// (Embedded Swift's `print` writes only to standard output).
public enum StandardError {
  /// Writes `line` and a newline; a failed or short write is ignored (there
  /// is nowhere left to report it).
  public static func write(_ line: String) {
    var text = line
    text += "\n"
    text.withUTF8 { bytes in _ = cp_write(2, bytes.baseAddress, bytes.count) }
  }
}
