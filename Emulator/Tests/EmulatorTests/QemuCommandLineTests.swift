import Foundation
import Testing

@testable import Emulator

private let image = GuestImage(directory: "/images/abc")

private func configuration(scenario: String = "report a=1") -> GuestConfiguration {
  GuestConfiguration(name: "tenant1", image: image, scenario: scenario)
}

/// The value following `option` the `occurrence`-th time it appears.
private func value(after option: String, in command: [String], occurrence: Int = 0) -> String? {
  let indices = command.indices.filter { command[$0] == option }
  guard occurrence < indices.count, indices[occurrence] + 1 < command.count else { return nil }
  return command[indices[occurrence] + 1]
}

@Test func tcgWithSharedMemoryAndTheImage() {
  let command = QemuCommandLine(configuration(), scenarioFile: "/tmp/s").command
  #expect(command.first == "qemu-system-x86_64")
  #expect(value(after: "-accel", in: command) == "tcg")
  #expect(value(after: "-machine", in: command) == "q35,memory-backend=mem")
  #expect(value(after: "-object", in: command) == "memory-backend-memfd,id=mem,size=256M,share=on")
  #expect(value(after: "-m", in: command) == "256M")
  #expect(value(after: "-kernel", in: command) == "/images/abc/vmlinuz")
  #expect(value(after: "-initrd", in: command) == "/images/abc/initrd.cpio")
  #expect(command.contains("-no-reboot"))
  #expect(value(after: "-serial", in: command) == "stdio")
}

@Test func shortScenarioTravelsOnTheKernelCommandLine() throws {
  let commandLine = QemuCommandLine(configuration(scenario: "uname -r"), scenarioFile: "/tmp/s")
  #expect(!commandLine.needsScenarioFile)
  #expect(!commandLine.command.contains("-fw_cfg"))
  let append = try #require(value(after: "-append", in: commandLine.command))
  let words = append.split(separator: " ")
  #expect(words.contains("console=ttyS0"))
  #expect(words.contains("bulkhead.hostname=tenant1"))
  let encoded = try #require(words.first { $0.hasPrefix("bulkhead.run=") }?.dropFirst(13))
  let decoded = try #require(Data(base64Encoded: String(encoded)))
  #expect(String(decoding: decoded, as: UTF8.self) == "uname -r")
}

@Test func longScenarioTravelsInFirmwareConfig() throws {
  let long = String(repeating: "echo a long line of scenario\n", count: 100)
  let commandLine = QemuCommandLine(configuration(scenario: long), scenarioFile: "/tmp/s.sh")
  #expect(commandLine.needsScenarioFile)
  #expect(
    value(after: "-fw_cfg", in: commandLine.command) == "name=opt/bulkhead/run,file=/tmp/s.sh")
  let append = try #require(value(after: "-append", in: commandLine.command))
  #expect(!append.contains("bulkhead.run="))
}

@Test func vhostUserNicAndBlockDevice() {
  var guest = configuration()
  guest.nics = [GuestNIC(.vhostUser(socket: "/run/n0.sock"), mac: "52:54:00:00:00:01")]
  guest.disks = [GuestDisk(.vhostUserBlk(socket: "/run/d0.sock"))]
  let command = QemuCommandLine(guest, scenarioFile: "/tmp/s").command
  #expect(
    value(after: "-chardev", in: command) == "socket,id=net0c,path=/run/n0.sock,reconnect-ms=1000")
  #expect(value(after: "-netdev", in: command) == "vhost-user,id=net0,chardev=net0c")
  #expect(
    value(after: "-device", in: command) == "virtio-net-pci,netdev=net0,mac=52:54:00:00:00:01")
  #expect(
    value(after: "-chardev", in: command, occurrence: 1)
      == "socket,id=disk0c,path=/run/d0.sock,reconnect-ms=1000")
  #expect(
    value(after: "-device", in: command, occurrence: 1)
      == "vhost-user-blk-pci,chardev=disk0c,id=disk0")
}

@Test func multiQueueNicGetsAVectorPerQueue() {
  var guest = configuration()
  guest.nics = [GuestNIC(.vhostUser(socket: "/s"), mac: "52:54:00:00:00:01", queuePairs: 4)]
  let command = QemuCommandLine(guest, scenarioFile: "/tmp/s").command
  #expect(value(after: "-netdev", in: command) == "vhost-user,id=net0,chardev=net0c,queues=4")
  #expect(
    value(after: "-device", in: command)
      == "virtio-net-pci,netdev=net0,mac=52:54:00:00:00:01,mq=on,vectors=10")
}

@Test func socketNicsAreNumberedInOrder() {
  var guest = configuration()
  guest.nics = [
    GuestNIC(.streamListen(socket: "/a"), mac: "52:54:00:00:00:01"),
    GuestNIC(.streamConnect(socket: "/b"), mac: "52:54:00:00:00:02"),
    GuestNIC(.dgram(local: "/c", remote: "/d"), mac: "52:54:00:00:00:03"),
    GuestNIC(.tap(ifname: "tap0"), mac: "52:54:00:00:00:04"),
    GuestNIC(
      .userForwards([GuestForward(guestAddress: "10.0.2.100", guestPort: 7443, hostPort: 40001)]),
      mac: "52:54:00:00:00:05"),
  ]
  let command = QemuCommandLine(guest, scenarioFile: "/tmp/s").command
  #expect(
    value(after: "-netdev", in: command, occurrence: 0)
      == "stream,id=net0,server=on,addr.type=unix,addr.path=/a")
  #expect(
    value(after: "-netdev", in: command, occurrence: 1)
      == "stream,id=net1,server=off,reconnect-ms=200,addr.type=unix,addr.path=/b")
  #expect(
    value(after: "-netdev", in: command, occurrence: 2)
      == "dgram,id=net2,local.type=unix,local.path=/c,remote.type=unix,remote.path=/d")
  #expect(
    value(after: "-netdev", in: command, occurrence: 3)
      == "tap,id=net3,ifname=tap0,script=no,downscript=no")
  #expect(
    value(after: "-device", in: command, occurrence: 3)
      == "virtio-net-pci,netdev=net3,mac=52:54:00:00:00:04")
  // Restricted user network: the guest's one way out is the forward, one
  // socat per connection to the host's loopback.
  #expect(
    value(after: "-netdev", in: command, occurrence: 4)
      == "user,id=net4,restrict=on,guestfwd=tcp:10.0.2.100:7443-cmd:socat - TCP:127.0.0.1:40001")
}

@Test func namespaceWrapsTheCommand() {
  var guest = configuration()
  guest.namespace = "bh-test"
  let command = QemuCommandLine(guest, scenarioFile: "/tmp/s").command
  #expect(Array(command.prefix(5)) == ["ip", "netns", "exec", "bh-test", "qemu-system-x86_64"])
}

@Test func storageImageUsesItsInitrd() {
  let guest = GuestConfiguration(name: "g", image: image, scenario: "", initrd: .storage)
  #expect(guest.initrd == "/images/abc/initrd-storage.cpio")
  #expect(guest.memoryMiB >= 512)
}

@Test func aarch64GuestUsesTheVirtMachineAndItsConsole() throws {
  let arm = GuestImage(directory: "/images/arm", architecture: .aarch64)
  let command = QemuCommandLine(
    GuestConfiguration(name: "card", image: arm, scenario: "true"), scenarioFile: "/tmp/s"
  ).command
  #expect(command.first == "qemu-system-aarch64")
  #expect(value(after: "-machine", in: command) == "virt,memory-backend=mem")
  #expect(value(after: "-cpu", in: command) == "cortex-a72")
  let append = try #require(value(after: "-append", in: command))
  #expect(append.hasPrefix("console=ttyAMA0 "))
  #expect(!append.contains("tsc="))
}

/// An emulated card's flash: a raw file QEMU serves as virtio-blk.
@Test func rawFileDiskIsAVirtioBlockDevice() {
  var guest = configuration()
  guest.disks = [GuestDisk(.rawFile(path: "/state/cards/c0/flash.img"))]
  let command = QemuCommandLine(guest, scenarioFile: "/tmp/s").command
  #expect(value(after: "-drive", in: command) == "file=/state/cards/c0/flash.img,format=raw,if=none,id=disk0")
  #expect(value(after: "-device", in: command) == "virtio-blk-pci,drive=disk0,id=disk0d")
}
