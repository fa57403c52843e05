// bulkhead-vhost-user: serves virtio-net devices over vhost-user, one per
// socket path, all from one epoll loop.
//
//   bulkhead-vhost-user SOCKET [SOCKET...]
//
// Each socket gets its own device with MAC 52:54:00:00:00:NN (NN = its
// position, from 1). QEMU connects as the client:
//   -chardev socket,id=c0,path=SOCKET,reconnect-ms=1000
//   -netdev vhost-user,id=n0,chardev=c0 -device virtio-net-pci,netdev=n0
// Runs until killed. Logs one line per connect, refusal and disconnect.
import Glibc
import Platform
import VhostUser
import VhostUserBackend

ProcessSignals.lineBufferStandardOutput()
let paths = Array(CommandLine.arguments.dropFirst())
if paths.isEmpty || paths.contains("--help") {
  print("usage: bulkhead-vhost-user SOCKET [SOCKET...]")
  exit(paths.isEmpty ? 2 : 0)
}
do {
  let server = try VhostUserServer<LinkOnlyNetDevice>()
  for (i, path) in paths.enumerated() {
    try server.addEndpoint(path: path, device: LinkOnlyNetDevice(mac: [0x52, 0x54, 0, 0, 0, UInt8(i + 1)]))
    print("bulkhead-vhost-user: listening on " + path)
  }
  print("bulkhead-vhost-user: pid " + String(ProcessSignals.processID) + " ready")
  try server.run { false }
} catch {
  print("bulkhead-vhost-user: " + error.description)
  exit(1)
}
