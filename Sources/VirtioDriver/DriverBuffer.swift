/// One buffer of a chain as a driver adds it: guest-physical address,
/// length, and whether the device may write it.
public struct DriverBuffer: Equatable {
  public var address: UInt64
  public var length: UInt32
  public var isWritable: Bool

  public init(address: UInt64, length: UInt32, isWritable: Bool) {
    self.address = address
    self.length = length
    self.isWritable = isWritable
  }

  public static func readable(_ address: UInt64, _ length: UInt32) -> DriverBuffer {
    DriverBuffer(address: address, length: length, isWritable: false)
  }

  public static func writable(_ address: UInt64, _ length: UInt32) -> DriverBuffer {
    DriverBuffer(address: address, length: length, isWritable: true)
  }
}

/// A buffer the device has returned: the id the driver gave it and the
/// bytes written.
public struct UsedBuffer: Equatable {
  public var id: UInt16
  public var length: UInt32

  public init(id: UInt16, length: UInt32) {
    self.id = id
    self.length = length
  }
}
