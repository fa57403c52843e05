import Testing
import VirtioDriver

@testable import Virtio

/// Used-buffer notification and available-buffer kick suppression
/// (virtio 1.2 §2.7.7, §2.7.10, §2.8.10), both sides as Linux does them.
@Suite struct NotificationTests {
  @Test func eventIndexMath() {
    // Notify when event is in [old, new).
    #expect(needsEvent(event: 5, new: 6, old: 5))
    #expect(!needsEvent(event: 6, new: 6, old: 5))
    #expect(needsEvent(event: 65535, new: 1, old: 65534))
    #expect(needsEvent(event: 0, new: 1, old: 65534))
    #expect(!needsEvent(event: 1, new: 1, old: 65534))
    #expect(!needsEvent(event: 65533, new: 1, old: 65534))
  }

  func completeOne(_ f: SplitFixture) throws {
    _ = f.driver.add([.writable(f.data, 64)])
    f.queue.complete(try #require(try f.queue.nextChain()), writtenLength: 1)
  }

  @Test(arguments: [UInt16(0), 65534, 65535])
  func splitUsedEventAcrossWrap(start: UInt16) throws {
    let f = try SplitFixture(startIndex: start)
    f.driver.enableInterrupts()
    try completeOne(f)
    #expect(f.queue.needsNotification())
    // The driver has not moved used_event: one interrupt per enable.
    try completeOne(f)
    #expect(!f.queue.needsNotification())
    // Interrupt once the device passes start + 4.
    f.driver.setUsedEvent(start &+ 4)
    try completeOne(f)
    try completeOne(f)
    #expect(!f.queue.needsNotification())
    try completeOne(f)
    #expect(f.queue.needsNotification())
    #expect(!f.queue.needsNotification())  // nothing new
    #expect(f.queue.counters.notificationsNeeded == 2)
  }

  @Test func splitNoInterruptFlag() throws {
    let f = try SplitFixture(features: [.version1])
    f.driver.disableInterrupts()
    try completeOne(f)
    #expect(!f.queue.needsNotification())
    f.driver.enableInterrupts()
    try completeOne(f)
    #expect(f.queue.needsNotification())
  }

  @Test func splitKickSuppressionWithoutEventIndex() throws {
    let f = try SplitFixture(features: [.version1])
    f.queue.disableNotifications()
    _ = f.driver.add([.readable(f.data, 4)])
    #expect(!f.driver.needsKick())
    #expect(f.queue.enableNotifications())  // a buffer is waiting: poll again
    _ = f.driver.add([.readable(f.data, 4)])
    #expect(f.driver.needsKick())
  }

  @Test func splitKickSuppressionWithEventIndex() throws {
    let f = try SplitFixture(startIndex: 65535)
    #expect(!f.queue.enableNotifications())
    _ = f.driver.add([.readable(f.data, 4)])
    #expect(f.driver.needsKick())
    // The device has not caught up: further adds need no kick.
    _ = f.driver.add([.readable(f.data, 4)])
    #expect(!f.driver.needsKick())
    // Draining re-arms avail_event.
    while let c = try f.queue.nextChain() { f.queue.complete(c, writtenLength: 0) }
    #expect(f.driver.availEvent == 1)
    _ = f.driver.add([.readable(f.data, 4)])
    #expect(f.driver.needsKick())
  }

  func completeOne(_ f: PackedFixture, slots: Int = 1) throws {
    let buffers = [DriverBuffer](repeating: .writable(f.data, 64), count: slots)
    _ = f.driver.add(buffers)
    f.queue.complete(try #require(try f.queue.nextChain()), writtenLength: 1)
    _ = f.driver.popUsed()
  }

  @Test func packedFlagsEnableAndDisable() throws {
    let f = try PackedFixture(features: [.version1, .ringPacked])
    try completeOne(f)
    #expect(f.queue.needsNotification())
    f.driver.disableInterrupts()
    try completeOne(f)
    #expect(!f.queue.needsNotification())
    #expect(!f.queue.needsNotification())
  }

  @Test func packedDescriptorEventAcrossLaps() throws {
    let f = try PackedFixture(size: 4)
    f.driver.enableInterrupts()
    try completeOne(f)
    #expect(f.queue.needsNotification())
    // Ask for an interrupt once slot 2 of the next lap has been used.
    f.driver.setUsedEvent(slot: 2, wrap: false)
    try completeOne(f, slots: 2)  // slots 1, 2 of lap 1
    #expect(!f.queue.needsNotification())
    try completeOne(f, slots: 2)  // slot 3 of lap 1, slot 0 of lap 2
    #expect(!f.queue.needsNotification())
    try completeOne(f)  // slot 1 of lap 2
    #expect(!f.queue.needsNotification())
    try completeOne(f)  // slot 2 of lap 2: the event slot is used
    #expect(f.queue.needsNotification())
    try completeOne(f)
    #expect(!f.queue.needsNotification())
  }

  @Test func packedKickSuppression() throws {
    let f = try PackedFixture()
    f.queue.disableNotifications()
    _ = f.driver.add([.readable(f.data, 4)])
    #expect(!f.driver.needsKick())
    #expect(f.queue.enableNotifications())
    #expect(f.queue.deviceEventFlagsForTesting == 2)
    while let c = try f.queue.nextChain() { f.queue.complete(c, writtenLength: 0) }
    #expect(!f.queue.enableNotifications())
    _ = f.driver.add([.readable(f.data, 4)])
    #expect(f.driver.needsKick())
  }
}

extension PackedVirtqueue {
  var deviceEventFlagsForTesting: UInt16 { loadLE16(deviceEvent, 2) }
}
