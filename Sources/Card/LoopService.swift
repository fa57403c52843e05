import Platform

/// Work the run loop does besides moving frames: a host function that is
/// not a packet port (a virtio-blk volume served over vhost-user). The loop
/// gives each service one non-blocking turn per pass, wakes on its
/// descriptor, and does not sleep while it says work is pending. Called
/// once per loop pass, never per packet; class-bound, so the loop holds a
/// list of them without a value existential.
public protocol LoopService: AnyObject {
  /// One non-blocking turn: handle what is ready, then return.
  func serviceOnce()
  /// Readable when the service has something to do, for the loop's epoll.
  var wakeDescriptor: FileDescriptor? { get }
  /// Before the loop sleeps: true if the service must be turned again
  /// first (it is polling a busy ring whose notifications are off).
  func prepareToSleep() -> Bool
}
