/// A queue of either ring kind, as a device stores it: the ring kind is
/// only known once features are negotiated. Device code switches once per
/// batch and then runs a loop specialised for the kind.
public enum VirtqueueRing {
  case split(SplitVirtqueue)
  case packed(PackedVirtqueue)

  /// Builds the queue the negotiated features ask for (VIRTIO_F_RING_PACKED).
  public static func make(
    addresses: VirtqueueAddresses, features: VirtqueueFeatures, memory: GuestMemory,
    start: VirtqueueStart = VirtqueueStart(), limits: VirtqueueLimits = .standard
  ) throws(VirtqueueError) -> VirtqueueRing {
    if features.contains(.ringPacked) {
      return .packed(
        try PackedVirtqueue(
          addresses: addresses, features: features, memory: memory, start: start, limits: limits))
    }
    return .split(
      try SplitVirtqueue(
        addresses: addresses, features: features, memory: memory, start: start, limits: limits))
  }

  public var isPacked: Bool {
    if case .packed = self { return true }
    return false
  }

  public var isBroken: Bool {
    switch self {
    case .split(let q): return q.isBroken
    case .packed(let q): return q.isBroken
    }
  }

  public var start: VirtqueueStart {
    switch self {
    case .split(let q): return q.start
    case .packed(let q): return q.start
    }
  }

  public var counters: VirtqueueCounters {
    switch self {
    case .split(let q): return q.counters
    case .packed(let q): return q.counters
    }
  }

  public func remap(memory: GuestMemory) throws(VirtqueueError) {
    switch self {
    case .split(let q): try q.remap(memory: memory)
    case .packed(let q): try q.remap(memory: memory)
    }
  }

  public func needsNotification() -> Bool {
    switch self {
    case .split(let q): return q.needsNotification()
    case .packed(let q): return q.needsNotification()
    }
  }
}
