import DataPlane
import Ports

/// The counters as text, one line per port and per non-zero drop reason
/// (printed on SIGUSR1 and on exit). Not on a hot path.
public enum CounterReport {
  public static func lines<Port: PacketPort>(
    ports: [Port], describe: (Port) -> String, plane: DataPlane?, loop: RunLoopStatistics
  ) -> [String] {
    var lines: [String] = []
    lines.append(
      "loop: passes " + String(loop.passes) + " packets " + String(loop.packets) + " sleeps "
        + String(loop.sleeps) + " unknown-output-port " + String(loop.unknownOutputPort))
    for port in ports {
      let s = port.statistics
      var line =
        "port " + String(port.number) + " (" + describe(port) + "): rx " + String(s.receivedPackets)
        + " pkts "
        + String(s.receivedBytes) + " bytes, tx " + String(s.transmittedPackets) + " pkts "
        + String(s.transmittedBytes) + " bytes"
      if s.deviceDrops > 0 { line += ", device-drops " + String(s.deviceDrops) }
      for reason in PortDropReason.allCases where s.drops(reason) > 0 {
        line += ", " + reason.description + " " + String(s.drops(reason))
      }
      lines.append(line)
      if let plane {
        var drops = ""
        for reason in DropReason.allCases {
          let n = plane.counters.drops(port: port.number, reason: reason)
          if n > 0 { drops += " " + reason.description + " " + String(n) }
        }
        if !drops.isEmpty { lines.append("port " + String(port.number) + " pipeline drops:" + drops) }
      }
    }
    return lines
  }
}
