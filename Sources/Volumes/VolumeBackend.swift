import BlockStorage

/// The backend a configured volume names, as one concrete type: the card
/// serves file and NBD volumes through the same device and server
/// specialisation, switching once per backend call (a request makes one or
/// a few), never through an existential.
public final class VolumeBackend: BlockBackend {
  public enum Kind {
    case file(FileBackend)
    case nbd(NBDBackend)
  }

  public let kind: Kind

  public init(_ kind: Kind) { self.kind = kind }

  /// Opens what `location` names.
  public convenience init(opening location: VolumeLocation, readOnly: Bool) throws(BlockIOError) {
    switch location {
    case .file(let path): self.init(.file(try FileBackend(path: path, readOnly: readOnly)))
    case .nbd(let address, let export):
      self.init(.nbd(try NBDBackend(address: address, exportName: export)))
    }
  }

  /// Looks at the backend's size again: a file may have been extended
  /// (`FileBackend.ensureSize`); an NBD export's size is the one its
  /// server announced at the handshake.
  public func refreshByteCount() throws(BlockIOError) {
    if case .file(let b) = kind { try b.refreshByteCount() }
  }

  public var byteCount: UInt64 {
    switch kind {
    case .file(let b): return b.byteCount
    case .nbd(let b): return b.byteCount
    }
  }

  public var isReadOnly: Bool {
    switch kind {
    case .file(let b): return b.isReadOnly
    case .nbd(let b): return b.isReadOnly
    }
  }

  public var supportsDiscard: Bool {
    switch kind {
    case .file(let b): return b.supportsDiscard
    case .nbd(let b): return b.supportsDiscard
    }
  }

  /// Per request.
  public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(BlockIOError) {
    switch kind {
    case .file(let b): try b.read(at: offset, into: buffer)
    case .nbd(let b): try b.read(at: offset, into: buffer)
    }
  }

  /// Per request.
  public func write(at offset: UInt64, from buffer: UnsafeRawBufferPointer) throws(BlockIOError) {
    switch kind {
    case .file(let b): try b.write(at: offset, from: buffer)
    case .nbd(let b): try b.write(at: offset, from: buffer)
    }
  }

  public func flush() throws(BlockIOError) {
    switch kind {
    case .file(let b): try b.flush()
    case .nbd(let b): try b.flush()
    }
  }

  public func discard(at offset: UInt64, length: UInt64) throws(BlockIOError) {
    switch kind {
    case .file(let b): try b.discard(at: offset, length: length)
    case .nbd(let b): try b.discard(at: offset, length: length)
    }
  }
}

/// Where a volume's ciphertext lives, as the card's configuration names it.
public enum VolumeLocation: Equatable, Sendable, CustomStringConvertible {
  /// A file or block device node on the card.
  case file(path: String)
  /// An export of an NBD server.
  case nbd(NBDAddress, export: String)

  public var description: String {
    switch self {
    case .file(let path): return "file:" + path
    case .nbd(let address, let export): return "nbd:" + address.description + "/" + export
    }
  }
}
