import VhostUser
import VhostUserBackend

/// The vhost-user codec on the card: a message survives a round trip and a
/// hostile memory table (nine regions) is refused with a typed error.
func runVhostUserChecks() -> Int {
  var failures = 0
  let message = VhostUserMessage.setVringAddress(
    VringAddress(index: 1, descriptorTable: 0x1000, usedRing: 0x3000, availableRing: 0x2000))
  let bytes = message.encoded()
  var roundTrip = false
  do throws(VhostUserError) {
    let header = try MessageHeader(parsing: Array(bytes[0..<MessageHeader.size]))
    let back = try VhostUserMessage.decode(
      header: header, payload: Array(bytes[MessageHeader.size...]), fdCount: 0)
    roundTrip = back == message
  } catch {}
  print("vhost-user: SET_VRING_ADDR round trip" + (roundTrip ? " ok" : " FAILED"))
  if !roundTrip { failures += 1 }

  var table: [UInt8] = [9, 0, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 9 * 32)
  table =
    [
      5, 0, 0, 0, 1, 0, 0, 0, UInt8(truncatingIfNeeded: table.count),
      UInt8(truncatingIfNeeded: table.count >> 8), 0, 0,
    ] + table
  var framer = MessageFramer()
  framer.append(table[...], fds: [][...])
  var refused = false
  do throws(VhostUserError) {
    if let frame = try framer.next() {
      _ = try VhostUserMessage.decode(header: frame.header, payload: frame.payload, fdCount: 9)
    }
  } catch {
    refused = error == .tooManyRegions(count: 9)
  }
  print("vhost-user: nine-region memory table refused" + (refused ? " ok" : " FAILED"))
  if !refused { failures += 1 }
  // The back-end's host shim links on the card.
  _ = PlatformHost()
  return failures
}
