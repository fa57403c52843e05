/// One line of the guest's console, as the guest init's protocol reads it
/// (Docs/emulator.md, "Guest images"). Everything else on the console
/// (kernel messages, program output) is `.other`.
public enum ConsoleLine: Equatable, Sendable {
  /// `BULKHEAD-READY uptime=S`: userspace is up.
  case ready(uptimeSeconds: Double?)
  /// `BULKHEAD key=value ...`: a result.
  case result([String: String])
  /// `BULKHEAD-DONE rc=N`: the scenario ended with this status.
  case done(status: Int)
  case other

  public init(_ raw: Substring) {
    // Serial consoles end lines with "\r\n"; programs may add stray spaces.
    let line = raw.trimmingCharacters(in: " \r\t")
    let words = line.split(separator: " ", omittingEmptySubsequences: true)
    guard let marker = words.first else {
      self = .other
      return
    }
    let fields = Self.fields(words.dropFirst())
    switch marker {
    case "BULKHEAD": self = .result(fields)
    case "BULKHEAD-READY": self = .ready(uptimeSeconds: fields["uptime"].flatMap { Double($0) })
    case "BULKHEAD-DONE":
      guard let status = fields["rc"].flatMap({ Int($0) }) else {
        self = .other
        return
      }
      self = .done(status: status)
    default: self = .other
    }
  }

  /// `key=value` words; a word without `=` is a key with an empty value.
  static func fields(_ words: ArraySlice<Substring>) -> [String: String] {
    var fields: [String: String] = [:]
    for word in words {
      if let equals = word.firstIndex(of: "=") {
        fields[String(word[..<equals])] = String(word[word.index(after: equals)...])
      } else {
        fields[String(word)] = ""
      }
    }
    return fields
  }
}

extension Substring {
  fileprivate func trimmingCharacters(in set: String) -> Substring {
    var slice = self
    while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
    while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
    return slice
  }
}
