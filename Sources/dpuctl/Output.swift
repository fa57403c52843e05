import Foundation
import ProviderAPI
import SwiftProtobuf

/// Prints resources as a table for people or as JSON (the protobuf JSON
/// mapping, the same shape the API's REST form would use) for scripts.
struct Printer {
  let format: OutputFormat

  /// One resource.
  func show<M: SwiftProtobuf.Message>(_ message: M, columns: [(String, (M) -> String)]) throws {
    switch format {
    case .json: print(try message.jsonString(options: Self.jsonOptions))
    case .table:
      let width = columns.map(\.0.count).max() ?? 0
      for (title, value) in columns {
        print(
          title.uppercased().padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value(message))
      }
    }
  }

  /// A list, and the token for the next page if there is one.
  func list<M: SwiftProtobuf.Message>(
    _ messages: [M], nextPageToken: String, columns: [(String, (M) -> String)]
  )
    throws
  {
    switch format {
    case .json:
      let items = try messages.map { try $0.jsonString(options: Self.jsonOptions) }
      print("[" + items.joined(separator: ",") + "]")
    case .table:
      Self.table(
        headers: columns.map { $0.0.uppercased() },
        rows: messages.map { message in columns.map { $0.1(message) } })
      if !nextPageToken.isEmpty { print("(more: --page-token \(nextPageToken))") }
    }
  }

  /// Rows that are not API resources (the rack's own reports): a table,
  /// or pretty, key-sorted JSON of the rows themselves.
  func rows<Row: Encodable>(_ rows: [Row], headers: [String], cells: (Row) -> [String]) throws {
    switch format {
    case .json:
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      print(String(decoding: try encoder.encode(rows), as: UTF8.self))
    case .table: Self.table(headers: headers, rows: rows.map(cells))
    }
  }

  /// Columns padded to their widest cell, two spaces apart.
  static func table(headers: [String], rows: [[String]]) {
    let widths = headers.indices.map { column in
      ([headers[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0
    }
    func line(_ cells: [String]) -> String {
      zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
        .trimmingCharacters(in: .whitespaces)
    }
    print(line(headers))
    rows.forEach { print(line($0)) }
  }

  func deleted(_ response: Bulkhead_V1_DeleteResponse) throws {
    switch format {
    case .json: print(try response.jsonString(options: Self.jsonOptions))
    case .table: print("deleted \(response.name)")
    }
  }

  private static var jsonOptions: JSONEncodingOptions {
    var options = JSONEncodingOptions()
    options.alwaysPrintEnumsAsInts = false
    return options
  }
}

/// Turns the short references the CLI accepts into resource names:
/// `blue/web` with `--tenant acme` is `tenants/acme/vpcs/blue/subnets/web`;
/// a full name is kept as it is.
enum Names {
  static func tenant(_ id: String) -> String { "tenants/\(id)" }
  static func vpc(_ tenant: String, _ vpc: String) -> String { "tenants/\(tenant)/vpcs/\(vpc)" }

  static func inVPC(_ reference: String, tenant: String, collection: String) -> String {
    if reference.hasPrefix("tenants/") { return reference }
    let parts = reference.split(separator: "/", maxSplits: 1)
    guard parts.count == 2 else { return reference }  // the server names the bad value
    return "tenants/\(tenant)/vpcs/\(parts[0])/\(collection)/\(parts[1])"
  }

  /// `data` with `--tenant acme` is `tenants/acme/volumes/data`.
  static func inTenant(_ reference: String, tenant: String, collection: String) -> String {
    reference.hasPrefix("tenants/") ? reference : "tenants/\(tenant)/\(collection)/\(reference)"
  }

  static func card(_ reference: String) -> String {
    reference.hasPrefix("cards/") ? reference : "cards/\(reference)"
  }
}
