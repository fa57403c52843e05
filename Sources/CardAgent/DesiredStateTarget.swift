import Management

/// What the card agent applies desired state to: the firmware's run loop
/// implements it (replacing its tables at a batch boundary), tests use a
/// recording double. `apply` must be all or nothing: on a thrown error the
/// previous state stays in force.
public protocol DesiredStateTarget {
  mutating func apply(_ state: DesiredState) throws(ApplyFailure)
}

/// Why a card could not put a generation in force; sent to the controller
/// as an `ErrorReport` with this code and text.
public struct ApplyFailure: Error, Equatable {
  public var code: ErrorReport.Code
  public var message: String

  public init(code: ErrorReport.Code = .cannotApply, message: String) {
    self.code = code
    self.message = message
  }
}
