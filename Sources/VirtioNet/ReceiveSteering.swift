import DataPlane
import Wire

/// Receive steering across queue pairs (virtio 1.2 §5.1.6.5.5: with
/// VIRTIO_NET_F_MQ the device picks the receive queue of each packet). A
/// flow's frames always take the same queue, so they stay in order and the
/// guest's per-queue interrupts and CPUs share the load: the queue pair is
/// a hash of the frame's IP addresses, protocol and ports (the 5-tuple;
/// addresses only for fragments and other protocols) modulo the pairs the
/// driver enabled. Frames that are not IP go to the first pair.
public enum ReceiveSteering {
  /// The queue pair for `frame`, in 0..<pairs. Per packet; reads at most
  /// the first 62 bytes (with a VLAN tag) and never past `length`.
  @inlinable
  public static func queuePair(frame: UnsafeRawPointer, length: Int, pairs: Int) -> Int {
    guard pairs > 1, length >= 14 else { return 0 }
    var ip = 14
    var etherType = frame.loadBigEndian16(at: 12)
    if etherType == 0x8100, length >= 18 {
      ip = 18
      etherType = frame.loadBigEndian16(at: 16)
    }
    var hash: UInt64 = 0x9E37_79B9_7F4A_7C15
    @inline(__always) func mix(_ word: UInt64) {
      hash = (hash ^ word) &* 0xBF58_476D_1CE4_E5B9
      hash ^= hash >> 31
    }
    let protocolNumber: UInt8
    let transport: Int
    var fragment = false
    switch etherType {
    case 0x0800:
      guard length >= ip + 20 else { return 0 }
      protocolNumber = frame.loadBigEndian8(at: ip + 9)
      // More fragments, or a fragment offset: ports only in the first.
      fragment = frame.loadBigEndian16(at: ip + 6) & 0x3FFF != 0
      mix(frame.loadBigEndian64(at: ip + 12))  // source and destination
      transport = ip + max(Int(frame.loadBigEndian8(at: ip) & 0x0F) * 4, 20)
    case 0x86DD:
      guard length >= ip + 40 else { return 0 }
      protocolNumber = frame.loadBigEndian8(at: ip + 6)
      for word in 0..<4 { mix(frame.loadBigEndian64(at: ip + 8 + 8 * word)) }
      transport = ip + 40
    default:
      return 0
    }
    mix(UInt64(protocolNumber))
    if !fragment, protocolNumber == 6 || protocolNumber == 17 || protocolNumber == 132,
      length >= transport + 4
    {
      mix(UInt64(frame.loadBigEndian32(at: transport)))  // the two ports
    }
    return Int((hash >> 32) % UInt64(pairs))
  }
}

extension VirtioNetDevice {
  /// Delivers every frame of `batch` on its flow's queue pair
  /// (`ReceiveSteering`) among the pairs the driver enabled. On return
  /// `batch[0..<n]` are the `n` frames delivered and the rest found no
  /// guest buffers; frames of one flow keep their order. Per batch; with
  /// one pair enabled it is `receive(_:from:queuePair: 0)`.
  public func receiveSteered(_ batch: inout PacketBatch) -> Int {
    let pairs = min(state.activeQueuePairs, receivers.count)
    guard pairs > 1 else { return receive(batch, from: 0, queuePair: 0) }
    for p in 0..<pairs { steeringBatches[p].removeAll() }
    for i in 0..<batch.count {
      let buffer = batch[i]
      let pair = ReceiveSteering.queuePair(
        frame: UnsafeRawPointer(buffer.storage + buffer.dataOffset), length: buffer.length, pairs: pairs)
      steeringBatches[pair].append(buffer)
    }
    var delivered = 0
    batch.removeAll()
    for p in 0..<pairs {
      let n = steeringBatches[p].count > 0 ? receive(steeringBatches[p], from: 0, queuePair: p) : 0
      steeringDelivered[p] = n
      for i in 0..<n { batch.append(steeringBatches[p][i]) }
      delivered += n
    }
    for p in 0..<pairs where steeringDelivered[p] < steeringBatches[p].count {
      for i in steeringDelivered[p]..<steeringBatches[p].count { batch.append(steeringBatches[p][i]) }
    }
    return delivered
  }
}
