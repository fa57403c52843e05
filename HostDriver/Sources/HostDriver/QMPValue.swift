import Foundation

/// A JSON value in a QMP command's arguments: a small closed type, so that
/// a plan is a value whose commands can be compared in tests and printed
/// exactly as they are sent.
public indirect enum QMPValue: Equatable, Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
  ExpressibleByBooleanLiteral
{
  case string(String)
  case integer(Int)
  case boolean(Bool)
  case object([String: QMPValue])

  public init(stringLiteral value: String) { self = .string(value) }
  public init(integerLiteral value: Int) { self = .integer(value) }
  public init(booleanLiteral value: Bool) { self = .boolean(value) }

  /// Compact JSON with sorted keys (stable, for logs and tests).
  public var json: String {
    switch self {
    case .string(let s): return Self.quoted(s)
    case .integer(let i): return String(i)
    case .boolean(let b): return b ? "true" : "false"
    case .object(let members):
      let body = members.keys.sorted().map { Self.quoted($0) + ":" + members[$0]!.json }
      return "{" + body.joined(separator: ",") + "}"
    }
  }

  static func quoted(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        if scalar.value < 0x20 {
          out += String(format: "\\u%04x", scalar.value)
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    return out + "\""
  }
}

/// One QMP command: `{"execute": name, "arguments": {...}}`.
public struct QMPCommand: Equatable, Sendable, CustomStringConvertible {
  public var execute: String
  public var arguments: [String: QMPValue]

  public init(_ execute: String, _ arguments: [String: QMPValue] = [:]) {
    self.execute = execute
    self.arguments = arguments
  }

  public var json: String {
    var members: [String: QMPValue] = ["execute": .string(execute)]
    if !arguments.isEmpty { members["arguments"] = .object(arguments) }
    return QMPValue.object(members).json
  }

  public var description: String { json }
}
