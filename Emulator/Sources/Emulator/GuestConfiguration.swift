/// What a guest is made of: a value that `QemuCommandLine` turns into
/// QEMU's argument list and `Guest` launches.
public struct GuestConfiguration: Equatable, Sendable {
  /// The guest's name: used for the console log file and the hostname.
  public var name: String
  public var architecture: GuestImage.Architecture
  public var kernel: String
  public var initrd: String
  /// The shell script the guest's init runs (see Docs/emulator.md).
  public var scenario: String
  public var memoryMiB: Int = 256
  /// `max` on x86 gives guests AES-NI and PCLMUL; on aarch64 `max` boots
  /// several times slower than cortex-a72 under TCG.
  public var cpu: String
  public var machine: String
  public var nics: [GuestNIC] = []
  public var disks: [GuestDisk] = []
  /// Network namespace QEMU runs in (`ip netns exec`), for TAP NICs.
  public var namespace: String? = nil
  /// More kernel command-line words (e.g. `pci=nomsi`).
  public var extraKernelArguments: [String] = []
  /// Where the serial console goes: QEMU's standard output (read by
  /// `Guest`), or a unix socket anyone may attach to, logged to a file (a
  /// rack guest that outlives the command that started it).
  public var console: Console = .standardOutput
  /// A second serial port (ttyS1) on a unix socket, for the exec agent
  /// (`GuestAgent`); x86_64 guests only.
  public var agentSocket: String? = nil
  /// QEMU's monitor (QMP) on a unix socket: the host agent hot-plugs and
  /// unplugs functions through it (`dpuctl guest attach|detach`).
  public var monitorSocket: String? = nil
  /// PCIe root ports (q35) that hold one function each, so that functions
  /// can come and go while the guest runs. NIC `i` starts on port `i`,
  /// named disk `j` on the port after the NICs'; the rest are free for
  /// hot-plug. 0: NICs on the root bus (not unpluggable).
  public var hotplugPorts = 0

  public enum Console: Equatable, Sendable {
    case standardOutput
    case socket(path: String, log: String)
  }

  public init(
    name: String, image: GuestImage, scenario: String, initrd: GuestImage.Initrd = .base
  ) {
    self.name = name
    self.architecture = image.architecture
    switch image.architecture {
    case .x86_64: (cpu, machine) = ("max", "q35")
    case .aarch64: (cpu, machine) = ("cortex-a72", "virt")
    }
    self.kernel = image.kernel
    self.initrd = image.initrd(initrd)
    self.scenario = scenario
    // The root file system (half of RAM) must hold the unpacked 95 MB.
    if initrd == .storage { memoryMiB = 512 }
  }
}

/// A guest network interface (virtio-net-pci) and what is behind it.
public struct GuestNIC: Equatable, Sendable {
  public enum Backend: Equatable, Sendable {
    /// A vhost-user backend listening on a unix socket (QEMU connects and
    /// reconnects if the backend restarts).
    case vhostUser(socket: String)
    /// A TAP device (in the guest's namespace, if any).
    case tap(ifname: String)
    /// A stream socket: this side listens on a unix socket path.
    case streamListen(socket: String)
    /// A stream socket: this side connects to a listening peer (retrying).
    case streamConnect(socket: String)
    /// Datagrams between two unix sockets (no listener, no order to start).
    case dgram(local: String, remote: String)
    /// QEMU's user-mode network, restricted: the guest reaches nothing but
    /// the forwards (a guest address and port that QEMU connects to a TCP
    /// port on the host's loopback), and the host reaches nothing in it.
    case userForwards([GuestForward])
  }

  public var backend: Backend
  public var mac: String
  /// Queue pairs (multi-queue needs MSI-X vectors: 2 per pair + 2).
  public var queuePairs: Int = 1
  /// The NIC's function name: a named vhost-user NIC gets the host
  /// agent's QEMU ids (`bh-NAME`), so that it can be detached later.
  public var name: String? = nil

  public init(_ backend: Backend, mac: String, queuePairs: Int = 1, name: String? = nil) {
    self.backend = backend
    self.mac = mac
    self.queuePairs = queuePairs
    self.name = name
  }
}

/// A TCP port the guest connects to (on QEMU's user network, e.g.
/// 10.0.2.100) that QEMU forwards to the host's loopback.
public struct GuestForward: Equatable, Sendable {
  public var guestAddress: String
  public var guestPort: Int
  public var hostPort: Int
  public init(guestAddress: String, guestPort: Int, hostPort: Int) {
    self.guestAddress = guestAddress
    self.guestPort = guestPort
    self.hostPort = hostPort
  }
}

/// A guest disk (virtio-blk).
public struct GuestDisk: Equatable, Sendable {
  public enum Backend: Equatable, Sendable {
    /// A vhost-user-blk backend listening on a unix socket.
    case vhostUserBlk(socket: String)
    /// A raw disk image file, served by QEMU itself (e.g. an emulated
    /// card's flash).
    case rawFile(path: String)
  }

  public var backend: Backend
  /// The volume's function name: a named vhost-user-blk disk gets the host
  /// agent's QEMU ids (`bh-NAME`), so that it can be detached later.
  public var name: String? = nil

  public init(_ backend: Backend, name: String? = nil) {
    self.backend = backend
    self.name = name
  }
}
