/// A backend in card memory: for tests, the fuzz target and benchmarks of
/// the layers above without a file system. It can be told to fail, so that
/// tests see backend errors travel up.
public final class MemoryBackend: BlockBackend {
  /// Settable: tests write it directly to stand for another writer.
  public var bytes: [UInt8]
  public let isReadOnly: Bool
  public var supportsDiscard: Bool { true }
  /// When set, every operation fails with this error.
  public var injectedFailure: BlockIOError?
  /// How many flushes reached the backend.
  public private(set) var flushCount = 0

  public init(byteCount: Int, isReadOnly: Bool = false) {
    bytes = [UInt8](repeating: 0, count: byteCount)
    self.isReadOnly = isReadOnly
  }

  public var byteCount: UInt64 { UInt64(bytes.count) }

  private func range(_ offset: UInt64, _ length: Int) throws(BlockIOError) -> Range<Int> {
    if let injectedFailure { throw injectedFailure }
    let (end, overflow) = offset.addingReportingOverflow(UInt64(length))
    guard !overflow, end <= UInt64(bytes.count) else {
      throw .shortTransfer(expected: length, transferred: 0)
    }
    return Int(offset)..<Int(end)
  }

  public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(BlockIOError) {
    let r = try range(offset, buffer.count)
    bytes.withUnsafeBytes { all in
      buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: all[r]))
    }
  }

  public func write(at offset: UInt64, from buffer: UnsafeRawBufferPointer) throws(BlockIOError) {
    guard !isReadOnly else { throw .readOnly }
    let r = try range(offset, buffer.count)
    bytes.withUnsafeMutableBytes { all in
      UnsafeMutableRawBufferPointer(rebasing: all[r]).copyMemory(from: buffer)
    }
  }

  public func flush() throws(BlockIOError) {
    if let injectedFailure { throw injectedFailure }
    flushCount += 1
  }

  public func discard(at offset: UInt64, length: UInt64) throws(BlockIOError) {
    guard !isReadOnly else { throw .readOnly }
    guard length <= UInt64(Int.max) else { throw .outOfRange(sector: offset / 512, sectors: length / 512) }
    let r = try range(offset, Int(length))
    for i in r { bytes[i] = 0 }
  }
}
