import Foundation

/// A volume's `backend_uri` as the API takes it, turned into the card's
/// `backend=` syntax (`VolumeSlice.backend` and `exportName`):
///
/// | API | card |
/// | --- | --- |
/// | `file:///ABS/PATH` (RFC 8089) | `file:/ABS/PATH` |
/// | `nbd://IPV4[:PORT]/EXPORT` | `nbd:IPV4:PORT`, export `EXPORT` |
/// | `nbd+unix:///EXPORT?socket=/ABS/PATH` | `nbd:unix:/ABS/PATH`, export `EXPORT` |
///
/// The NBD forms are the NBD project's URI format (doc/uri.md); the card
/// reaches NBD servers by IPv4 address only. Percent-escapes are decoded.
struct VolumeBackendURI: Equatable {
  /// In the card's syntax.
  var backend: String
  /// The NBD export name; empty for files and the default export.
  var exportName: String

  /// The NBD protocol's registered port (IANA).
  static let defaultNBDPort: UInt16 = 10809
  /// NBD protocol §"Option types": export names are at most 4096 bytes.
  static let maximumExportNameBytes = 4096
  static let examples =
    "use file:///srv/volumes/a.img, nbd://192.0.2.10:10809/export or nbd+unix:///export?socket=/run/nbd.sock"

  /// Why a URI is refused: the text that follows "volume.backend_uri 'URI'".
  enum Refusal: Error, Equatable {
    case unsupported(String)
  }

  static func parse(_ uri: String) -> Result<VolumeBackendURI, Refusal> {
    guard !uri.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == " " })
    else { return .failure(.unsupported("contains spaces or control characters")) }
    if uri.hasPrefix("file:") { return parseFile(uri) }
    if uri.hasPrefix("nbd+unix:") { return parseNBDUnix(uri) }
    if uri.hasPrefix("nbd:") { return parseNBD(uri) }
    return .failure(.unsupported("is not a file, nbd or nbd+unix URI"))
  }

  private static func parseFile(_ uri: String) -> Result<VolumeBackendURI, Refusal> {
    guard uri.hasPrefix("file:///"), !uri.contains("?"), !uri.contains("#") else {
      return .failure(.unsupported("is not file:///ABSOLUTE/PATH (no host, query or fragment)"))
    }
    switch absolutePath(String(uri.dropFirst("file://".count))) {
    case .success(let path): return .success(VolumeBackendURI(backend: "file:" + path, exportName: ""))
    case .failure(let refusal): return .failure(refusal)
    }
  }

  private static func parseNBD(_ uri: String) -> Result<VolumeBackendURI, Refusal> {
    guard uri.hasPrefix("nbd://"), !uri.contains("?"), !uri.contains("#") else {
      return .failure(.unsupported("is not nbd://IPV4[:PORT]/EXPORT"))
    }
    let rest = uri.dropFirst("nbd://".count)
    let authority = rest.prefix { $0 != "/" }
    let exportPart = rest.dropFirst(authority.count).dropFirst()
    let hostAndPort = authority.split(separator: ":", omittingEmptySubsequences: false)
    guard (1...2).contains(hostAndPort.count), let host = IPAddressValue(hostAndPort[0]), !host.isIPv6 else {
      return .failure(
        .unsupported("does not name the NBD server by an IPv4 address (nbd://IPV4[:PORT]/EXPORT)"))
    }
    var port = defaultNBDPort
    if hostAndPort.count == 2 {
      guard let given = UInt16(hostAndPort[1]), given > 0 else {
        return .failure(.unsupported("has port '\(hostAndPort[1])', not 1 to 65535"))
      }
      port = given
    }
    switch exportName(String(exportPart)) {
    case .success(let export):
      return .success(VolumeBackendURI(backend: "nbd:\(host):\(port)", exportName: export))
    case .failure(let refusal): return .failure(refusal)
    }
  }

  private static func parseNBDUnix(_ uri: String) -> Result<VolumeBackendURI, Refusal> {
    // NBD URI format: the authority is empty for unix sockets.
    guard uri.hasPrefix("nbd+unix:///"), !uri.contains("#"), let question = uri.firstIndex(of: "?") else {
      return .failure(.unsupported("is not nbd+unix:///EXPORT?socket=/ABSOLUTE/PATH"))
    }
    let exportPart = uri[uri.index(uri.startIndex, offsetBy: "nbd+unix:///".count)..<question]
    let query = uri[uri.index(after: question)...].split(separator: "&")
    guard query.count == 1, query[0].hasPrefix("socket=") else {
      return .failure(.unsupported("needs exactly one query parameter, socket=/ABSOLUTE/PATH"))
    }
    let socket: String
    switch absolutePath(String(query[0].dropFirst("socket=".count))) {
    case .success(let path): socket = path
    case .failure(let refusal): return .failure(refusal)
    }
    switch exportName(String(exportPart)) {
    case .success(let export):
      return .success(VolumeBackendURI(backend: "nbd:unix:" + socket, exportName: export))
    case .failure(let refusal): return .failure(refusal)
    }
  }

  private static func absolutePath(_ escaped: String) -> Result<String, Refusal> {
    guard let path = escaped.removingPercentEncoding else {
      return .failure(.unsupported("has a malformed percent-escape in its path"))
    }
    guard path.hasPrefix("/"), path.count > 1, !path.hasSuffix("/"), !path.contains("\0") else {
      return .failure(.unsupported("does not name an absolute path to a file or socket"))
    }
    let segments = path.split(separator: "/")
    guard !segments.contains(where: { $0 == "." || $0 == ".." }) else {
      return .failure(.unsupported("has '.' or '..' in its path; give the path without them"))
    }
    return .success(path)
  }

  private static func exportName(_ escaped: String) -> Result<String, Refusal> {
    guard let name = escaped.removingPercentEncoding, !name.contains("\0") else {
      return .failure(.unsupported("has a malformed percent-escape in its export name"))
    }
    guard name.utf8.count <= maximumExportNameBytes else {
      return .failure(.unsupported("has an export name over \(maximumExportNameBytes) bytes"))
    }
    return .success(name)
  }
}
