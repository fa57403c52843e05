import CardAgent
import Management

/// A card started without a controller comes back with the last slice one
/// pushed (static stability): read from the agent's state file and put in
/// force through the same translation.
public enum PersistedSlice {
  /// The restored generation; nil when the file holds none. A file that
  /// cannot be read or applied is an error: the card says so and runs its
  /// configuration file's tenants instead.
  public static func restore(path: String, into applier: inout SliceApplier) throws(ApplyFailure) -> UInt64? {
    let state: DesiredState?
    do throws(StateFileError) {
      state = try StateFile(path: path).load()
    } catch {
      throw ApplyFailure(code: .cannotApply, message: error.description)
    }
    guard let state else { return nil }
    try applier.apply(state)
    return state.generation
  }
}
