import DataPlane
import Virtio
import Wire

/// Delivers packet buffers into a guest's RX queue (virtio 1.2 §5.1.6.3,
/// §5.1.6.4): a virtio-net header, then the frame, over one buffer or, with
/// VIRTIO_NET_F_MRG_RXBUF, as many as it needs (num_buffers). DATA_VALID is
/// set when the driver accepts it and the card has verified the TCP/UDP
/// checksum. One per RX queue; allocates only at creation.
public final class PacketReceiver {
  /// A packet may take at most this many mergeable buffers.
  static let maximumBuffersPerPacket = 64
  let mergeable: Bool
  let reportsDataValid: Bool
  let chains: UnsafeMutablePointer<DescriptorChain>
  let header: UnsafeMutableRawPointer

  init(features: VirtioNetFeatures) {
    mergeable = features.contains(.mergeableReceiveBuffers)
    reportsDataValid = features.contains(.guestChecksum)
    chains = UnsafeMutablePointer<DescriptorChain>.allocate(capacity: Self.maximumBuffersPerPacket)
    header = UnsafeMutableRawPointer.allocate(byteCount: VirtioNetHeader.size, alignment: 8)
  }

  deinit {
    chains.deallocate()
    header.deallocate()
  }

  /// Delivers `batch[first...]` in order until the guest runs out of
  /// buffers; returns how many packets were consumed (delivered, or dropped
  /// as too long for the guest's buffers). Per batch; the body per packet.
  func receive<Queue: Virtqueue>(
    _ batch: PacketBatch, from first: Int, into queue: Queue, counters: inout VirtioNetCounters
  ) -> Int {
    var index = first
    while index < batch.count {
      let frame = UnsafeRawBufferPointer(batch[index].data)
      var h = VirtioNetHeader()
      if reportsDataValid && Self.transportChecksumIsValid(frame) { h.flags = VirtioNetHeader.dataValid }
      let total = VirtioNetHeader.size + frame.count
      // Gather enough chains for header + frame.
      var count = 0
      var room = 0
      var outOfBuffers = false
      while room < total {
        guard count < (mergeable ? Self.maximumBuffersPerPacket : 1) else { break }
        let chain: DescriptorChain
        do {
          guard let next = try queue.nextChain() else {
            outOfBuffers = true
            break
          }
          chain = next
        } catch {
          continue
        }
        guard chain.writableLength > 0 else {
          // A receive buffer the device cannot write: returned empty (§2.7.4).
          queue.complete(chain, writtenLength: 0)
          counters.receiveBadChains &+= 1
          continue
        }
        chains[count] = chain
        count += 1
        room += chain.writableLength
      }
      guard room >= total else {
        // Not delivered: the chains go back for the next packet.
        var k = count
        while k > 0 {
          k -= 1
          queue.putBack(chains[k])
        }
        if outOfBuffers {
          counters.receiveNoBuffers &+= 1
          break
        }
        counters.receiveTooLong &+= 1
        index += 1
        continue
      }
      h.bufferCount = UInt16(count)
      h.write(to: header)
      write(
        header: UnsafeRawBufferPointer(start: header, count: VirtioNetHeader.size), frame: frame,
        count: count, queue: queue)
      counters.receivedPackets &+= 1
      counters.receivedBytes &+= UInt64(frame.count)
      index += 1
    }
    return index - first
  }

  /// Writes header + frame as one stream across `count` gathered chains and
  /// completes each with the bytes it got.
  func write<Queue: Virtqueue>(
    header: UnsafeRawBufferPointer, frame: UnsafeRawBufferPointer, count: Int, queue: Queue
  ) {
    var offset = 0  // into header + frame
    let total = header.count + frame.count
    for k in 0..<count {
      let chain = chains[k]
      var written = 0
      while written < chain.writableLength && offset < total {
        let n: Int
        if offset < header.count {
          n = chain.copyIntoWritable(at: written, from: UnsafeRawBufferPointer(rebasing: header[offset...]))
        } else {
          n = chain.copyIntoWritable(
            at: written, from: UnsafeRawBufferPointer(rebasing: frame[(offset - header.count)...]))
        }
        if n == 0 { break }
        written += n
        offset += n
      }
      queue.complete(chain, writtenLength: written)
    }
  }

  /// Whether the frame's outer TCP or UDP checksum verifies (an unfragmented
  /// IPv4/IPv6 packet; a zero UDP-over-IPv4 checksum means none). Per packet.
  static func transportChecksumIsValid(_ frame: UnsafeRawBufferPointer) -> Bool {
    guard let parsed = try? PacketParser.parse(frame) else { return false }
    let h = parsed.outer
    guard !h.isFragment, h.transportOffset > 0, h.ipProtocol == .tcp || h.ipProtocol == .udp,
      let source = h.source, let destination = h.destination, h.networkEndOffset <= frame.count,
      h.transportOffset < h.networkEndOffset
    else { return false }
    let length = h.networkEndOffset - h.transportOffset
    let pseudo: UInt32
    switch (source, destination) {
    case (.v4(let s), .v4(let d)):
      if h.ipProtocol == .udp
        && frame.loadUnaligned(fromByteOffset: h.transportOffset + 6, as: UInt16.self) == 0
      {
        return true
      }
      pseudo = InternetChecksum.pseudoHeaderSum(
        source: s, destination: d, protocol: h.ipProtocol, length: length)
    case (.v6(let s), .v6(let d)):
      pseudo = InternetChecksum.pseudoHeaderSum(
        source: s, destination: d, protocol: h.ipProtocol, length: length)
    default: return false
    }
    let sum = InternetChecksum.sum(frame.baseAddress! + h.transportOffset, count: length, initial: pseudo)
    return InternetChecksum.isValid(partialSum: sum)
  }
}
