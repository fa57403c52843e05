/// What a session has seen; the server logs them and keeps totals.
public struct SessionCounters: Equatable, Sendable {
  public var messages: UInt64 = 0
  /// Messages refused with a typed error (malformed or not allowed now).
  public var refused: UInt64 = 0
  /// Descriptors closed because a refused or surplus message carried them.
  public var descriptorsClosed: UInt64 = 0
  /// Rings started, and how many of them resumed from the used index in
  /// guest memory rather than the base the front-end gave.
  public var ringsStarted: UInt64 = 0
  public var ringsResumedFromUsedIndex: UInt64 = 0
  /// Packed rings started from the resume record rather than the base the
  /// front-end gave, and live record entries the ring contradicted
  /// (ignored: the front-end's base was used).
  public var ringsResumedFromRecord: UInt64 = 0
  public var resumeRecordsRejected: UInt64 = 0
  /// The last refusal, for the log.
  public var lastError: VhostUserError? = nil

  public init() {}
}
