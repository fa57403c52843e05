import CCardChannel
import Management

/// The card's last applied desired state on its own storage, so that a
/// card restarting without a controller comes back with it (static
/// stability, Docs/control-plane.md). The content is the `DesiredState`
/// frame exactly as the management codec encodes it; it is replaced
/// atomically (temporary file, fsync, rename, fsync of the folder).
public struct StateFile: Sendable {
  public let path: String
  /// A file larger than this is refused rather than read (it cannot be
  /// ours: frames are limited the same way).
  public let sizeLimit: Int

  public init(path: String, sizeLimit: Int = Int(FrameHeader.defaultPayloadLimit) + FrameHeader.length) {
    self.path = path
    self.sizeLimit = sizeLimit
  }

  public func save(_ state: DesiredState) throws(StateFileError) {
    let frame: [UInt8]
    do throws(ManagementError) {
      frame = try ManagementMessage.desiredState(state).encodeFrame()
    } catch {
      throw .unreadable(error)
    }
    let status = path.withCString { target in
      (path + ".new").withCString { temporary in
        frame.withUnsafeBufferPointer { cch_file_replace(target, temporary, $0.baseAddress, $0.count) }
      }
    }
    guard status == 0 else { throw .system(-status) }
  }

  /// The saved state, or nil when none was ever saved.
  public func load() throws(StateFileError) -> DesiredState? {
    let size = path.withCString { cch_file_size($0) }
    if size == -Int(ENOENTValue) { return nil }
    guard size >= 0 else { throw .system(Int32(-size)) }
    guard size <= sizeLimit else { throw .tooLarge(size) }
    var bytes = [UInt8](repeating: 0, count: size)
    let count = path.withCString { name in
      bytes.withUnsafeMutableBufferPointer { cch_file_read(name, $0.baseAddress, size) }
    }
    guard count >= 0 else { throw .system(Int32(-count)) }
    let message: ManagementMessage
    do throws(ManagementError) {
      message = try ManagementMessage.decodeFrame(bytes[..<count])
    } catch {
      throw .unreadable(error)
    }
    guard case .desiredState(let state) = message else { throw .unexpectedMessage }
    return state
  }
}

/// ENOENT on Linux (glibc and the kernel agree on every architecture).
let ENOENTValue: Int32 = 2

public enum StateFileError: Error, Equatable, CustomStringConvertible {
  case system(Int32)
  case tooLarge(Int)
  /// The file is not a desired-state frame (damaged or not ours).
  case unreadable(ManagementError)
  case unexpectedMessage

  public var description: String {
    switch self {
    case .system(let code): return "state file: errno " + String(code)
    case .tooLarge(let size): return "state file: " + String(size) + " bytes is too large"
    case .unreadable(let error): return "state file unreadable: " + error.description
    case .unexpectedMessage: return "state file holds another message than desired state"
    }
  }
}
