import BlockStorage
import Virtio

extension VirtioBlkDevice {
  /// Per request: parses, validates and serves one chain; writes the status
  /// byte; returns the number of bytes written into the chain (used len).
  func handle(_ chain: DescriptorChain) -> Int {
    guard chain.writableLength >= 1 else {
      // No status byte: nothing can be reported (§5.2.6.1).
      counters.withoutStatus += 1
      return 0
    }
    var written = 0
    let status: BlockStatus
    do throws(BlockRequestError) {
      written = try serve(chain)
      status = .ok
    } catch {
      status = error.status
      written = 0
    }
    var byte = status.rawValue
    let statusWritten = withUnsafeBytes(of: &byte) {
      chain.copyIntoWritable(at: chain.writableLength - 1, from: $0)
    }
    return written + statusWritten
  }

  /// Per request. Returns data bytes written to the guest.
  private func serve(_ chain: DescriptorChain) throws(BlockRequestError) -> Int {
    let request: BlockRequest
    do throws(BlockRequestError) {
      // The header is copied once into card memory: the guest cannot
      // change it between check and use.
      var header: (UInt64, UInt64) = (0, 0)
      let got = withUnsafeMutableBytes(of: &header) { chain.copyReadable(from: 0, into: $0) }
      let parsed = withUnsafeBytes(of: &header) { (h) -> Result<BlockRequest, BlockRequestError> in
        do throws(BlockRequestError) {
          return .success(
            try BlockRequest.parse(
              header: UnsafeRawBufferPointer(rebasing: h[0..<got]), readableLength: chain.readableLength,
              writableLength: chain.writableLength))
        } catch {
          return .failure(error)
        }
      }
      request = try parsed.get()
      guard request.dataLength <= limits.requestBytesMax else { throw .tooLarge(request.dataLength) }
      if store.isReadOnly && request.kind != .read && request.kind != .flush && request.kind != .getID {
        throw .readOnly
      }
    } catch {
      counters.malformed += 1
      throw error
    }
    do throws(BlockIOError) {
      switch request.kind {
      case .read:
        counters.reads += 1
        try read(request, into: chain)
        return request.dataLength
      case .write:
        counters.writes += 1
        try write(request, from: chain)
        return 0
      case .flush:
        counters.flushes += 1
        try store.flush()
        return 0
      case .getID:
        counters.identifies += 1
        return serial.withUnsafeBytes { chain.copyIntoWritable(at: 0, from: $0) }
      case .discard, .writeZeroes:
        try ranges(request, in: chain)
        return 0
      }
    } catch {
      // A range past the capacity is the guest's mistake, not the store's.
      if case .outOfRange = error { counters.malformed += 1 } else { counters.storeErrors += 1 }
      throw .store(error)
    }
  }

  /// Per request: store → bounce → guest, one bounce-sized chunk at a time.
  private func read(_ request: BlockRequest, into chain: DescriptorChain) throws(BlockIOError) {
    try store.checkRange(sector: request.sector, sectors: UInt64(request.dataLength / 512))
    var done = 0
    while done < request.dataLength {
      let n = min(bounce.count, request.dataLength - done)
      let chunk = UnsafeMutableRawBufferPointer(rebasing: bounce[0..<n])
      try store.read(sector: request.sector &+ UInt64(done / 512), into: chunk)
      _ = chain.copyIntoWritable(at: done, from: UnsafeRawBufferPointer(chunk))
      done += n
    }
  }

  /// Per request: guest → bounce (one copy the guest can no longer change)
  /// → store, which encrypts in the bounce buffer.
  private func write(_ request: BlockRequest, from chain: DescriptorChain) throws(BlockIOError) {
    // The whole range first, so a request running past the end writes nothing.
    try store.checkRange(sector: request.sector, sectors: UInt64(request.dataLength / 512))
    var done = 0
    while done < request.dataLength {
      let n = min(bounce.count, request.dataLength - done)
      let chunk = UnsafeMutableRawBufferPointer(rebasing: bounce[0..<n])
      guard chain.copyReadable(from: BlockRequest.headerSize + done, into: chunk) == n else {
        throw .shortTransfer(expected: n, transferred: 0)
      }
      try store.write(sector: request.sector &+ UInt64(done / 512), consuming: chunk)
      done += n
    }
  }
}

extension VirtioBlkDevice {
  /// DISCARD and WRITE_ZEROES (§5.2.6.2): every range is validated against
  /// the advertised limits before any is carried out.
  fileprivate func ranges(_ request: BlockRequest, in chain: DescriptorChain) throws(BlockIOError) {
    let count = request.dataLength / BlockRequest.rangeSegmentSize
    let isDiscard = request.kind == .discard
    guard count <= Int(limits.rangeSegmentsMax) else { throw .outOfRange(sector: 0, sectors: UInt64(count)) }
    for pass in 0..<2 {
      for i in 0..<count {
        let range = withUnsafeTemporaryAllocation(byteCount: BlockRequest.rangeSegmentSize, alignment: 8) {
          (bytes) -> BlockRange? in
          let got = chain.copyReadable(
            from: BlockRequest.headerSize + i * BlockRequest.rangeSegmentSize, into: bytes)
          return got == BlockRequest.rangeSegmentSize ? BlockRange(UnsafeRawBufferPointer(bytes)) : nil
        }
        guard let range else { throw .shortTransfer(expected: BlockRequest.rangeSegmentSize, transferred: 0) }
        if pass == 0 {
          // §5.2.6.2: unmap on DISCARD, or any reserved bit, is UNSUPP.
          let allowed: UInt32 = isDiscard ? 0 : BlockRange.unmapFlag
          guard range.flags & ~allowed == 0 else { throw .unsupported }
          guard range.sectors <= limits.rangeSectorsMax else {
            throw .outOfRange(sector: range.sector, sectors: UInt64(range.sectors))
          }
          try store.checkRange(sector: range.sector, sectors: UInt64(range.sectors))
        } else if isDiscard {
          counters.discards += 1
          try store.discard(sector: range.sector, sectors: UInt64(range.sectors))
        } else {
          counters.writeZeroes += 1
          try store.writeZeroes(sector: range.sector, sectors: UInt64(range.sectors))
        }
      }
    }
  }
}
