import Wire

/// One statement of the configuration file: a keyword and `key=value`
/// fields. Fields are read by name; any left unread is an error, so that a
/// misspelt key is reported rather than ignored.
struct ConfigurationLine {
  let number: Int
  let keyword: String
  private var fields: [(key: String, value: String)]
  private var used: [Bool]

  /// Nil for a blank or comment line.
  init?(_ text: Substring, number: Int) throws(ConfigurationFileError) {
    self.number = number
    var content = text
    if let hash = content.firstIndex(of: "#") { content = content[..<hash] }
    let words = try Self.words(content, number: number)
    guard let first = words.first else { return nil }
    keyword = String(first)
    fields = []
    for word in words.dropFirst() {
      guard let eq = word.firstIndex(of: "=") else {
        // A bare word is a flag field with an empty value (e.g. `ring`).
        fields.append((String(word), ""))
        continue
      }
      let key = String(word[..<eq])
      let value = String(word[word.index(after: eq)...])
      guard !key.isEmpty else {
        throw ConfigurationFileError(
          line: number, field: String(word), problem: "a field needs a name before '='")
      }
      if fields.contains(where: { $0.key == key }) {
        throw ConfigurationFileError(line: number, field: key, problem: "given twice")
      }
      fields.append((key, value))
    }
    used = [Bool](repeating: false, count: fields.count)
  }

  /// Splits at blanks outside double quotes; a quoted part keeps its
  /// blanks and loses its quotes (`eal="-m 128 --vdev net_tap0"`).
  static func words(_ text: Substring, number: Int) throws(ConfigurationFileError) -> [String] {
    var words: [String] = []
    var word = ""
    var inWord = false
    var quoted = false
    for c in text {
      if c == "\"" {
        quoted.toggle()
        inWord = true
      } else if !quoted && (c == " " || c == "\t" || c == "\r") {
        if inWord { words.append(word) }
        word = ""
        inWord = false
      } else {
        word.append(c)
        inWord = true
      }
    }
    guard !quoted else {
      let field = word.split(separator: "=", maxSplits: 1).first.map { String($0) } ?? word
      throw ConfigurationFileError(line: number, field: field, problem: "a '\"' is not closed")
    }
    if inWord { words.append(word) }
    return words
  }

  func error(_ field: String, _ problem: String) -> ConfigurationFileError {
    ConfigurationFileError(line: number, field: field, problem: problem)
  }

  mutating func has(_ key: String) -> Bool {
    guard let i = fields.firstIndex(where: { $0.key == key }) else { return false }
    used[i] = true
    return true
  }

  mutating func optional(_ key: String) -> String? {
    guard let i = fields.firstIndex(where: { $0.key == key }) else { return nil }
    used[i] = true
    return fields[i].value
  }

  mutating func required(_ key: String) throws(ConfigurationFileError) -> String {
    guard let value = optional(key) else { throw error(key, "missing (a '" + keyword + "' line needs it)") }
    guard !value.isEmpty else { throw error(key, "empty; write " + key + "=VALUE") }
    return value
  }

  /// Fails on any field no parser asked for.
  func checkAllUsed() throws(ConfigurationFileError) {
    for i in fields.indices where !used[i] {
      throw error(fields[i].key, "not a field of a '" + keyword + "' line")
    }
  }

  // Typed readers: each names the field and the form it wants.

  mutating func number<T: FixedWidthInteger>(_ key: String, _ type: T.Type, max: T = T.max)
    throws(ConfigurationFileError) -> T
  {
    try parseNumber(key, try required(key), max: max)
  }

  mutating func optionalNumber<T: FixedWidthInteger>(_ key: String, _ type: T.Type, max: T = T.max)
    throws(ConfigurationFileError) -> T?
  {
    guard let text = optional(key) else { return nil }
    return try parseNumber(key, text, max: max)
  }

  func parseNumber<T: FixedWidthInteger>(_ key: String, _ text: String, max: T) throws(ConfigurationFileError)
    -> T
  {
    guard let value = T(text, radix: 10), value >= 0, value <= max else {
      throw error(key, "'" + text + "' is not a number from 0 to " + String(max))
    }
    return value
  }

  mutating func mac(_ key: String) throws(ConfigurationFileError) -> MACAddress {
    let text = try required(key)
    guard let value = MACAddress(text) else {
      throw error(key, "'" + text + "' is not a MAC address like 02:00:00:00:00:01")
    }
    return value
  }

  mutating func ipv4(_ key: String) throws(ConfigurationFileError) -> IPv4Address {
    let text = try required(key)
    return try parseIPv4(key, text)
  }

  func parseIPv4(_ key: String, _ text: String) throws(ConfigurationFileError) -> IPv4Address {
    guard let value = IPv4Address(text) else {
      throw error(key, "'" + text + "' is not an IPv4 address like 10.0.0.1")
    }
    return value
  }

  mutating func address(_ key: String) throws(ConfigurationFileError) -> IPAddress {
    let text = try required(key)
    return try parseAddress(key, text)
  }

  func parseAddress(_ key: String, _ text: String) throws(ConfigurationFileError) -> IPAddress {
    guard let value = IPAddress(text) else {
      throw error(key, "'" + text + "' is not an IPv4 or IPv6 address")
    }
    return value
  }

  func parseIPv4Prefix(_ key: String, _ text: String) throws(ConfigurationFileError) -> IPv4Prefix {
    guard let value = IPv4Prefix(text) else {
      throw error(key, "'" + text + "' is not an IPv4 prefix like 10.0.0.0/16")
    }
    return value
  }

  func parseIPv6Prefix(_ key: String, _ text: String) throws(ConfigurationFileError) -> IPv6Prefix {
    guard let value = IPv6Prefix(text) else {
      throw error(key, "'" + text + "' is not an IPv6 prefix like fd00::/48")
    }
    return value
  }

  /// A comma-separated list; empty when the field is absent.
  mutating func list(_ key: String) -> [String] {
    guard let text = optional(key), !text.isEmpty else { return [] }
    return text.split(separator: ",").map { String($0) }
  }
}
