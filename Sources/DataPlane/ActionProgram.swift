import Wire

/// An `ActionList` flattened for the software fast path: the same steps in
/// fixed slots, run as straight-line code instead of a loop over enum
/// cases. Built from a list only when the list is in the canonical order
/// the slow path emits (connections, meters, decapsulate, MAC rewrites,
/// encapsulate, forward or drop), so running it is exactly running the
/// list; otherwise the list itself is run. The list stays the definition
/// (and what is translated to rte_flow).
public struct ActionProgram: Hashable, Sendable {
  public var connectionCount: UInt8 = 0
  public var meterCount: UInt8 = 0
  public var decapsulates = false
  public var rewritesDestinationMAC = false
  public var rewritesSourceMAC = false
  public var encapsulates = false
  public var forwards = false
  public var dropReason: DropReason? = nil
  public var connections = (
    ConnectionReference(slot: 0, serial: 0, isReply: false),
    ConnectionReference(slot: 0, serial: 0, isReply: false)
  )
  public var meters: ((port: UInt16, direction: FlowDirection), (port: UInt16, direction: FlowDirection)) = (
    (0, .egress), (0, .egress)
  )
  public var destinationMAC = MACAddress.zero
  public var sourceMAC = MACAddress.zero
  public var template: UInt32 = 0
  public var sourcePort: UInt16 = 0
  public var outputPort: UInt16 = 0

  /// Nil when `list` is not in canonical order (or has more than two
  /// connection or meter steps).
  public init?(_ list: ActionList) {
    var stage = 0  // the canonical position reached so far
    for i in 0..<list.count {
      switch list[i] {
      case .none:
        continue
      case .trackConnection(let ref):
        guard stage <= 0, connectionCount < 2 else { return nil }
        if connectionCount == 0 { connections.0 = ref } else { connections.1 = ref }
        connectionCount += 1
      case .meter(let port, let direction):
        guard stage <= 1, meterCount < 2 else { return nil }
        stage = 1
        if meterCount == 0 { meters.0 = (port, direction) } else { meters.1 = (port, direction) }
        meterCount += 1
      case .decapsulate:
        guard stage <= 1 else { return nil }
        stage = 2
        decapsulates = true
      case .setDestinationMAC(let mac):
        guard stage <= 2, !rewritesDestinationMAC else { return nil }
        stage = 2
        rewritesDestinationMAC = true
        destinationMAC = mac
      case .setSourceMAC(let mac):
        guard stage <= 2, !rewritesSourceMAC else { return nil }
        stage = 2
        rewritesSourceMAC = true
        sourceMAC = mac
      case .encapsulate(let t, let port):
        guard stage <= 2 else { return nil }
        stage = 3
        encapsulates = true
        template = t
        sourcePort = port
      case .forward(let port):
        guard stage <= 3 else { return nil }
        stage = 4
        forwards = true
        outputPort = port
      case .drop(let reason):
        guard stage <= 3 else { return nil }
        stage = 4
        dropReason = reason
      }
    }
  }

  public static func == (a: ActionProgram, b: ActionProgram) -> Bool {
    a.connectionCount == b.connectionCount && a.meterCount == b.meterCount && a.decapsulates == b.decapsulates
      && a.rewritesDestinationMAC == b.rewritesDestinationMAC && a.rewritesSourceMAC == b.rewritesSourceMAC
      && a.encapsulates == b.encapsulates && a.forwards == b.forwards && a.dropReason == b.dropReason
      && a.connections.0 == b.connections.0 && a.connections.1 == b.connections.1
      && a.meters.0.port == b.meters.0.port && a.meters.0.direction == b.meters.0.direction
      && a.meters.1.port == b.meters.1.port && a.meters.1.direction == b.meters.1.direction
      && a.destinationMAC == b.destinationMAC && a.sourceMAC == b.sourceMAC && a.template == b.template
      && a.sourcePort == b.sourcePort && a.outputPort == b.outputPort
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(template)
    hasher.combine(outputPort)
    hasher.combine(destinationMAC)
  }
}

extension DataPlane {
  /// Runs a flattened program; same contract as `execute(_:on:...)`.
  /// Per packet.
  @inline(__always)
  func run(
    _ p: ActionProgram, on buffer: inout PacketBuffer, summary: PacketSummary, tables set: TableSet,
    now: UInt64
  )
    -> Bool
  {
    // Checks first, so that a punt leaves no trace.
    if p.connectionCount > 0 {
      guard isLive(p.connections.0, now: now) else { return false }
      if p.connectionCount > 1 { guard isLive(p.connections.1, now: now) else { return false } }
    }
    if p.encapsulates {
      let length = set.templateStore.length(Int(p.template))
      if length - EthernetFrame.Field.headerLength + buffer.length > set.underlayMTU
        || buffer.headroom < length
      {
        return false
      }
    }
    if p.connectionCount > 0 {
      let ref = p.connections.0
      connections.entry(at: Int(ref.slot)).pointee.observe(
        flags: summary.tcpFlags, isReply: ref.isReply, now: now)
      if p.connectionCount > 1 {
        let ref = p.connections.1
        connections.entry(at: Int(ref.slot)).pointee.observe(
          flags: summary.tcpFlags, isReply: ref.isReply, now: now)
      }
    }
    if p.meterCount > 0 {
      let m = p.meters.0
      if !counters.meter(port: m.port, direction: m.direction).pointee.admit(bytes: buffer.length, now: now) {
        drop(&buffer, .rateLimited, port: m.port)
        return true
      }
      if p.meterCount > 1 {
        let m = p.meters.1
        if !counters.meter(port: m.port, direction: m.direction).pointee.admit(bytes: buffer.length, now: now)
        {
          drop(&buffer, .rateLimited, port: m.port)
          return true
        }
      }
    }
    if p.decapsulates { _ = buffer.removeFront(summary.innerFrameOffset) }
    if p.rewritesDestinationMAC { EthernetFrame(unchecked: buffer.data).destination = p.destinationMAC }
    if p.rewritesSourceMAC { EthernetFrame(unchecked: buffer.data).source = p.sourceMAC }
    if p.encapsulates {
      encapsulate(&buffer, template: Int(p.template), store: set.templateStore, sourcePort: p.sourcePort)
    }
    if let reason = p.dropReason {
      drop(&buffer, reason, port: buffer.inputPort)
    } else if p.forwards {
      buffer.outputPort = p.outputPort
      buffer.verdict = .forward
    }
    return true
  }

  @inline(__always)
  func isLive(_ ref: ConnectionReference, now: UInt64) -> Bool {
    let entry = connections.entry(at: Int(ref.slot))
    return entry.pointee.isOccupied && entry.pointee.serial == ref.serial
      && !entry.pointee.isExpired(now: now)
  }
}
