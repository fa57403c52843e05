/// A card function as the host sees it: a NIC (virtio-net) or a volume
/// (virtio-blk), and the way it reaches the host.
public struct HostFunction: Equatable, Sendable {
  public enum Kind: Equatable, Sendable {
    /// virtio-net with this MAC and this many queue pairs.
    case net(mac: String, queuePairs: Int)
    /// virtio-blk.
    case block
  }

  /// How the function reaches the host.
  public enum Path: Equatable, Sendable {
    /// The emulator: the card serves the function on a vhost-user socket
    /// and QEMU is its front-end.
    case vhostUser(socket: String)
    /// Hardware: a vDPA device made on the card's management device
    /// (`vdpa dev add … mgmtdev pci/BDF`); QEMU opens its
    /// `/dev/vhost-vdpa-N` (`-netdev vhost-vdpa`,
    /// `-blockdev virtio-blk-vhost-vdpa`).
    case vdpa(managementDevice: String)
    /// Hardware, bare metal: the card's PCI function (a VF) handed to the
    /// host's own virtio-pci driver, no hypervisor.
    case pci(address: String)

    /// No hypervisor: the host's own driver takes the function.
    public var isBareMetal: Bool {
      if case .pci = self { return true }
      return false
    }
  }

  /// The NIC's or volume's name, unique within a guest: QEMU's ids and
  /// the vDPA device's name are made from it.
  public var name: String
  public var kind: Kind
  public var path: Path

  public init(name: String, kind: Kind, path: Path) {
    self.name = name
    self.kind = kind
    self.path = path
  }

  /// Checks what a user or a topology file may get wrong: names QEMU and
  /// the kernel accept, a MAC, a queue count, a PCI address.
  public func validate() throws(HostDriverError) {
    guard let first = name.unicodeScalars.first, first.properties.isAlphabetic, first.isASCII,
      name.count <= 24,
      name.unicodeScalars.allSatisfy({
        $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_")
      })
    else {
      throw .invalidName(name)
    }
    if case .net(let mac, let pairs) = kind {
      guard Self.isMAC(mac) else { throw .invalidMAC(mac) }
      guard (1...16).contains(pairs) else { throw .invalidQueuePairs(pairs) }
    }
    switch path {
    case .vhostUser(let socket):
      guard socket.hasPrefix("/"), !socket.contains(","), socket.utf8.count < 108 else {
        throw .invalidSocketPath(socket)
      }
    case .vdpa(let device):
      guard device.hasPrefix("pci/"), Self.isPCIAddress(String(device.dropFirst(4))) else {
        throw .invalidManagementDevice(device)
      }
    case .pci(let address):
      guard Self.isPCIAddress(address) else { throw .invalidPCIAddress(address) }
    }
  }

  /// `02:ca:00:00:01:10`: six pairs of hex digits, unicast.
  static func isMAC(_ text: String) -> Bool {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 6, parts.allSatisfy({ $0.count == 2 && UInt8($0, radix: 16) != nil }) else {
      return false
    }
    return UInt8(parts[0], radix: 16)! & 1 == 0
  }

  /// `0000:03:00.2`: domain, bus, device (< 32), function (< 8).
  static func isPCIAddress(_ text: String) -> Bool {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, UInt16(parts[0], radix: 16) != nil,
      UInt8(parts[1], radix: 16) != nil
    else { return false }
    let slot = parts[2].split(separator: ".", omittingEmptySubsequences: false)
    guard slot.count == 2, slot[0].count == 2, slot[1].count == 1, let device = UInt8(slot[0], radix: 16),
      let function = UInt8(slot[1], radix: 16)
    else { return false }
    return device < 32 && function < 8
  }
}

/// What can go wrong attaching or detaching a function; each says what
/// to do next.
public enum HostDriverError: Error, Equatable, Sendable, CustomStringConvertible {
  case invalidName(String)
  case invalidMAC(String)
  case invalidQueuePairs(Int)
  case invalidSocketPath(String)
  case invalidManagementDevice(String)
  case invalidPCIAddress(String)
  case monitorUnavailable(path: String, reason: String)
  case monitorProtocol(String)
  case commandFailed(command: String, error: String)
  case noFreeSlot(guest: String)
  case notAttached(function: String)
  case alreadyAttached(function: String)
  case unplugTimedOut(device: String, seconds: Int)
  case hostCommandFailed(command: String, status: Int32, output: String)

  public var description: String {
    switch self {
    case .invalidName(let n):
      return "'\(n)' is not a function name: up to 24 letters, digits, '-' or '_', starting with a letter"
    case .invalidMAC(let m): return "'\(m)' is not a unicast MAC address (e.g. 02:ca:00:00:01:10)"
    case .invalidQueuePairs(let q): return "\(q) queue pairs: a NIC has 1 to 16"
    case .invalidSocketPath(let p):
      return "'\(p)' is not a usable vhost-user socket path: absolute, no comma, under 108 bytes"
    case .invalidManagementDevice(let d):
      return "'\(d)' is not a vDPA management device: pci/DDDD:BB:DD.F (see `vdpa mgmtdev show`)"
    case .invalidPCIAddress(let a): return "'\(a)' is not a PCI address: DDDD:BB:DD.F (see `lspci -D`)"
    case .monitorUnavailable(let path, let reason):
      return
        "the guest's QEMU monitor at \(path) does not answer (\(reason)): is the guest running? (dpuctl emu status)"
    case .monitorProtocol(let what): return "the QEMU monitor answered something unexpected: \(what)"
    case .commandFailed(let command, let error): return "QEMU refused \(command): \(error)"
    case .noFreeSlot(let guest):
      return "guest \(guest) has no free hot-plug slot: detach a function first (dpuctl guest detach)"
    case .notAttached(let f): return "\(f) is not attached to this guest (dpuctl guest list GUEST)"
    case .alreadyAttached(let f): return "\(f) is already attached to this guest; detach it first"
    case .unplugTimedOut(let d, let s):
      return
        "the guest did not release \(d) within \(s) s (its OS must accept the hot-unplug); try again or stop the guest"
    case .hostCommandFailed(let command, let status, let output):
      return "`\(command)` failed (exit \(status)): \(output)"
    }
  }
}
