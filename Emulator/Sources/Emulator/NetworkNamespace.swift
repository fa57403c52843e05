import Foundation

/// A Linux network namespace made for a test or the emulated rack, with
/// links (veth pairs, bridges, TAPs) made inside it. Deleting the namespace
/// deletes every link in it; a veth pair whose peer sits in another
/// namespace goes with it. `delete()` runs on deinit, so nothing is left
/// behind when the owner goes away.
public final class NetworkNamespace: @unchecked Sendable {
  public let name: String
  private var isDeleted = false

  /// Creates namespace `name` with its loopback up. A stale namespace of
  /// the same name (from a run that was killed) is deleted first.
  public init(_ name: String) throws {
    self.name = name
    _ = try? HostCommand.run(["ip", "netns", "delete", name])
    try HostCommand.run(["ip", "netns", "add", name])
    try run(["ip", "link", "set", "lo", "up"])
  }

  deinit { delete() }

  /// Runs a command inside the namespace.
  @discardableResult
  public func run(_ command: [String]) throws -> HostCommand.Result {
    try HostCommand.run(["ip", "netns", "exec", name] + command)
  }

  /// A veth pair: `name` here, `peer` in `peerNamespace` (or here too).
  public func addVethPair(_ name: String, peer: String, peerNamespace: NetworkNamespace? = nil)
    throws
  {
    try run(["ip", "link", "add", name, "type", "veth", "peer", "name", peer])
    if let peerNamespace {
      try run(["ip", "link", "set", peer, "netns", peerNamespace.name])
      try peerNamespace.run(["ip", "link", "set", peer, "up"])
    } else {
      try run(["ip", "link", "set", peer, "up"])
    }
    try run(["ip", "link", "set", name, "up"])
  }

  public func addBridge(_ name: String) throws {
    try run(["ip", "link", "add", name, "type", "bridge"])
    try run(["ip", "link", "set", name, "up"])
  }

  /// A TAP device for a guest NIC (`-netdev tap,ifname=`).
  public func addTap(_ name: String) throws {
    try run(["ip", "tuntap", "add", "dev", name, "mode", "tap"])
    try run(["ip", "link", "set", name, "up"])
  }

  public func attach(_ link: String, toBridge bridge: String) throws {
    try run(["ip", "link", "set", link, "master", bridge])
  }

  /// Adds an address in CIDR form, e.g. "10.0.0.1/24".
  public func addAddress(_ cidr: String, to link: String) throws {
    try run(["ip", "addr", "add", cidr, "dev", link])
  }

  /// Lets the namespace outlive this object (a rack's namespaces stay
  /// until `dpuctl emu down`).
  public func keep() { isDeleted = true }

  /// Deletes the namespace and everything in it; safe to call twice.
  public func delete() {
    guard !isDeleted else { return }
    isDeleted = true
    _ = try? HostCommand.run(["ip", "netns", "delete", name])
  }

  /// Names of the namespaces that exist now (to check that none leaked).
  public static func existing() throws -> [String] {
    try HostCommand.run(["ip", "netns", "list"]).output
      .split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
  }
}
