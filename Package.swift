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

let portableSwift: [SwiftSetting] =
  embedded
  ? [
    .enableExperimentalFeature("Embedded"),
    .unsafeFlags(["-wmo", "-Xcc", "-isystem", "-Xcc", crossInclude]),
  ]
  : [.unsafeFlags(["-warnings-as-errors"])]

let portableC: [CSetting] = embedded ? [.unsafeFlags(["-isystem", crossInclude])] : []

var targets: [Target] = [
  // Layer 1: wire formats.
  .target(name: "Wire", swiftSettings: portableSwift),
  // Layer 2: crypto, a thin C shim over OpenSSL's EVP and Swift types on top.
  .target(
    name: "CCardCrypto", cSettings: portableC,
    linkerSettings: [.linkedLibrary("crypto")]),
  .target(name: "CardCrypto", dependencies: ["CCardCrypto"], swiftSettings: portableSwift),
  // Layer 3: the data plane.
  .target(name: "DataPlane", dependencies: ["Wire", "CardCrypto"], swiftSettings: portableSwift),
  // Layer 4: guest memory, virtqueues, vhost-user, devices.
  .target(name: "Virtio", swiftSettings: portableSwift),
  // The system calls the portable layers make (descriptors, unix sockets
  // with SCM_RIGHTS, mmap, memfd, eventfd, epoll), as a C shim and typed
  // Swift wrappers: Glibc cannot be imported by Embedded Swift.
  .target(name: "CPlatform", cSettings: portableC),
  .target(name: "Platform", dependencies: ["CPlatform"], swiftSettings: portableSwift),
  // The vhost-user protocol, back-end side: message codec and the session
  // state machine (no system calls; the server supplies them).
  .target(name: "VhostUser", swiftSettings: portableSwift),
  // The vhost-user back-end server: an epoll loop over unix sockets,
  // eventfd kicks and calls, guest memory mapped from memfds.
  .target(name: "VhostUserBackend", dependencies: ["VhostUser", "Platform"], swiftSettings: portableSwift),
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
  // The firmware self-test: every wire format and crypto vector, on the card.
  .executableTarget(
    name: "firmware-selftest",
    dependencies: [
      "Wire", "CardCrypto", "DataPlane", "Management", "Platform", "VhostUserBackend", "Volumes", "VirtioBlk",
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
    .testTarget(name: "ManagementTests", dependencies: ["Management"]),
    .testTarget(name: "VolumesTests", dependencies: ["Volumes", "BlockStorage", "CardCrypto"]),
    .testTarget(name: "VirtioBlkTests", dependencies: ["VirtioBlk", "Virtio", "BlockStorage"]),
    .testTarget(name: "PlatformTests", dependencies: ["Platform"]),
    .testTarget(name: "VhostUserTests", dependencies: ["VhostUser"]),
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
        "ProviderAPI", "Management", grpcCore,
        .product(name: "GRDB", package: "GRDB.swift"),
      ]),
    .executableTarget(
      name: "bulkhead-controller", dependencies: ["Controller", grpcTransport, argumentParser]),
    .target(name: "ControlClient", dependencies: ["ProviderAPI", grpcCore, grpcTransport]),
    .executableTarget(
      name: "dpuctl",
      dependencies: [
        "ControlClient", "ProviderAPI", grpcCore, argumentParser,
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ]),
    .testTarget(name: "ControllerTests", dependencies: ["Controller", "ProviderAPI"]),
    .testTarget(name: "ControlClientTests", dependencies: ["ControlClient"]),
    // Starts the real controller and drives it only through the dpuctl binary.
    .testTarget(
      name: "ControlPlaneIntegrationTests",
      dependencies: ["ProviderAPI", "dpuctl", "bulkhead-controller"]),
    .executableTarget(
      name: "bench-dataplane", dependencies: ["DataPlane", "Wire"], path: "Benchmarks/DataPlane"),
    // Host side: the emulator (guest images, QEMU guests, namespaces).
    .target(name: "Emulator", path: "Emulator/Sources/Emulator"),
    .testTarget(name: "EmulatorTests", dependencies: ["Emulator"], path: "Emulator/Tests/EmulatorTests"),
    // Slow integration tests that boot guests under TCG (root, QEMU, DPDK).
    .testTarget(
      name: "GuestTests", dependencies: ["Emulator", "Volumes", "BlockStorage", "CardCrypto"],
      path: "Emulator/Tests/GuestTests"),
  ]
}

let package = Package(
  name: "Bulkhead",
  products: [
    .executable(name: "firmware-selftest", targets: ["firmware-selftest"])
  ]
    + (embedded
      ? []
      : [
        .executable(name: "bulkhead-controller", targets: ["bulkhead-controller"]),
        .executable(name: "dpuctl", targets: ["dpuctl"]),
      ]),
  dependencies: hostPackages,
  targets: targets
)
