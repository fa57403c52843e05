import Foundation

/// What `dpuctl emu up` made, written to `STATE-DIR/rack.json` as it goes
/// (before each namespace is made, right after each process starts), so
/// that `down` removes everything even after an `up` that was killed.
public struct RackState: Codable, Equatable, Sendable {
  public struct Part: Codable, Equatable, Sendable {
    /// "card" or "guest".
    public var kind: String
    public var name: String
    public var process: DetachedProcess
  }

  public var rack: String
  public var topologyPath: String
  public var architecture: String
  public var namespaces: [String] = []
  public var parts: [Part] = []
  public var upSince: Date = Date()
  /// The ESP cipher and key generation the cards run with (what
  /// `dpuctl emu apply` compares a changed topology with).
  public var esp: String?
  public var espGeneration: Int?

  public init(rack: String, topologyPath: String, architecture: String) {
    self.rack = rack
    self.topologyPath = topologyPath
    self.architecture = architecture
  }

  public static func path(in directory: String) -> String { directory + "/rack.json" }

  public static func load(from directory: String) throws -> RackState? {
    let path = Self.path(in: directory)
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    do {
      let decoder = JSONDecoder()
      decoder.dateDecodingStrategy = .iso8601
      return try decoder.decode(RackState.self, from: data)
    } catch {
      throw RackError("\(path) is not a rack's state (\(error)); remove it, or pass another --state-dir")
    }
  }

  public func save(to directory: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.dateEncodingStrategy = .iso8601
    try encoder.encode(self).write(to: URL(fileURLWithPath: Self.path(in: directory)), options: .atomic)
  }
}
