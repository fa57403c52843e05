/// Boards an image can be built for. The name goes into the manifest and a
/// card refuses an image for another board.
public struct Board: Equatable, Sendable, CustomStringConvertible {
  public var name: String
  public var summary: String

  /// The emulated card: qemu-system-aarch64 -M virt -cpu cortex-a72.
  public static let emulated = Board(name: "qemu-virt-a72", summary: "emulated card (QEMU virt, Cortex-A72)")
  public static let bluefield2 = Board(
    name: "bluefield-2", summary: "NVIDIA BlueField-2 (Cortex-A72), over rshim")
  public static let bluefield3 = Board(
    name: "bluefield-3", summary: "NVIDIA BlueField-3 (Cortex-A78), over rshim")
  public static let all = [emulated, bluefield2, bluefield3]

  public static func named(_ name: String) throws(FirmwareImageError) -> Board {
    guard let board = all.first(where: { $0.name == name }) else {
      throw .card(reason: "unknown board '\(name)'; known boards: \(all.map(\.name).joined(separator: ", "))")
    }
    return board
  }

  public var description: String { name }
}
