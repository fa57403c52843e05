/// The numbering of a heartbeat's counters: what each `Heartbeat.Counter`
/// id means. Numbers are part of the channel's format and never reused; a
/// newer card may send ids this table does not know, and they are kept and
/// shown by number (`name(of:)`), never refused.
///
/// Every counter is a total since the card's firmware started, summed over
/// the card's ports (packets, bytes, drops) or volumes.
public enum CardCounter: UInt16, CaseIterable, Sendable {
  case rxPackets = 1
  case txPackets = 2
  case rxBytes = 3
  case txBytes = 4
  /// Packets the pipeline dropped, over every drop reason.
  case pipelineDrops = 5
  /// Frames the ports themselves dropped (no buffer, oversize, transmit
  /// queue full, ...) and those the device or kernel dropped before the
  /// card saw them.
  case portDrops = 6
  case volumeReads = 7
  case volumeWrites = 8
  /// Volume requests refused for their framing, failed by the store, or
  /// dropped by the queue.
  case volumeErrors = 9

  /// The name the controller's API and `dpuctl` use.
  public var name: String {
    switch self {
    case .rxPackets: "rx-packets"
    case .txPackets: "tx-packets"
    case .rxBytes: "rx-bytes"
    case .txBytes: "tx-bytes"
    case .pipelineDrops: "pipeline-drops"
    case .portDrops: "port-drops"
    case .volumeReads: "volume-reads"
    case .volumeWrites: "volume-writes"
    case .volumeErrors: "volume-errors"
    }
  }

  /// A counter id's name: the table's, or `counter-ID` for an id from a
  /// newer card.
  public static func name(of id: UInt16) -> String {
    CardCounter(rawValue: id)?.name ?? "counter-" + String(id)
  }
}

extension Heartbeat {
  /// The value of `counter` in this heartbeat, nil if it carries none.
  public func value(of counter: CardCounter) -> UInt64? {
    for entry in counters where entry.id == counter.rawValue { return entry.value }
    return nil
  }
}
