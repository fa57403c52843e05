// Host build only: the Embedded firmware cannot link DPDK (Package.swift
// defines BULKHEAD_DPDK for the host targets).
#if BULKHEAD_DPDK
  import CDpdk
  import DataPlane

  /// Why the DPDK environment or a port could not be set up.
  public enum DpdkError: Error, Equatable, CustomStringConvertible {
    /// rte_eal_init failed (negative errno); EAL arguments or hugepages.
    case environment(Int32)
    /// No ethdev by that name: the `--vdev` or PCI device is missing.
    case noSuchPort(String)
    case mbufPool(String)
    /// Configuring or starting the port failed (negative errno).
    case portStart(UInt16, Int32)

    public var description: String {
      switch self {
      case .environment(let e): return "DPDK EAL init failed (" + String(e) + "): check the EAL arguments"
      case .noSuchPort(let n): return "no DPDK port named " + n + ": add it with --vdev or bind the device"
      case .mbufPool(let n): return "cannot create mbuf pool " + n + ": give the EAL more memory (-m)"
      case .portStart(let p, let e): return "DPDK port " + String(p) + " did not start (" + String(e) + ")"
      }
    }
  }

  /// The process-wide DPDK environment (EAL). DPDK allows one per process,
  /// initialised once and cleaned up once.
  public final class DpdkEnvironment {
    public init(arguments: [String]) throws(DpdkError) {
      // C strings that live across the call; EAL may keep pointers into argv
      // (it does for --vdev arguments), so they are never freed.
      var storage: [UnsafeMutablePointer<CChar>?] = (["bulkhead"] + arguments).map { argument in
        let bytes = Array(argument.utf8)
        let p = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
        for (i, b) in bytes.enumerated() { p[i] = CChar(bitPattern: b) }
        p[bytes.count] = 0
        return p
      }
      let rc = storage.withUnsafeMutableBufferPointer { cdpdk_init(Int32($0.count), $0.baseAddress) }
      guard rc >= 0 else { throw .environment(rc) }
    }

    deinit { _ = cdpdk_cleanup() }
  }

  /// An uplink port on a DPDK ethdev (a PMD on hardware; `net_tap`,
  /// `net_null` or `net_af_packet` vdevs in tests): one RX and one TX queue,
  /// frames copied between mbufs and the run loop's `PacketBuffer`s. It has
  /// no wake descriptor: the run loop polls it (Docs/card.md, polling).
  public final class DpdkPort: PacketPort {
    public let number: UInt16
    public let deviceName: String
    public let portID: UInt16
    /// Held so that the EAL is cleaned up only after the port has stopped.
    let environment: DpdkEnvironment
    /// The port's own counters; the device's drops are read when asked for.
    var counters = PortStatistics()
    let pool: UnsafeMutableRawPointer
    /// Burst arrays allocated once (the burst calls are per batch).
    let mbufs: UnsafeMutablePointer<UnsafeMutableRawPointer?>

    /// Starts the ethdev named `deviceName` (e.g. "net_tap0") of `environment`.
    public init(
      number: UInt16, deviceName: String, environment: DpdkEnvironment, mbufCount: UInt32 = 4095,
      ringSize: UInt16 = 512
    ) throws(DpdkError) {
      let id = cdpdk_port_by_name(deviceName)
      guard id >= 0 else { throw .noSuchPort(deviceName) }
      let poolName = "bulkhead_" + String(id)
      guard let pool = cdpdk_pool_create(poolName, mbufCount) else { throw .mbufPool(poolName) }
      let rc = cdpdk_port_start(UInt16(id), pool, ringSize)
      guard rc == 0 else {
        cdpdk_pool_free(pool)
        throw .portStart(UInt16(id), rc)
      }
      self.number = number
      self.deviceName = deviceName
      self.environment = environment
      self.portID = UInt16(id)
      self.pool = pool
      mbufs = .allocate(capacity: PacketBatch.capacity)
    }

    /// Not per packet: reads the ethdev's statistics for `deviceDrops`.
    public var statistics: PortStatistics {
      var s = counters
      s.deviceDrops = cdpdk_port_missed(portID)
      return s
    }

    deinit {
      _ = cdpdk_port_stop(portID)
      cdpdk_pool_free(pool)
      mbufs.deallocate()
    }

    /// Per burst: frames from the RX queue copied into buffers from `pool`.
    public func receive(into batch: inout PacketBatch, pool: PacketPool) -> Int {
      let room = PacketBatch.capacity - batch.count
      guard room > 0 else { return 0 }
      let n = Int(cdpdk_rx_burst(portID, mbufs, UInt16(room)))
      var received = 0
      for i in 0..<n {
        let m = mbufs[i]!
        defer { cdpdk_mbuf_free(m) }
        let length = Int(cdpdk_mbuf_data_length(m))
        // Multi-segment frames (scatter RX is not configured) are dropped.
        guard Int(cdpdk_mbuf_packet_length(m)) == length else {
          counters.countDrop(.oversize)
          continue
        }
        guard var buffer = pool.take() else {
          counters.countDrop(.noBuffer)
          continue
        }
        guard
          buffer.load(
            UnsafeRawBufferPointer(start: cdpdk_mbuf_data(m), count: length), headroom: pool.headroom)
        else {
          pool.give(buffer)
          counters.countDrop(.oversize)
          continue
        }
        buffer.inputPort = number
        buffer.verdict = .pending
        counters.countReceived(bytes: length)
        batch.append(buffer)
        received += 1
      }
      return received
    }

    /// Per burst: each frame copied into an mbuf, the burst sent; what the
    /// TX queue does not take is freed and counted.
    @discardableResult
    public func transmit(_ batch: inout PacketBatch, pool: PacketPool) -> Int {
      var filled = 0
      for i in 0..<batch.count {
        let buffer = batch[i]
        defer { pool.give(buffer) }
        guard buffer.length <= Int(UInt16.max), let m = cdpdk_mbuf_alloc(self.pool, UInt16(buffer.length))
        else {
          counters.countDrop(.transmitQueueFull)
          continue
        }
        cdpdk_mbuf_data(m).copyMemory(from: buffer.storage + buffer.dataOffset, byteCount: buffer.length)
        mbufs[filled] = m
        filled += 1
      }
      batch.removeAll()
      let sent = Int(cdpdk_tx_burst(portID, mbufs, UInt16(filled)))
      for i in 0..<sent { counters.countTransmitted(bytes: Int(cdpdk_mbuf_data_length(mbufs[i]!))) }
      for i in sent..<filled {
        counters.countDrop(.transmitQueueFull)
        cdpdk_mbuf_free(mbufs[i]!)
      }
      return sent
    }
  }
#endif
