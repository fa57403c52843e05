import Wire

/// A canonical `ActionList` packed into 44 bytes for the software fast
/// path: the same steps in fixed slots, run as straight-line code instead
/// of a loop over enum cases, and small enough that key, program and
/// bookkeeping of a flow fit one 128-byte flow entry (two cache lines,
/// fetched together). Built only from a list in the canonical order the
/// slow path emits (connections, meters, decapsulate, destination MAC,
/// source MAC, encapsulate, forward or drop); `actions` gives the list
/// back exactly, so the list stays the definition (and what is translated
/// to rte_flow) and nothing here is a software-only shortcut.
public struct ActionProgram: Hashable, Sendable {
  // Field order is layout: the 32-bit fields first, so the struct packs
  // into 43 bytes without holes (a test checks the entry's size).
  @usableFromInline var firstConnectionSlot: UInt32 = 0
  @usableFromInline var firstConnectionSerial: UInt32 = 0
  @usableFromInline var secondConnectionSlot: UInt32 = 0
  @usableFromInline var secondConnectionSerial: UInt32 = 0
  public private(set) var template: UInt32 = 0
  @usableFromInline var destinationMACLow: UInt32 = 0
  @usableFromInline var sourceMACLow: UInt32 = 0
  @usableFromInline var destinationMACHigh: UInt16 = 0
  @usableFromInline var sourceMACHigh: UInt16 = 0
  @usableFromInline var firstMeterPort: UInt16 = 0
  @usableFromInline var secondMeterPort: UInt16 = 0
  public private(set) var sourcePort: UInt16 = 0
  public private(set) var outputPort: UInt16 = 0
  @usableFromInline var steps: Steps = []
  @usableFromInline var dropReasonCode: UInt8 = 0

  /// Which steps the program has; the counts sit in the low four bits.
  @usableFromInline
  struct Steps: OptionSet, Hashable, Sendable {
    @usableFromInline var rawValue: UInt16
    @inlinable init(rawValue: UInt16) { self.rawValue = rawValue }
    @usableFromInline static let decapsulates = Steps(rawValue: 1 << 4)
    @usableFromInline static let rewritesDestinationMAC = Steps(rawValue: 1 << 5)
    @usableFromInline static let rewritesSourceMAC = Steps(rawValue: 1 << 6)
    @usableFromInline static let encapsulates = Steps(rawValue: 1 << 7)
    @usableFromInline static let forwards = Steps(rawValue: 1 << 8)
    @usableFromInline static let drops = Steps(rawValue: 1 << 9)
    @usableFromInline static let firstConnectionIsReply = Steps(rawValue: 1 << 10)
    @usableFromInline static let secondConnectionIsReply = Steps(rawValue: 1 << 11)
    @usableFromInline static let firstMeterIsIngress = Steps(rawValue: 1 << 12)
    @usableFromInline static let secondMeterIsIngress = Steps(rawValue: 1 << 13)
  }

  @inlinable public var connectionCount: Int { Int(steps.rawValue & 0x3) }
  @inlinable public var meterCount: Int { Int(steps.rawValue >> 2 & 0x3) }
  @inlinable public var decapsulates: Bool { steps.contains(.decapsulates) }
  @inlinable public var encapsulates: Bool { steps.contains(.encapsulates) }
  @inlinable public var forwards: Bool { steps.contains(.forwards) }
  @inlinable public var dropReason: DropReason? {
    steps.contains(.drops) ? DropReason(rawValue: dropReasonCode) : nil
  }

  @inlinable var firstConnection: ConnectionReference {
    ConnectionReference(
      slot: firstConnectionSlot, serial: firstConnectionSerial,
      isReply: steps.contains(.firstConnectionIsReply))
  }
  @inlinable var secondConnection: ConnectionReference {
    ConnectionReference(
      slot: secondConnectionSlot, serial: secondConnectionSerial,
      isReply: steps.contains(.secondConnectionIsReply))
  }
  @inlinable var firstMeterDirection: FlowDirection {
    steps.contains(.firstMeterIsIngress) ? .ingress : .egress
  }
  @inlinable var secondMeterDirection: FlowDirection {
    steps.contains(.secondMeterIsIngress) ? .ingress : .egress
  }
  @inlinable var destinationMAC: MACAddress {
    MACAddress(rawValue: UInt64(destinationMACHigh) << 32 | UInt64(destinationMACLow))
  }
  @inlinable var sourceMAC: MACAddress {
    MACAddress(rawValue: UInt64(sourceMACHigh) << 32 | UInt64(sourceMACLow))
  }

  /// Nil when `list` is not in canonical order (or has more than two
  /// connection or meter steps).
  public init?(_ list: ActionList) {
    var stage = 0  // the canonical position reached so far
    var connections = 0
    var meters = 0
    for i in 0..<list.count {
      switch list[i] {
      case .none:
        return nil
      case .trackConnection(let ref):
        guard stage == 0, connections < 2 else { return nil }
        if connections == 0 {
          (firstConnectionSlot, firstConnectionSerial) = (ref.slot, ref.serial)
          if ref.isReply { steps.insert(.firstConnectionIsReply) }
        } else {
          (secondConnectionSlot, secondConnectionSerial) = (ref.slot, ref.serial)
          if ref.isReply { steps.insert(.secondConnectionIsReply) }
        }
        connections += 1
      case .meter(let port, let direction):
        guard stage <= 1, meters < 2 else { return nil }
        stage = 1
        if meters == 0 {
          firstMeterPort = port
          if direction == .ingress { steps.insert(.firstMeterIsIngress) }
        } else {
          secondMeterPort = port
          if direction == .ingress { steps.insert(.secondMeterIsIngress) }
        }
        meters += 1
      case .decapsulate:
        guard stage <= 1 else { return nil }
        stage = 2
        steps.insert(.decapsulates)
      case .setDestinationMAC(let mac):
        guard stage <= 2 else { return nil }
        stage = 3
        steps.insert(.rewritesDestinationMAC)
        destinationMACHigh = UInt16(truncatingIfNeeded: mac.rawValue >> 32)
        destinationMACLow = UInt32(truncatingIfNeeded: mac.rawValue)
      case .setSourceMAC(let mac):
        guard stage <= 3 else { return nil }
        stage = 4
        steps.insert(.rewritesSourceMAC)
        sourceMACHigh = UInt16(truncatingIfNeeded: mac.rawValue >> 32)
        sourceMACLow = UInt32(truncatingIfNeeded: mac.rawValue)
      case .encapsulate(let t, let port):
        guard stage <= 4 else { return nil }
        stage = 5
        steps.insert(.encapsulates)
        template = t
        sourcePort = port
      case .forward(let port):
        guard stage <= 5 else { return nil }
        stage = 6
        steps.insert(.forwards)
        outputPort = port
      case .drop(let reason):
        guard stage <= 5 else { return nil }
        stage = 6
        steps.insert(.drops)
        dropReasonCode = reason.rawValue
      }
    }
    steps.rawValue |= UInt16(connections) | UInt16(meters) << 2
  }

  /// The list this program was built from (the definition, for rte_flow
  /// translation and diagnostics; not per packet).
  public var actions: ActionList {
    var list = ActionList()
    if connectionCount > 0 { list.append(.trackConnection(firstConnection)) }
    if connectionCount > 1 { list.append(.trackConnection(secondConnection)) }
    if meterCount > 0 { list.append(.meter(port: firstMeterPort, direction: firstMeterDirection)) }
    if meterCount > 1 { list.append(.meter(port: secondMeterPort, direction: secondMeterDirection)) }
    if decapsulates { list.append(.decapsulate) }
    if steps.contains(.rewritesDestinationMAC) { list.append(.setDestinationMAC(destinationMAC)) }
    if steps.contains(.rewritesSourceMAC) { list.append(.setSourceMAC(sourceMAC)) }
    if encapsulates { list.append(.encapsulate(template: template, sourcePort: sourcePort)) }
    if forwards { list.append(.forward(port: outputPort)) }
    if let reason = dropReason { list.append(.drop(reason)) }
    return list
  }
}

extension DataPlane {
  /// Runs the program of `flow`; same contract as `execute(_:on:...)`: false (a punt
  /// to the slow path) before any action has changed the packet or a
  /// counter. Per packet: the common steps inline, the rare ones (a
  /// second connection or meter, a rate-limit or program drop) out of line.
  /// `connection` is the entry in the program's first connection slot
  /// (`connections.entry(at:)`, looked up with the flow), when it has one.
  @inline(__always)
  func run(
    _ flow: UnsafeMutablePointer<FlowEntry>, connection: UnsafeMutablePointer<ConnectionEntry>?,
    on buffer: inout PacketBuffer, tcpFlags: TCPFlags, innerFrameOffset: Int, tables set: TableSet,
    now: UInt64
  ) -> Bool {
    let steps = flow.pointee.program.steps.rawValue
    let connectionCount = steps & 0x3
    // Checks first, so that a punt leaves no trace.
    if connectionCount != 0 {
      guard let first = connection else { return false }
      guard first.pointee.isLive(serial: flow.pointee.program.firstConnectionSerial, now: now) else {
        return false
      }
      if connectionCount > 1 {
        guard isLive(flow.pointee.program.secondConnection, now: now) else { return false }
      }
    }
    let encapsulates = steps & Steps.encapsulates.rawValue != 0
    if encapsulates {
      // Sound: lengths of a frame and a template, far below Int's range.
      let length = set.templateStore.length(Int(truncatingIfNeeded: flow.pointee.program.template))
      if length &- EthernetFrame.Field.headerLength &+ buffer.length > set.underlayMTU
        || buffer.headroom < length
      {
        return false
      }
    }
    if connectionCount != 0, let first = connection {
      first.pointee.observe(
        flags: tcpFlags, isReply: steps & Steps.firstConnectionIsReply.rawValue != 0, now: now)
      if connectionCount > 1 { observeSecondConnection(flow, tcpFlags: tcpFlags, now: now) }
    }
    let meterCount = steps >> 2 & 0x3
    if meterCount != 0 {
      let port = flow.pointee.program.firstMeterPort
      let direction: FlowDirection = steps & Steps.firstMeterIsIngress.rawValue != 0 ? .ingress : .egress
      if !counters.meter(port: port, direction: direction).pointee.admit(bytes: buffer.length, now: now) {
        drop(&buffer, .rateLimited, port: port)
        return true
      }
      if meterCount > 1 && !admitSecondMeter(flow, on: &buffer, now: now) { return true }
    }
    if steps & Steps.decapsulates.rawValue != 0 { _ = buffer.removeFront(innerFrameOffset) }
    // Sound: a classified frame holds at least an Ethernet header.
    let base = buffer.storage + buffer.dataOffset
    if steps & Steps.rewritesDestinationMAC.rawValue != 0 {
      base.storeBytes(of: flow.pointee.program.destinationMACHigh.bigEndian, as: UInt16.self)
      base.storeBytes(of: flow.pointee.program.destinationMACLow.bigEndian, toByteOffset: 2, as: UInt32.self)
    }
    if steps & Steps.rewritesSourceMAC.rawValue != 0 {
      base.storeBytes(of: flow.pointee.program.sourceMACHigh.bigEndian, toByteOffset: 6, as: UInt16.self)
      base.storeBytes(of: flow.pointee.program.sourceMACLow.bigEndian, toByteOffset: 8, as: UInt32.self)
    }
    if encapsulates {
      encapsulate(
        &buffer, template: Int(truncatingIfNeeded: flow.pointee.program.template), store: set.templateStore,
        sourcePort: flow.pointee.program.sourcePort)
    }
    if steps & Steps.drops.rawValue != 0 {
      dropAsProgrammed(flow, &buffer)
    } else if steps & Steps.forwards.rawValue != 0 {
      buffer.outputPort = flow.pointee.program.outputPort
      buffer.verdict = .forward
    }
    return true
  }

  private typealias Steps = ActionProgram.Steps

  @inline(never)
  func observeSecondConnection(_ flow: UnsafeMutablePointer<FlowEntry>, tcpFlags: TCPFlags, now: UInt64) {
    let second = flow.pointee.program.secondConnection
    connections.entry(at: Int(truncatingIfNeeded: second.slot)).pointee.observe(
      flags: tcpFlags, isReply: second.isReply, now: now)
  }

  /// The second meter's step; false when it drops the packet.
  @inline(never)
  func admitSecondMeter(_ flow: UnsafeMutablePointer<FlowEntry>, on buffer: inout PacketBuffer, now: UInt64)
    -> Bool
  {
    let port = flow.pointee.program.secondMeterPort
    let direction = flow.pointee.program.secondMeterDirection
    guard counters.meter(port: port, direction: direction).pointee.admit(bytes: buffer.length, now: now)
    else {
      drop(&buffer, .rateLimited, port: port)
      return false
    }
    return true
  }

  @inline(never)
  func dropAsProgrammed(_ flow: UnsafeMutablePointer<FlowEntry>, _ buffer: inout PacketBuffer) {
    drop(&buffer, flow.pointee.program.dropReason ?? .malformed, port: buffer.inputPort)
  }

  @inline(__always)
  func isLive(_ ref: ConnectionReference, now: UInt64) -> Bool {
    connections.entry(at: Int(ref.slot)).pointee.isLive(serial: ref.serial, now: now)
  }
}
