// swift-tools-version:6.1
//
// Bulkhead's package. The portable layers (Wire, CardCrypto, DataPlane,
// Virtio, ...) compile two ways from the same sources:
//   - ordinary Swift on the host, for tests, benchmarks and the x86 firmware;
//   - Embedded Swift for the card's aarch64 cores when EMBEDDED=1 is set
//     (Firmware/build.sh sets it and supplies the cross toolset).
// Host-only targets (CLI, controller, emulator, benchmarks) and all tests are
// left out of the Embedded build.
import PackageDescription

let embedded = Context.environment["EMBEDDED"] == "1"
/// Where the cross build finds glibc's and OpenSSL's arm64 headers
/// (Firmware/build.sh prepares it).
let crossInclude = Context.environment["BULKHEAD_CROSS_INCLUDE"] ?? "/usr/aarch64-linux-gnu/include"

/// The host build has the DPDK uplink (`BULKHEAD_DPDK`: `Ports` links the
/// CDpdk shim); the Embedded firmware cannot link DPDK and refuses a dpdk
/// uplink in its configuration.
let portableSwift: [SwiftSetting] =
  embedded
  ? [
    .enableExperimentalFeature("Embedded"),
    .unsafeFlags(["-wmo", "-Xcc", "-isystem", "-Xcc", crossInclude]),
  ]
  : [.unsafeFlags(["-warnings-as-errors"]), .define("BULKHEAD_DPDK")]

let portableC: [CSetting] = embedded ? [.unsafeFlags(["-isystem", crossInclude])] : []

var targets: [Target] = [
  // Layer 1: wire formats.
  .target(name: "Wire", swiftSettings: portableSwift),
  // Layer 2: crypto, a thin C shim over OpenSSL's EVP and Swift types on top.
  .target(
    name: "CCardCrypto", cSettings: portableC,
    linkerSettings: [.linkedLibrary("crypto")]),
  .target(name: "CardCrypto", dependencies: ["CCardCrypto"], swiftSettings: portableSwift),
  // Layer 3: the data plane; its tables' memory (huge pages, prefetch) in a C shim.
  .target(name: "CPacketMemory", cSettings: portableC),
  .target(
    name: "DataPlane", dependencies: ["Wire", "CardCrypto", "CPacketMemory"], swiftSettings: portableSwift),
  // Layer 3: IPsec ESP (RFC 4303/4106) between the pipeline and the uplink.
  .target(name: "Ipsec", dependencies: ["Wire", "CardCrypto", "DataPlane"], swiftSettings: portableSwift),
  // Layer 4: guest memory, virtqueues, vhost-user, devices.
  .target(name: "Virtio", swiftSettings: portableSwift),
  // The system calls the portable layers make (descriptors, unix sockets
  // with SCM_RIGHTS, mmap, memfd, eventfd, epoll), as a C shim and typed
  // Swift wrappers: Glibc cannot be imported by Embedded Swift.
  .target(name: "CPlatform", cSettings: portableC),
  .target(name: "Platform", dependencies: ["CPlatform"], swiftSettings: portableSwift),
  // The vhost-user protocol, back-end side: message codec and the session
  // state machine (no system calls; the server supplies them).
  .target(name: "VhostUser", dependencies: ["Virtio"], swiftSettings: portableSwift),
  // The vhost-user back-end server: an epoll loop over unix sockets,
  // eventfd kicks and calls, guest memory mapped from memfds.
  .target(name: "VhostUserBackend", dependencies: ["VhostUser", "Platform"], swiftSettings: portableSwift),
  // The driver side of split and packed rings over a simulated guest, as a
  // Linux guest lays them out: for tests, benchmarks, fuzzing, self-test.
  .target(name: "VirtioDriver", dependencies: ["Virtio"], swiftSettings: portableSwift),
  // The virtio-net device model: features, config, control queue, TX with
  // checksum completion and TSO segmentation, RX with mergeable buffers.
  .target(name: "VirtioNet", dependencies: ["Virtio", "Wire", "DataPlane"], swiftSettings: portableSwift),
  // Ports: where the run loop receives and sends frames (in-memory rings,
  // AF_PACKET with PACKET_MMAP rings, vhost-user host functions, and in the
  // host build a DPDK ethdev), over DataPlane's packet pool. CPacketSocket
  // is the AF_PACKET system calls; CDpdk (host only) the DPDK shim.
  .target(name: "CPacketSocket", cSettings: portableC),
  .target(
    name: "Ports", dependencies: ["DataPlane", "Platform", "CPacketSocket"] + (embedded ? [] : ["CDpdk"]),
    swiftSettings: portableSwift),
  // Layer 5, the firmware: configuration file, run loop, signals; and the
  // card's executable. CCardProcess is its process-level system calls.
  .target(name: "CCardProcess", cSettings: portableC),
  // The hand-off of a configuration from the management channel's thread to
  // the run loop. Its own module: it needs Synchronization, whose Glibc
  // clashes with CPlatform's _GNU_SOURCE headers inside one module.
  .target(
    name: "CardHandoff", dependencies: ["CardTLS", "DataPlane", "Ipsec"], swiftSettings: portableSwift),
  .target(
    name: "Card",
    dependencies: [
      "Ports", "DataPlane", "Wire", "Platform", "CCardProcess", "VhostUser", "VhostUserBackend", "Virtio",
      "VirtioNet", "Management", "CardAgent", "CardTLS", "CardHandoff",
      // Encrypted volumes served as virtio-blk host functions.
      "Volumes", "VirtioBlk", "BlockStorage", "CardCrypto",
      // ESP between this card and its peer cards.
      "Ipsec",
    ],
    swiftSettings: portableSwift),
  .executableTarget(
    name: "bulkhead-card", dependencies: ["Card", "CardHandoff", "Ports", "DataPlane", "Platform"],
    path: "Firmware/Card",
    // init: the emulated card's first userspace step (Docs/firmware-image.md).
    exclude: ["init"],
    swiftSettings: portableSwift + [.enableExperimentalFeature("Extern")]),
  // Block storage: what a virtio-blk device serves (BlockStore) and where a
  // volume's bytes live (BlockBackend); pure Swift, so the request fuzzer
  // can use it.
  .target(name: "BlockStorage", swiftSettings: portableSwift),
  // The system calls volume backends make (pread/pwrite, fdatasync,
  // fallocate, O_DIRECT, TCP/unix sockets for NBD).
  .target(name: "CBlockIO", cSettings: portableC),
  // Encrypted volumes (AES-XTS, dm-crypt compatible) over file and NBD
  // backends.
  .target(
    name: "Volumes", dependencies: ["BlockStorage", "CardCrypto", "CBlockIO"], swiftSettings: portableSwift),
  // The virtio-blk device model (virtio 1.2 §5.2) over the virtio core,
  // serving any BlockStore (an encrypted volume on the card).
  .target(name: "VirtioBlk", dependencies: ["Virtio", "BlockStorage"], swiftSettings: portableSwift),
  // Layer 5: the management channel's codec (controller <-> card), shared by
  // the firmware and the controller.
  .target(name: "Management", swiftSettings: portableSwift),
  // Layer 5: the management channel's transport (mutual TLS 1.3 through
  // OpenSSL's SSL_*, sockets, the atomically replaced state file) and the
  // card agent on top of it. The controller uses the same TLS layer.
  .target(
    name: "CCardChannel", cSettings: portableC,
    linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),
  .target(name: "CardTLS", dependencies: ["CCardChannel"], swiftSettings: portableSwift),
  .target(
    name: "CardAgent", dependencies: ["CardTLS", "Management", "CCardChannel"], swiftSettings: portableSwift),
  // The firmware self-test: every wire format and crypto vector, on the card.
  .executableTarget(
    name: "firmware-selftest",
    dependencies: [
      "Wire", "CardCrypto", "DataPlane", "Ipsec", "Management", "CardAgent", "Platform", "VhostUserBackend",
      "Virtio", "VirtioDriver", "VirtioNet", "Volumes", "VirtioBlk",
    ],
    path: "Firmware/SelfTest",
    // Extern: `@_extern(c)` declares libc's exit without Glibc, which
    // Embedded Swift cannot import.
    swiftSettings: portableSwift + [.enableExperimentalFeature("Extern")]),
]

/// Packages used only by host-only targets; the Embedded build resolves none.
let hostPackages: [Package.Dependency] =
  embedded
  ? []
  : [
    .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
    .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
    .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
    .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
  ]
let grpcCore: Target.Dependency = .product(name: "GRPCCore", package: "grpc-swift-2")
let grpcTransport: Target.Dependency = .product(
  name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport")
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")

if !embedded {
  targets += [
    .testTarget(name: "WireTests", dependencies: ["Wire"]),
    // Wire against independent oracles (scapy, tshark); host-only, needs
    // the tools scripts/setup.sh installs.
    .testTarget(name: "WireOracleTests", dependencies: ["Wire"], exclude: ["Oracles"]),
    .testTarget(name: "CardCryptoTests", dependencies: ["CardCrypto"]),
    .testTarget(name: "DataPlaneTests", dependencies: ["DataPlane", "Wire"]),
    // Host only: tshark, scapy and a Linux vxlan device in a network
    // namespace (needs root) as peers of the data plane.
    .testTarget(name: "DataPlaneInteropTests", dependencies: ["DataPlane", "Wire"], exclude: ["Scripts"]),
    // Benchmarks (host, run with -c release; figures in Docs/benchmarks.md).
    // (Benchmarks/<Area>/ is one benchmark: its Swift program and its C peer.)
    .target(name: "WirePeer", path: "Benchmarks/Wire/CPeer"),
    .executableTarget(name: "bench-wire", dependencies: ["Wire", "WirePeer"], path: "Benchmarks/Wire/Swift"),
    // Host-only: checks CardCrypto against the openssl command and python3's
    // `cryptography` module (Foundation's Process), where present.
    .testTarget(name: "CardCryptoOracleTests", dependencies: ["CardCrypto"]),
    // Benchmarks: host-only executables that print figures (Docs/benchmarks.md).
    .executableTarget(name: "bench-crypto", dependencies: ["CardCrypto"], path: "Benchmarks/Crypto"),
    // Guests through the card's host functions beside DPDK's vhost PMD
    // (needs bulkhead-card built in the same configuration).
    .executableTarget(
      name: "bench-hostfunctions", dependencies: ["Emulator"], path: "Benchmarks/HostFunctions"),
    .testTarget(name: "ManagementTests", dependencies: ["Management"]),
    // Host side: the provider's small CA (keys and certificates for the
    // controller and each card), used by dpuctl and the tests.
    .target(name: "CProviderPKI", linkerSettings: [.linkedLibrary("crypto")]),
    .target(name: "ProviderPKI", dependencies: ["CProviderPKI"]),
    .testTarget(name: "CardTLSTests", dependencies: ["CardTLS", "ProviderPKI"]),
    .testTarget(name: "CardAgentTests", dependencies: ["CardAgent", "CardTLS", "Management", "ProviderPKI"]),
    .testTarget(name: "VolumesTests", dependencies: ["Volumes", "BlockStorage", "CardCrypto"]),
    .testTarget(name: "VirtioBlkTests", dependencies: ["VirtioBlk", "Virtio", "BlockStorage"]),
    .testTarget(name: "PlatformTests", dependencies: ["Platform"]),
    .testTarget(name: "VhostUserTests", dependencies: ["VhostUser"]),
    .testTarget(name: "VirtioTests", dependencies: ["Virtio", "VirtioDriver"]),
    .testTarget(
      name: "VirtioNetTests", dependencies: ["VirtioNet", "Virtio", "VirtioDriver", "DataPlane", "Wire"]),
    .testTarget(name: "VhostUserBackendTests", dependencies: ["VhostUserBackend", "VhostUser", "Platform"]),
    // The vhost-user back-end as a process (guest tests run it), and a
    // hostile front-end that attacks one.
    .executableTarget(
      name: "bulkhead-vhost-user", dependencies: ["VhostUserBackend", "VhostUser", "Platform"]),
    .executableTarget(
      name: "vhost-user-hostile", dependencies: ["VhostUserBackend", "VhostUser", "Platform"]),
    .testTarget(name: "PortsTests", dependencies: ["Ports", "DataPlane", "Platform"]),
    .testTarget(
      name: "CardTests",
      dependencies: [
        "Card", "Ports", "DataPlane", "Wire", "Management", "Volumes", "CardCrypto", "Ipsec", "CardHandoff",
        "CardAgent",
        // Slice volumes: a test front-end over the volumes' sockets, and a
        // guest's requests on the test driver's ring.
        "VhostUserBackend", "VhostUser", "Platform", "Virtio", "VirtioBlk", "VirtioDriver", "BlockStorage",
      ]),
    // Runs the bulkhead-card binary (host build, and the aarch64 build under
    // qemu-aarch64 when present) between Linux VXLAN/Geneve and a tenant
    // namespace; needs root.
    .testTarget(name: "CardIntegrationTests", dependencies: ["bulkhead-card"]),
    .testTarget(name: "IpsecTests", dependencies: ["Ipsec", "DataPlane", "CardCrypto", "Wire"]),
    // The DPDK uplink port's C shim (host build; `Ports` has the port):
    // EAL, ethdev and mbufs with DPDK's compile flags (pkg-config libdpdk,
    // 22.11); tested with --no-huge and a net_tap vdev.
    .target(
      name: "CDpdk",
      cSettings: [
        .unsafeFlags([
          "-I/usr/include/dpdk", "-I/usr/include/x86_64-linux-gnu/dpdk", "-include", "rte_config.h",
          "-march=corei7",
        ])
      ],
      linkerSettings: [
        .linkedLibrary("rte_ethdev"), .linkedLibrary("rte_mbuf"), .linkedLibrary("rte_mempool"),
        .linkedLibrary("rte_ring"), .linkedLibrary("rte_eal"), .linkedLibrary("rte_kvargs"),
        .linkedLibrary("rte_telemetry"),
      ]),
    // Ring-to-ring packets per second through two VirtioNet devices.
    .executableTarget(
      name: "bench-virtio", dependencies: ["VirtioNet", "Virtio", "VirtioDriver", "DataPlane", "Wire"],
      path: "Benchmarks/Virtio"),
    .executableTarget(
      name: "bench-ipsec", dependencies: ["Ipsec", "DataPlane", "CardCrypto"], path: "Benchmarks/Ipsec"),
    // The card's run loop ring to ring, in process, beside dpdk-testpmd.
    .executableTarget(
      name: "bench-card", dependencies: ["Card", "Ports", "DataPlane", "Wire"], path: "Benchmarks/Card"),
    // A guest's fio on the card's encrypted volume beside qemu-storage-daemon
    // (raw and LUKS); needs bulkhead-card built in the same configuration.
    .executableTarget(
      name: "bench-volumes", dependencies: ["Emulator", "Volumes", "BlockStorage", "CardCrypto"],
      path: "Benchmarks/Volumes"),
    // Tenant TCP between two cards of the emulated rack, clear Geneve vs
    // ESP on the underlay (root; needs bulkhead-card built the same way).
    .executableTarget(name: "bench-rack", dependencies: ["Emulator"], path: "Benchmarks/Rack"),
    // An AF_PACKET port's ring and copy modes through a veth pair (root).
    .executableTarget(
      name: "bench-ports", dependencies: ["Ports", "DataPlane", "CPacketSocket"], path: "Benchmarks/Ports"),
  ]
  // Layer 6, host side: the provider API (generated from Proto/ by
  // scripts/generate-api.sh), the controller and its CLI.
  targets += [
    .target(
      name: "ProviderAPI",
      dependencies: [
        grpcCore,
        .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ]),
    .target(
      name: "Controller",
      dependencies: [
        "ProviderAPI", "Management", "CardTLS", grpcCore,
        .product(name: "GRDB", package: "GRDB.swift"),
        // The card-pair ESP keys: made, wrapped (RFC 5649) and derived.
        "CardCrypto", "ProviderPKI",
      ]),
    .executableTarget(
      name: "bulkhead-controller",
      dependencies: ["Controller", "CardTLS", "ProviderPKI", grpcTransport, argumentParser]),
    .target(name: "ControlClient", dependencies: ["ProviderAPI", grpcCore, grpcTransport]),
    .executableTarget(
      name: "dpuctl",
      dependencies: [
        "ControlClient", "ProviderAPI", "ProviderPKI", "FirmwareImage", "Emulator", "HostDriver", grpcCore,
        argumentParser,
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ]),
    .testTarget(
      name: "ControllerTests",
      dependencies: ["Controller", "ProviderAPI", "Management", "CardCrypto", "ProviderPKI"]),
    .testTarget(name: "ControlClientTests", dependencies: ["ControlClient"]),
    // A controller and simulated cards in one process, over real TLS on
    // loopback: shared by the channel tests and bench-control.
    .target(
      name: "ControlPlaneTestSupport",
      dependencies: [
        "Controller", "CardAgent", "CardTLS", "Management", "ProviderAPI", "ProviderPKI", "ControlClient",
        grpcCore, grpcTransport,
      ],
      path: "Tests/ControlPlaneTestSupport"),
    .testTarget(
      name: "ManagementChannelTests",
      dependencies: [
        "ControlPlaneTestSupport", "Controller", "CardAgent", "CardTLS", "Management", "ProviderAPI",
        "ProviderPKI",
      ]),
    .executableTarget(
      name: "bench-control",
      dependencies: ["ControlPlaneTestSupport", "Controller", "CardAgent", "Management", "ProviderPKI"],
      path: "Benchmarks/Control"),
    // Starts the real controller and drives it only through the dpuctl binary.
    .testTarget(
      name: "ControlPlaneIntegrationTests",
      dependencies: [
        "ProviderAPI", "dpuctl", "bulkhead-controller", "bulkhead-card", "CardAgent", "CardTLS", "Management",
        // BlockFrontend: a vhost-user-blk front-end for the card's volumes.
        "VhostUserBackend", "VhostUser", "Platform",
      ],
      // esp_site_gateway.py: a site's ESP gateway with scapy's ESP.
      exclude: ["Scripts"]),
    .executableTarget(
      name: "bench-dataplane", dependencies: ["DataPlane", "Wire", "CPacketMemory"],
      path: "Benchmarks/DataPlane"),
    // Host side: the emulator (guest images, QEMU guests, namespaces).
    // The host agent: attaches a card's functions to guests (vhost-user in
    // the emulator, vDPA or plain PCI on hardware) through QEMU's monitor.
    .target(name: "HostDriver", path: "HostDriver/Sources/HostDriver"),
    .testTarget(
      name: "HostDriverTests", dependencies: ["HostDriver"], path: "HostDriver/Tests/HostDriverTests"),
    .target(name: "Emulator", dependencies: ["HostDriver", "CardCrypto"], path: "Emulator/Sources/Emulator"),
    .testTarget(
      name: "EmulatorTests", dependencies: ["Emulator", "CardCrypto"], path: "Emulator/Tests/EmulatorTests"),
    // Slow integration tests that boot guests under TCG (root, QEMU, DPDK).
    .testTarget(
      name: "GuestTests",
      dependencies: [
        "Emulator", "DataPlane", "Wire", "FirmwareImage", "bulkhead-vhost-user", "vhost-user-hostile",
        "bulkhead-card", "Ipsec", "CardCrypto", "Volumes", "BlockStorage", "dpuctl",
      ],
      path: "Emulator/Tests/GuestTests"),
    // Host side: firmware images (build, sign, verify, flash) and the
    // emulated card's flash and boot ROM. Ed25519 and SHA-256 from
    // libcrypto, ELF checks from libelf.
    .target(
      name: "CFirmwareImage", linkerSettings: [.linkedLibrary("crypto"), .linkedLibrary("elf")]),
    .target(name: "FirmwareImage", dependencies: ["CFirmwareImage", "Emulator"]),
    .testTarget(name: "FirmwareImageTests", dependencies: ["FirmwareImage"]),
  ]
}

let package = Package(
  name: "Bulkhead",
  products: [
    .executable(name: "firmware-selftest", targets: ["firmware-selftest"]),
    .executable(name: "bulkhead-card", targets: ["bulkhead-card"]),
  ]
    + (embedded
      ? []
      : [
        .executable(name: "bulkhead-controller", targets: ["bulkhead-controller"]),
        .executable(name: "dpuctl", targets: ["dpuctl"]),
        .executable(name: "bulkhead-vhost-user", targets: ["bulkhead-vhost-user"]),
        .executable(name: "vhost-user-hostile", targets: ["vhost-user-hostile"]),
      ]),
  dependencies: hostPackages,
  targets: targets
)
