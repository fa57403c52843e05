import Platform

/// The system-call shim on the card: an eventfd round trip, a memfd mapped
/// shared twice sees its own writes, and a descriptor crosses a socketpair.
func runPlatformChecks() -> Int {
  var failures = 0
  for check in [checkEventNotifier, checkSharedMemory, checkDescriptorPassing] {
    let (name, passed) = check()
    print("platform: " + name + (passed ? " ok" : " FAILED"))
    if !passed { failures += 1 }
  }
  return failures
}

private func checkEventNotifier() -> (String, Bool) {
  do throws(SystemError) {
    let notifier = try EventNotifier()
    defer { try? notifier.close() }
    try notifier.signal()
    try notifier.signal()
    let first = try notifier.drain()
    let second = try notifier.drain()
    return ("eventfd counts and drains", first == 2 && second == 0)
  } catch {
    return ("eventfd counts and drains", false)
  }
}

private func checkSharedMemory() -> (String, Bool) {
  do throws(SystemError) {
    let file = try MemoryFile.create(name: "selftest", size: 8192)
    defer { try? file.close() }
    let a = try SharedMapping(fd: file, length: 8192)
    let b = try SharedMapping(fd: file, length: 8192, offset: UInt64(SharedMapping.pageSize))
    a.pointer.storeBytes(of: 0xC0FFEE, toByteOffset: SharedMapping.pageSize, as: UInt32.self)
    let seen = b.pointer.load(as: UInt32.self)
    try a.unmap()
    try b.unmap()
    return ("memfd shared mappings agree", seen == 0xC0FFEE)
  } catch {
    return ("memfd shared mappings agree", false)
  }
}

private func checkDescriptorPassing() -> (String, Bool) {
  do throws(SystemError) {
    let (left, right) = try UnixSocket.pair()
    defer {
      try? left.close()
      try? right.close()
    }
    let notifier = try EventNotifier()
    var byte: UInt8 = 7
    var sent = [notifier.fd.rawValue]
    _ = try withUnsafeBytes(of: &byte) { (bytes) throws(SystemError) -> Int in
      try sent.withUnsafeBufferPointer { (fds) throws(SystemError) -> Int in
        try UnixSocket.send(left, bytes, fds: fds)
      }
    }
    try notifier.close()
    var received: UInt8 = 0
    var fds = [Int32](repeating: -1, count: 8)
    let result = try withUnsafeMutableBytes(of: &received) { (bytes) throws(SystemError) in
      try fds.withUnsafeMutableBufferPointer { (buffer) throws(SystemError) in
        try UnixSocket.receive(right, into: bytes, fds: buffer)
      }
    }
    guard result.byteCount == 1, result.fdCount == 1, received == 7 else { return ("fd passing", false) }
    let passed = EventNotifier(adopting: FileDescriptor(rawValue: fds[0]))
    try passed.signal()
    let value = try passed.drain()
    try passed.close()
    sent.removeAll()
    return ("eventfd passed over SCM_RIGHTS", value == 1)
  } catch {
    return ("eventfd passed over SCM_RIGHTS", false)
  }
}
