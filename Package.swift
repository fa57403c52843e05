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
  // The firmware self-test: every wire format and crypto vector, on the card.
  .executableTarget(
    name: "firmware-selftest", dependencies: ["Wire", "CardCrypto", "DataPlane"],
    path: "Firmware/SelfTest", swiftSettings: portableSwift),
]

if !embedded {
  targets += [
    .testTarget(name: "WireTests", dependencies: ["Wire"]),
    .testTarget(name: "CardCryptoTests", dependencies: ["CardCrypto"]),
    // Host side: the emulator (guest images, QEMU guests, namespaces).
    .target(name: "Emulator", path: "Emulator/Sources/Emulator"),
    .testTarget(name: "EmulatorTests", dependencies: ["Emulator"], path: "Emulator/Tests/EmulatorTests"),
    // Slow integration tests that boot guests under TCG (root, QEMU, DPDK).
    .testTarget(name: "GuestTests", dependencies: ["Emulator"], path: "Emulator/Tests/GuestTests"),
  ]
}

let package = Package(
  name: "Bulkhead",
  products: [
    .executable(name: "firmware-selftest", targets: ["firmware-selftest"])
  ],
  targets: targets
)
