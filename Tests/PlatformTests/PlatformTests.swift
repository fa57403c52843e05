import Platform
import Testing

@Suite struct PlatformTests {
  @Test func eventNotifierCountsAndDrains() throws {
    let notifier = try EventNotifier()
    defer { try? notifier.close() }
    #expect(try notifier.drain() == 0)
    try notifier.signal()
    try notifier.signal()
    #expect(try notifier.drain() == 2)
  }

  @Test func sharedMappingsOfOneMemfdAgree() throws {
    let file = try MemoryFile.create(name: "test", size: 16384)
    defer { try? file.close() }
    let a = try SharedMapping(fd: file, length: 16384)
    let b = try SharedMapping(fd: file, length: 4096, offset: 4096)
    a.pointer.storeBytes(of: 0x1234_5678, toByteOffset: 4096, as: UInt32.self)
    #expect(b.pointer.load(as: UInt32.self) == 0x1234_5678)
    try a.unmap()
    try b.unmap()
  }

  @Test func descriptorsBeyondCapacityAreClosedAndCounted() throws {
    let (left, right) = try UnixSocket.pair()
    defer {
      try? left.close()
      try? right.close()
    }
    let notifiers = try (0..<10).map { _ in try EventNotifier() }
    defer { for n in notifiers { try? n.close() } }
    let raw = notifiers.map { $0.fd.rawValue }
    let bytes: [UInt8] = [1, 2, 3]
    let sent = try bytes.withUnsafeBytes { b in
      try raw.withUnsafeBufferPointer { try UnixSocket.send(left, b, fds: $0) }
    }
    #expect(sent == 3)
    var into = [UInt8](repeating: 0, count: 16)
    var fds = [Int32](repeating: -1, count: 8)
    let got = try into.withUnsafeMutableBytes { b in
      try fds.withUnsafeMutableBufferPointer { try UnixSocket.receive(right, into: b, fds: $0) }
    }
    #expect(got.byteCount == 3 && got.fdCount == 8 && got.droppedFDCount == 2)
    #expect(Array(into[0..<3]) == bytes)
    for fd in fds { try FileDescriptor(rawValue: fd).close() }
  }

  @Test func unixSocketListenConnectAccept() throws {
    let path = "/tmp/bulkhead-platform-\(ProcessSignals.processID).sock"
    UnixSocket.unlink(path: path)
    let listener = try UnixSocket.listen(path: path)
    defer {
      try? listener.close()
      UnixSocket.unlink(path: path)
    }
    let client = try UnixSocket.connect(path: path)
    let server = try UnixSocket.accept(listener)
    defer {
      try? client.close()
      try? server.close()
    }
    let message: [UInt8] = [9, 8, 7]
    #expect(try message.withUnsafeBytes { try client.write($0) } == 3)
    var into = [UInt8](repeating: 0, count: 3)
    #expect(try into.withUnsafeMutableBytes { try server.read(into: $0) } == 3)
    #expect(into == message)
    #expect(throws: SystemError.self) { try UnixSocket.connect(path: path + ".missing") }
  }

  @Test func epollReportsReadyTokens() throws {
    let epoll = try Epoll()
    defer { try? epoll.close() }
    let a = try EventNotifier()
    let b = try EventNotifier()
    defer {
      try? a.close()
      try? b.close()
    }
    try epoll.add(a.fd, events: .readable, token: 11)
    try epoll.add(b.fd, events: .readable, token: 22)
    #expect(try epoll.wait(timeoutMilliseconds: 0) { _ in } == 0)
    try b.signal()
    var tokens: [UInt64] = []
    #expect(try epoll.wait(timeoutMilliseconds: 1000) { tokens.append($0.token) } == 1)
    #expect(tokens == [22])
    epoll.remove(b.fd)
    #expect(try epoll.wait(timeoutMilliseconds: 0) { _ in } == 0)
  }

  @Test func pipeCarriesBytesAndClockMoves() throws {
    let pipe = try Pipe()
    defer {
      try? pipe.readEnd.close()
      try? pipe.writeEnd.close()
    }
    try pipe.readEnd.setNonblocking()
    var into = [UInt8](repeating: 0, count: 4)
    #expect(throws: SystemError.self) { try into.withUnsafeMutableBytes { try pipe.readEnd.read(into: $0) } }
    #expect(try [UInt8(5)].withUnsafeBytes { try pipe.writeEnd.write($0) } == 1)
    #expect(try into.withUnsafeMutableBytes { try pipe.readEnd.read(into: $0) } == 1)
    let t0 = MonotonicClock.nanoseconds
    #expect(MonotonicClock.nanoseconds >= t0)
    try ProcessSignals.ignoreBrokenPipe()
  }
}
