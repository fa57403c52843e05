import Testing
import Wire

/// One TCP segment as Wire's parser sees it, with its checksums checked.
struct CheckedSegment {
  var sequence: UInt32
  var flags: UInt8
  var payload: [UInt8]
  var identification: UInt16?
  var checksumsValid: Bool
}

func checkSegment(_ frame: [UInt8]) throws -> CheckedSegment {
  var bytes = frame
  return try bytes.withUnsafeMutableBytes { b throws -> CheckedSegment in
    let parsed = try PacketParser.parse(UnsafeRawBufferPointer(b))
    let h = parsed.outer
    let l4 = UnsafeMutableRawBufferPointer(rebasing: b[h.transportOffset..<h.networkEndOffset])
    let tcp = try TCPSegment(checking: l4)
    var valid: Bool
    var identification: UInt16? = nil
    switch (h.source!, h.destination!) {
    case (.v4(let s), .v4(let d)):
      let ip = try IPv4Packet(checking: UnsafeMutableRawBufferPointer(rebasing: b[h.networkOffset...]))
      valid = ip.isChecksumValid && ip.totalLength == b.count - h.networkOffset
      identification = ip.identification
      valid =
        valid
        && tcp.isChecksumValid(
          pseudoHeaderSum: InternetChecksum.pseudoHeaderSum(
            source: s, destination: d, protocol: .tcp, length: l4.count))
    case (.v6(let s), .v6(let d)):
      valid = tcp.isChecksumValid(
        pseudoHeaderSum: InternetChecksum.pseudoHeaderSum(
          source: s, destination: d, protocol: .tcp, length: l4.count))
    default:
      valid = false
    }
    return CheckedSegment(
      sequence: tcp.sequenceNumber, flags: tcp.flags.rawValue, payload: [UInt8](tcp.payload),
      identification: identification, checksumsValid: valid)
  }
}
