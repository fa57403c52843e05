/// A configuration file line the card cannot use: where, which field, and
/// what was expected, so that the person editing the file can fix it.
public struct ConfigurationFileError: Error, Equatable, Sendable, CustomStringConvertible {
  /// 1-based; 0 for a problem with the file as a whole (a missing line).
  public var line: Int
  public var field: String
  public var problem: String

  public init(line: Int, field: String, problem: String) {
    self.line = line
    self.field = field
    self.problem = problem
  }

  public var description: String {
    (line > 0 ? "line " + String(line) + ": " : "") + "field '" + field + "': " + problem
  }
}
