import Foundation
import Testing

@testable import Emulator

extension Guests {
  @Suite struct NetworkNamespaceTests {
    @Test func linksLiveInTheNamespaceAndGoWithIt() throws {
      let name = GuestFixture.unique("nsa")
      let peerName = GuestFixture.unique("nsb")
      do {
        let namespace = try NetworkNamespace(name)
        let peer = try NetworkNamespace(peerName)
        try namespace.addBridge("br0")
        try namespace.addVethPair("veth0", peer: "veth1", peerNamespace: peer)
        try namespace.attach("veth0", toBridge: "br0")
        try namespace.addAddress("10.0.3.1/24", to: "br0")
        try peer.addAddress("10.0.3.2/24", to: "veth1")
        try namespace.addTap("tap0")

        let links = try namespace.run(["ip", "-o", "link"]).output
        #expect(links.contains("veth0@"))
        #expect(links.contains("master br0"))
        #expect(links.contains("tap0:"))
        // The pair carries traffic between the two namespaces.
        try peer.run(["busybox", "ping", "-c", "1", "-W", "2", "10.0.3.1"])
        #expect(try NetworkNamespace.existing().contains(name))
      }
      // Both objects are gone: so are their namespaces and every link in them.
      let left = try NetworkNamespace.existing()
      #expect(!left.contains(name))
      #expect(!left.contains(peerName))
    }

    /// QEMU started inside a namespace with a TAP NIC: the guest reaches an
    /// address on the namespace's side of the TAP.
    @Test func guestInANamespacePingsOverATap() throws {
      let image = try GuestFixture.image.get()
      let directory = try GuestFixture.directory("tap")
      let namespace = try NetworkNamespace(GuestFixture.unique("tap"))
      defer { namespace.delete() }
      try namespace.addTap("tap0")
      try namespace.addAddress("10.0.4.1/24", to: "tap0")

      var configuration = GuestConfiguration(
        name: "tap", image: image,
        scenario: """
          ip addr add 10.0.4.2/24 dev eth0
          ip link set eth0 up
          step ping ping -c 3 -W 5 10.0.4.1
          """)
      configuration.namespace = namespace.name
      configuration.nics = [GuestNIC(.tap(ifname: "tap0"), mac: "52:54:00:00:04:02")]
      let outcome = try Guest(configuration, directory: directory).waitUntilDone(timeout: 60)

      #expect(outcome.status == 0, "console:\n\(outcome.consoleLog)")
      #expect(outcome.results.contains { $0["step"] == "ping" && $0["ok"] == "true" })
    }
  }
}
