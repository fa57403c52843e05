import Management

/// The management channel's codec on the card: a heartbeat and an applied
/// report survive a frame round trip, a frame cut short is refused with a
/// typed error, and a stream decoder reassembles frames split at every byte.
func runManagementChecks() -> Int {
  var failures = 0
  for check in [checkRoundTrip, checkTruncated, checkStream] {
    let (name, passed) = check()
    print("management: \(name) \(passed ? "ok" : "FAILED")")
    if !passed { failures += 1 }
  }
  return failures
}

private let heartbeat = ManagementMessage.heartbeat(
  Heartbeat(sequence: 42, appliedGeneration: 7, counters: [.init(id: 1, value: 1_000_000)]))

private func checkRoundTrip() -> (String, Bool) {
  do throws(ManagementError) {
    let frame = try heartbeat.encodeFrame()
    let back = try ManagementMessage.decodeFrame(frame[...])
    return ("heartbeat round trip", back == heartbeat)
  } catch {
    return ("heartbeat round trip", false)
  }
}

private func checkTruncated() -> (String, Bool) {
  do throws(ManagementError) {
    let frame = try ManagementMessage.applied(Applied(generation: 9)).encodeFrame()
    _ = try ManagementMessage.decodeFrame(frame.dropLast())
    return ("truncated frame refused", false)
  } catch {
    return ("truncated frame refused", true)
  }
}

private func checkStream() -> (String, Bool) {
  do throws(ManagementError) {
    let one = try heartbeat.encodeFrame()
    let two = try ManagementMessage.applied(Applied(generation: 3)).encodeFrame()
    var decoder = FrameStreamDecoder()
    var decoded: [ManagementMessage] = []
    for byte in one + two {
      decoder.append([byte])
      while let message = try decoder.nextMessage() { decoded.append(message) }
    }
    return ("stream split at every byte", decoded == [heartbeat, .applied(Applied(generation: 3))])
  } catch {
    return ("stream split at every byte", false)
  }
}
