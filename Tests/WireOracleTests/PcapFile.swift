import Foundation

/// Writes frames as a classic pcap file (link type Ethernet) for tshark.
enum PcapFile {
  static func write(_ frames: [[UInt8]], to url: URL) throws {
    var data = Data()
    func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    u32(0xa1b2_c3d4)  // magic, microsecond timestamps
    u16(2)
    u16(4)
    u32(0)  // thiszone
    u32(0)  // sigfigs
    u32(65535)  // snaplen
    u32(1)  // LINKTYPE_ETHERNET
    for (index, frame) in frames.enumerated() {
      u32(UInt32(index))
      u32(0)
      u32(UInt32(frame.count))
      u32(UInt32(frame.count))
      data.append(contentsOf: frame)
    }
    try data.write(to: url)
  }
}

/// Composes a frame from Wire's builders (tests only: allocates).
struct FrameComposer {
  var bytes: [UInt8] = []

  mutating func append(_ count: Int, _ emit: (UnsafeMutableRawBufferPointer) -> Void) {
    let start = bytes.count
    bytes += [UInt8](repeating: 0, count: count)
    bytes.withUnsafeMutableBytes { emit(UnsafeMutableRawBufferPointer(rebasing: $0[start...])) }
  }

  mutating func append(_ raw: [UInt8]) { bytes += raw }

  mutating func edit(from offset: Int, _ body: (UnsafeMutableRawBufferPointer) -> Void) {
    bytes.withUnsafeMutableBytes { body(UnsafeMutableRawBufferPointer(rebasing: $0[offset...])) }
  }
}
