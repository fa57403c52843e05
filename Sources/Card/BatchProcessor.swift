import DataPlane

/// What the run loop does with a received batch: sets each buffer's
/// verdict and output port. `DataPlane` is the real one; `PortPatch` wires
/// ports straight together (the loop's own cost, without the pipeline).
/// Called once per batch; the loop is generic over it (no existential).
public protocol BatchProcessor: AnyObject {
  func process(_ batch: inout PacketBatch, now: UInt64)
}

extension DataPlane: BatchProcessor {}

/// Forwards every frame from port `a` to port `b` and back, untouched.
public final class PortPatch: BatchProcessor {
  let a: UInt16
  let b: UInt16
  public init(_ a: UInt16, _ b: UInt16) {
    self.a = a
    self.b = b
  }

  /// Per batch.
  public func process(_ batch: inout PacketBatch, now: UInt64) {
    for i in 0..<batch.count {
      batch[i].outputPort = batch[i].inputPort == a ? b : a
      batch[i].verdict = .forward
    }
  }
}
