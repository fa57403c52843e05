/// The subset of TOML a rack's topology file uses: `[table]` and
/// `[[array-of-tables]]` headers, and `key = value` lines where a value is a
/// "string", an integer, true/false, or a one-line array of those. Comments
/// start with `#` outside strings. Every error names the line.
public struct TopologyFile: Equatable, Sendable {
  public enum Value: Equatable, Sendable {
    case string(String)
    case integer(Int)
    case boolean(Bool)
    case array([Value])
  }

  /// One `[name]` or `[[name]]` block, with its keys in file order.
  public struct Table: Equatable, Sendable {
    public var name: String
    public var line: Int
    public var values: [String: Value] = [:]
    public var valueLines: [String: Int] = [:]
  }

  public var tables: [Table] = []

  public func tables(named name: String) -> [Table] { tables.filter { $0.name == name } }

  public init(_ text: String) throws(TopologyError) {
    var physicalLine = 0
    var singleTables: Set<String> = []
    // An array may span lines: its first line is held until the brackets
    // balance, and errors name that first line.
    var held: (text: String, line: Int)?
    for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
      physicalLine += 1
      var number = physicalLine
      var line = Self.withoutComment(raw).trimmingSpaces
      if let start = held {
        line = start.text + " " + line
        number = start.line
        held = nil
      }
      if line.isEmpty { continue }
      if !line.hasPrefix("["), Self.openBrackets(line) > 0 {
        held = (line, number)
        continue
      }
      if line.hasPrefix("[[") {
        guard line.hasSuffix("]]"), line.count > 4 else {
          throw TopologyError(line: number, "a table array header is [[name]]")
        }
        let name = String(line.dropFirst(2).dropLast(2)).trimmingSpaces
        try Self.checkKey(name, line: number)
        tables.append(Table(name: name, line: number))
      } else if line.hasPrefix("[") {
        guard line.hasSuffix("]"), line.count > 2 else {
          throw TopologyError(line: number, "a table header is [name]")
        }
        let name = String(line.dropFirst().dropLast()).trimmingSpaces
        try Self.checkKey(name, line: number)
        guard singleTables.insert(name).inserted else {
          throw TopologyError(line: number, "[\(name)] appears twice")
        }
        tables.append(Table(name: name, line: number))
      } else {
        guard let equals = line.firstIndex(of: "=") else {
          throw TopologyError(line: number, "expected key = value, [table] or [[table]]")
        }
        let key = String(line[..<equals]).trimmingSpaces
        try Self.checkKey(key, line: number)
        guard !tables.isEmpty else {
          throw TopologyError(line: number, "'\(key)' comes before any [table]")
        }
        var parser = ValueParser(text: Substring(String(line[line.index(after: equals)...])), line: number)
        let value = try parser.parseWhole()
        guard tables[tables.count - 1].values[key] == nil else {
          throw TopologyError(line: number, "'\(key)' is given twice in this table")
        }
        tables[tables.count - 1].values[key] = value
        tables[tables.count - 1].valueLines[key] = number
      }
    }
    if let held { throw TopologyError(line: held.line, "an array is not closed (missing ])") }
  }

  /// '[' minus ']' outside strings.
  static func openBrackets(_ line: String) -> Int {
    var depth = 0
    var inString = false
    var escaped = false
    for character in line {
      if escaped {
        escaped = false
      } else if character == "\\" && inString {
        escaped = true
      } else if character == "\"" {
        inString.toggle()
      } else if !inString && character == "[" {
        depth += 1
      } else if !inString && character == "]" {
        depth -= 1
      }
    }
    return depth
  }

  static func checkKey(_ key: String, line: Int) throws(TopologyError) {
    let allowed = key.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
    guard !key.isEmpty, allowed else {
      throw TopologyError(line: line, "'\(key)' is not a name (letters, digits, - and _)")
    }
  }

  /// The line without a trailing comment (a `#` outside a string).
  static func withoutComment(_ line: Substring) -> Substring {
    var inString = false
    var escaped = false
    for index in line.indices {
      let character = line[index]
      if escaped {
        escaped = false
      } else if character == "\\" && inString {
        escaped = true
      } else if character == "\"" {
        inString.toggle()
      } else if character == "#" && !inString {
        return line[..<index]
      }
    }
    return line
  }
}

/// A topology file that cannot be used: where and why.
public struct TopologyError: Error, Equatable, CustomStringConvertible, Sendable {
  public var line: Int?
  public var message: String

  public init(line: Int?, _ message: String) {
    self.line = line
    self.message = message
  }

  public var description: String {
    guard let line else { return "topology: " + message }
    return "topology line \(line): " + message
  }
}

private struct ValueParser {
  var text: Substring
  let line: Int

  mutating func parseWhole() throws(TopologyError) -> TopologyFile.Value {
    skipSpaces()
    let value = try parseValue()
    skipSpaces()
    guard text.isEmpty else { throw TopologyError(line: line, "unexpected '\(text)' after the value") }
    return value
  }

  mutating func skipSpaces() { text = text.drop(while: { $0 == " " || $0 == "\t" }) }

  mutating func parseValue() throws(TopologyError) -> TopologyFile.Value {
    guard let first = text.first else { throw TopologyError(line: line, "a value is missing") }
    switch first {
    case "\"": return .string(try parseString())
    case "[": return .array(try parseArray())
    default:
      let word = text.prefix(while: { $0 != "," && $0 != "]" && $0 != " " && $0 != "\t" })
      text = text.dropFirst(word.count)
      if word == "true" { return .boolean(true) }
      if word == "false" { return .boolean(false) }
      if let number = Int(word.replacingUnderscores) { return .integer(number) }
      throw TopologyError(
        line: line, "'\(word)' is not a value; strings are quoted (\"...\"), e.g. name = \"\(word)\"")
    }
  }

  mutating func parseString() throws(TopologyError) -> String {
    text = text.dropFirst()
    var result = ""
    while let character = text.first {
      text = text.dropFirst()
      switch character {
      case "\"": return result
      case "\\":
        guard let escaped = text.first else { break }
        text = text.dropFirst()
        switch escaped {
        case "n": result.append("\n")
        case "t": result.append("\t")
        case "\"", "\\": result.append(escaped)
        default: throw TopologyError(line: line, "unknown escape \\\(escaped) in a string")
        }
      default: result.append(character)
      }
    }
    throw TopologyError(line: line, "a string is not closed (missing \")")
  }

  mutating func parseArray() throws(TopologyError) -> [TopologyFile.Value] {
    text = text.dropFirst()
    var items: [TopologyFile.Value] = []
    while true {
      skipSpaces()
      if text.first == "]" {
        text = text.dropFirst()
        return items
      }
      items.append(try parseValue())
      skipSpaces()
      if text.first == "," {
        text = text.dropFirst()
      } else if text.first != "]" {
        throw TopologyError(line: line, "an array's items are separated by ',' and it ends with ']'")
      }
    }
  }
}

extension StringProtocol {
  var trimmingSpaces: String {
    String(
      drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" }).reversed().drop(while: {
        $0 == " " || $0 == "\t" || $0 == "\r"
      }).reversed())
  }
  var replacingUnderscores: String { String(filter { $0 != "_" }) }
}
