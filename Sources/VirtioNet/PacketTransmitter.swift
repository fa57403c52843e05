import DataPlane
import Virtio
import Wire

/// Turns TX chains into packet buffers (virtio 1.2 §5.1.6.2): reads the
/// virtio-net header, copies the frame, completes a NEEDS_CSUM checksum, and
/// segments TSO chains into MSS-sized packets. One per TX queue; a TSO
/// chain whose segments do not fit the caller's batch is resumed on the
/// next call. Allocates only at creation.
public final class PacketTransmitter {
  let features: VirtioNetFeatures
  let maximumFrame: Int
  let maximumSegments: Int
  /// The validated headers of the pending TSO chain, copied once so every
  /// segment gets the same headers whatever the guest does meanwhile.
  let headers: UnsafeMutableRawPointer
  var pending: DescriptorChain?
  var plan = SegmentationPlan.empty
  var nextSegment = 0

  init(features: VirtioNetFeatures, maximumFrame: Int, maximumSegments: Int) {
    self.features = features
    self.maximumFrame = maximumFrame
    self.maximumSegments = maximumSegments
    headers = UnsafeMutableRawPointer.allocate(byteCount: SegmentationPlan.maximumHeaderLength, alignment: 16)
  }

  deinit { headers.deallocate() }

  /// Pops chains from `queue` into `batch` until the batch is full, the
  /// pool is empty or the queue has nothing; returns the packets added.
  /// Per batch; the loop body is per packet.
  @discardableResult
  func transmit<Queue: Virtqueue>(
    from queue: Queue, into batch: inout PacketBatch, pool: PacketPool, counters: inout VirtioNetCounters
  ) -> Int {
    var added = 0
    let room = min(maximumFrame, pool.bufferSize - pool.headroom)
    while !batch.isFull {
      if let chain = pending {
        added += emitSegments(of: chain, into: &batch, pool: pool, counters: &counters)
        guard nextSegment == plan.segmentCount else { break }
        queue.complete(chain, writtenLength: 0)
        pending = nil
        continue
      }
      let chain: DescriptorChain
      do {
        guard let next = try queue.nextChain() else { break }
        chain = next
      } catch {
        // Counted and completed by the queue.
        continue
      }
      do throws(VirtioNetError) {
        switch try prepare(chain, room: room) {
        case .single(let header):
          guard var buffer = pool.take() else {
            queue.putBack(chain)
            return added
          }
          do throws(VirtioNetError) {
            try copyFrame(of: chain, header: header, into: &buffer, counters: &counters)
          } catch {
            pool.give(buffer)
            throw error
          }
          batch.append(buffer)
          added += 1
          queue.complete(chain, writtenLength: 0)
        case .segmented:
          pending = chain
        }
      } catch {
        counters.transmitErrors &+= 1
        counters.lastTransmitError = error
        queue.complete(chain, writtenLength: 0)
      }
    }
    return added
  }

  enum Preparation {
    case single(VirtioNetHeader)
    case segmented
  }

  func prepare(_ chain: DescriptorChain, room: Int) throws(VirtioNetError) -> Preparation {
    var raw: (UInt64, UInt32) = (0, 0)
    let got = withUnsafeMutableBytes(of: &raw) { chain.copyReadable(from: 0, into: $0) }
    guard got >= VirtioNetHeader.size else { throw .headerTooShort(got) }
    let header = withUnsafeBytes(of: &raw) { VirtioNetHeader($0.baseAddress!) }
    let frameLength = chain.readableLength - VirtioNetHeader.size
    guard frameLength >= 14 else { throw .frameTooShort(frameLength) }
    guard header.gsoType != VirtioNetHeader.gsoNone else {
      guard frameLength <= room else { throw .frameTooLong(frameLength) }
      return .single(header)
    }
    let type = header.gsoType & ~VirtioNetHeader.gsoECN
    let offered: Bool
    switch type {
    case VirtioNetHeader.gsoTCPv4: offered = features.contains(.hostTSO4)
    case VirtioNetHeader.gsoTCPv6: offered = features.contains(.hostTSO6)
    default: offered = false
    }
    guard offered, header.gsoType & VirtioNetHeader.gsoECN == 0 || features.contains(.hostECN) else {
      throw .segmentationNotNegotiated(header.gsoType)
    }
    // IPv4 total length is 16 bits: no TSO frame is longer than this.
    guard frameLength <= 65_535 + 18 else { throw .frameTooLong(frameLength) }
    let available = chain.copyReadable(
      from: VirtioNetHeader.size,
      into: UnsafeMutableRawBufferPointer(start: headers, count: SegmentationPlan.maximumHeaderLength))
    plan = try SegmentationPlan(
      headers: headers, available: available, frameLength: frameLength, gsoType: header.gsoType,
      segmentSize: header.gsoSize, maximumSegmentFrame: room, maximumSegments: maximumSegments)
    nextSegment = 0
    return .segmented
  }

  /// One frame into one buffer; completes a partial checksum (§5.1.6.2:
  /// the field holds the pseudo-header sum; the device sums from
  /// csum_start to the end and stores the result at csum_start + csum_offset).
  func copyFrame(
    of chain: DescriptorChain, header: VirtioNetHeader, into buffer: inout PacketBuffer,
    counters: inout VirtioNetCounters
  ) throws(VirtioNetError) {
    let frameLength = chain.readableLength - VirtioNetHeader.size
    guard buffer.setLength(frameLength) else { throw .frameTooLong(frameLength) }
    let data = buffer.data
    _ = chain.copyReadable(from: VirtioNetHeader.size, into: data)
    counters.transmittedPackets &+= 1
    counters.transmittedBytes &+= UInt64(frameLength)
    guard header.flags & VirtioNetHeader.needsChecksum != 0 else { return }
    let start = Int(header.checksumStart)
    let field = start + Int(header.checksumOffset)
    guard field + 2 <= frameLength else {
      counters.transmittedPackets &-= 1
      counters.transmittedBytes &-= UInt64(frameLength)
      throw .checksumOffsetOutOfRange(start: header.checksumStart, offset: header.checksumOffset)
    }
    let base = data.baseAddress!
    var checksum = InternetChecksum.finish(
      InternetChecksum.sum(UnsafeRawPointer(base + start), count: frameLength - start))
    // RFC 768: a computed UDP checksum of zero is sent as all ones.
    if checksum == 0 && header.checksumOffset == 6 { checksum = 0xffff }
    base.storeBytes(of: checksum.bigEndian, toByteOffset: field, as: UInt16.self)
    counters.checksumsCompleted &+= 1
  }

  /// Emits the pending chain's remaining segments while batch and pool
  /// have room. Per segment.
  func emitSegments(
    of chain: DescriptorChain, into batch: inout PacketBatch, pool: PacketPool,
    counters: inout VirtioNetCounters
  ) -> Int {
    var added = 0
    while nextSegment < plan.segmentCount && !batch.isFull {
      guard var buffer = pool.take() else { break }
      let payload = plan.payloadLength(ofSegment: nextSegment)
      let frameLength = plan.headerLength + payload
      guard buffer.setLength(frameLength) else {
        // A pool with smaller buffers than the one the plan was made for.
        pool.give(buffer)
        nextSegment = plan.segmentCount
        counters.transmitErrors &+= 1
        counters.lastTransmitError = .segmentSizeInvalid(UInt16(truncatingIfNeeded: plan.segmentSize))
        break
      }
      let p = buffer.data.baseAddress!
      p.copyMemory(from: headers, byteCount: plan.headerLength)
      _ = chain.copyReadable(
        from: VirtioNetHeader.size + plan.headerLength + nextSegment * plan.segmentSize,
        into: UnsafeMutableRawBufferPointer(start: p + plan.headerLength, count: payload))
      plan.finishSegment(p, index: nextSegment, frameLength: frameLength)
      batch.append(buffer)
      nextSegment += 1
      added += 1
      counters.transmittedPackets &+= 1
      counters.transmittedBytes &+= UInt64(frameLength)
      counters.segmentsMade &+= 1
    }
    return added
  }

  /// Forgets a pending chain (the queue stopped).
  func reset() {
    pending = nil
    nextSegment = 0
  }
}

extension SegmentationPlan {
  static var empty: SegmentationPlan { SegmentationPlan() }
  init() {}
}
