import CardAgent
import CardTLS

/// The card agent's pieces that run without a controller: OpenSSL's TLS
/// library is linked and answers, the waker's eventfd works, backoff stays
/// in bounds, and a missing state file means "no state" rather than an error.
func runCardAgentChecks() -> Int {
  var failures = 0
  for check in [checkTLSContextRefusesMissingFiles, checkWaker, checkBackoff, checkMissingStateFile] {
    let (name, passed) = check()
    print("card-agent: " + name + (passed ? " ok" : " FAILED"))
    if !passed { failures += 1 }
  }
  return failures
}

private func checkTLSContextRefusesMissingFiles() -> (String, Bool) {
  do throws(TLSError) {
    _ = try TLSContext(
      role: .client, certificateAuthorityPath: "/nonexistent/ca.crt", certificatePath: "/nonexistent/c.crt",
      privateKeyPath: "/nonexistent/c.key")
    return ("TLS context without files refused", false)
  } catch {
    guard case .configuration = error else { return ("TLS context without files refused", false) }
    return ("TLS context without files refused", true)
  }
}

private func checkWaker() -> (String, Bool) {
  do throws(TLSError) {
    let waker = try Waker()
    let quiet = waker.wait(timeoutMilliseconds: 0)
    waker.signal()
    return ("waker signals", !quiet && waker.wait(timeoutMilliseconds: 1_000))
  } catch {
    return ("waker signals", false)
  }
}

private func checkBackoff() -> (String, Bool) {
  var backoff = ReconnectBackoff(initialMilliseconds: 100, maximumMilliseconds: 1_000, seed: 3)
  var inBounds = true
  for attempt in 0..<10 {
    let delay = backoff.nextDelayMilliseconds()
    let ceiling = min(UInt32(100) << UInt32(attempt), 1_000)
    if delay < ceiling / 2 || delay > ceiling { inBounds = false }
  }
  return ("reconnect backoff within bounds", inBounds)
}

private func checkMissingStateFile() -> (String, Bool) {
  do throws(StateFileError) {
    return ("missing state file is no state", try StateFile(path: "/nonexistent/card.state").load() == nil)
  } catch {
    return ("missing state file is no state", false)
  }
}
