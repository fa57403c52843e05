import Testing

@testable import HostDriver

/// The commands each attach path generates. The vDPA and bare-metal paths
/// need a card to run; here they are checked command by command.
@Suite struct FunctionPlanTests {
  let nic = HostFunction(
    name: "a1", kind: .net(mac: "02:ca:00:00:01:10", queuePairs: 1),
    path: .vhostUser(socket: "/run/bh/c1/nic1.sock"))

  @Test func vhostUserNICAtStartAndHotPlugged() throws {
    let plan = try FunctionPlan(nic, bus: "bh-port0")
    #expect(
      plan.qemuArguments == [
        "-chardev", "socket,id=bh-a1-c,path=/run/bh/c1/nic1.sock,reconnect-ms=1000",
        "-netdev", "vhost-user,id=bh-a1-n,chardev=bh-a1-c",
        "-device", "virtio-net-pci,bus=bh-port0,id=bh-a1,mac=02:ca:00:00:01:10,netdev=bh-a1-n",
      ])
    #expect(
      plan.attach.map(\.json) == [
        #"{"arguments":{"backend":{"data":{"addr":{"data":{"path":"/run/bh/c1/nic1.sock"},"type":"unix"},"reconnect-ms":1000,"server":false},"type":"socket"},"id":"bh-a1-c"},"execute":"chardev-add"}"#,
        #"{"arguments":{"chardev":"bh-a1-c","id":"bh-a1-n","type":"vhost-user"},"execute":"netdev_add"}"#,
        #"{"arguments":{"bus":"bh-port0","driver":"virtio-net-pci","id":"bh-a1","mac":"02:ca:00:00:01:10","netdev":"bh-a1-n"},"execute":"device_add"}"#,
      ])
    #expect(plan.unplug.json == #"{"arguments":{"id":"bh-a1"},"execute":"device_del"}"#)
    #expect(plan.release.map(\.execute) == ["netdev_del", "chardev-remove"])
    #expect(plan.hostCommandsBeforeAttach.isEmpty && plan.hostCommandsAfterDetach.isEmpty)
  }

  @Test func multiQueueNICGetsAVectorPerQueue() throws {
    var function = nic
    function.kind = .net(mac: "02:ca:00:00:01:10", queuePairs: 4)
    let plan = try FunctionPlan(function, bus: nil)
    #expect(plan.qemuArguments[3] == "vhost-user,id=bh-a1-n,chardev=bh-a1-c,queues=4")
    #expect(
      plan.qemuArguments[5] == "virtio-net-pci,id=bh-a1,mac=02:ca:00:00:01:10,mq=on,netdev=bh-a1-n,vectors=10"
    )
    #expect(plan.attach[1].arguments["queues"] == .integer(4))
  }

  @Test func vhostUserVolume() throws {
    let volume = HostFunction(name: "data", kind: .block, path: .vhostUser(socket: "/run/bh/c1/vol1.sock"))
    let plan = try FunctionPlan(volume, bus: "bh-port1")
    #expect(
      plan.qemuArguments == [
        "-chardev", "socket,id=bh-data-c,path=/run/bh/c1/vol1.sock,reconnect-ms=1000",
        "-device", "vhost-user-blk-pci,bus=bh-port1,chardev=bh-data-c,id=bh-data",
      ])
    #expect(plan.attach.map(\.execute) == ["chardev-add", "device_add"])
    #expect(plan.release.map(\.execute) == ["chardev-remove"])
  }

  @Test func vdpaNICOnHardware() throws {
    let function = HostFunction(
      name: "web0", kind: .net(mac: "02:ca:00:00:02:20", queuePairs: 2),
      path: .vdpa(managementDevice: "pci/0000:03:00.2"))
    let plan = try FunctionPlan(function, bus: "bh-port0", vhostVdpaDevice: "/dev/vhost-vdpa-3")
    #expect(
      plan.hostCommandsBeforeAttach == [
        [
          "vdpa", "dev", "add", "name", "bh-web0", "mgmtdev", "pci/0000:03:00.2", "mac", "02:ca:00:00:02:20",
          "max_vqp", "2",
        ]
      ])
    #expect(plan.hostCommandsAfterDetach == [["vdpa", "dev", "del", "bh-web0"]])
    #expect(
      plan.qemuArguments == [
        "-netdev", "vhost-vdpa,id=bh-web0-n,vhostdev=/dev/vhost-vdpa-3,queues=2",
        "-device",
        "virtio-net-pci,bus=bh-port0,id=bh-web0,mac=02:ca:00:00:02:20,mq=on,netdev=bh-web0-n,vectors=6",
      ])
    #expect(
      plan.attach.first?.json
        == #"{"arguments":{"id":"bh-web0-n","queues":2,"type":"vhost-vdpa","vhostdev":"/dev/vhost-vdpa-3"},"execute":"netdev_add"}"#
    )
    #expect(
      FunctionPlan.vhostVdpaLookup("bh-web0").last!.contains("/sys/bus/vdpa/devices/bh-web0/vhost-vdpa-*"))
  }

  @Test func vdpaVolumeOnHardware() throws {
    let function = HostFunction(name: "vol7", kind: .block, path: .vdpa(managementDevice: "pci/0000:03:00.3"))
    let plan = try FunctionPlan(function, bus: nil, vhostVdpaDevice: "/dev/vhost-vdpa-4")
    #expect(
      plan.hostCommandsBeforeAttach == [
        ["vdpa", "dev", "add", "name", "bh-vol7", "mgmtdev", "pci/0000:03:00.3"]
      ])
    #expect(
      plan.qemuArguments == [
        "-blockdev",
        "driver=virtio-blk-vhost-vdpa,node-name=bh-vol7-b,path=/dev/vhost-vdpa-4,cache.direct=on",
        "-device", "virtio-blk-pci,drive=bh-vol7-b,id=bh-vol7",
      ])
    #expect(plan.attach.map(\.execute) == ["blockdev-add", "device_add"])
    #expect(
      plan.release.map(\.json) == [#"{"arguments":{"node-name":"bh-vol7-b"},"execute":"blockdev-del"}"#])
  }

  @Test func bareMetalFunctionBindsTheStockDriver() throws {
    let function = HostFunction(
      name: "pf1", kind: .net(mac: "02:ca:00:00:03:30", queuePairs: 1), path: .pci(address: "0000:03:00.4"))
    let plan = try FunctionPlan(function, bus: nil)
    #expect(plan.qemuArguments.isEmpty && plan.attach.isEmpty)
    #expect(
      plan.hostCommandsBeforeAttach == [
        ["sh", "-c", "echo virtio-pci > /sys/bus/pci/devices/0000:03:00.4/driver_override"],
        ["sh", "-c", "echo 0000:03:00.4 > /sys/bus/pci/drivers_probe"],
      ])
    #expect(plan.hostCommandsAfterDetach.first?.last?.contains("driver/unbind") == true)
  }

  @Test func hostileNamesAndAddressesAreRefused() {
    func refused(_ f: HostFunction) -> HostDriverError? {
      do {
        _ = try FunctionPlan(f, bus: nil)
        return nil
      } catch { return error }
    }
    var f = nic
    f.name = "a1,id=evil"
    #expect(refused(f) == .invalidName("a1,id=evil"))
    f.name = "1abc"
    #expect(refused(f) == .invalidName("1abc"))
    f.name = String(repeating: "a", count: 25)
    #expect(refused(f) == .invalidName(f.name))
    f = nic
    f.kind = .net(mac: "03:ca:00:00:01:10", queuePairs: 1)
    #expect(refused(f) == .invalidMAC("03:ca:00:00:01:10"), "multicast")
    f.kind = .net(mac: "02:ca:00:00:01", queuePairs: 1)
    #expect(refused(f) == .invalidMAC("02:ca:00:00:01"))
    f.kind = .net(mac: "02:ca:00:00:01:10", queuePairs: 0)
    #expect(refused(f) == .invalidQueuePairs(0))
    f = nic
    f.path = .vhostUser(socket: "/tmp/x.sock,server=on")
    #expect(refused(f) == .invalidSocketPath("/tmp/x.sock,server=on"))
    f.path = .vdpa(managementDevice: "pci/0000:03:20.0")
    #expect(refused(f) == .invalidManagementDevice("pci/0000:03:20.0"), "device 0x20 is past 31")
    f.path = .pci(address: "0000:03:00.8")
    #expect(refused(f) == .invalidPCIAddress("0000:03:00.8"))
    #expect(HostDriverError.noFreeSlot(guest: "a1").description.contains("dpuctl guest detach"))
  }

  @Test func jsonStringsAreEscaped() {
    #expect(QMPValue.string("a\"b\\c\n\u{1}").json == #""a\"b\\c\n\u0001""#)
  }

  @Test func rootPortsHaveDistinctChassisAndSlots() {
    #expect(
      FunctionPlan.rootPortArguments(count: 2) == [
        "-device", "pcie-root-port,id=bh-port0,chassis=1,slot=1", "-device",
        "pcie-root-port,id=bh-port1,chassis=2,slot=2",
      ])
  }
}
