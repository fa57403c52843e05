// The firmware self-test: every check group runs on the card (or under
// qemu-aarch64) and prints one line per check; any failure exits with 1.

/// libc's exit(3); Glibc cannot be imported in Embedded Swift.
/// (Declared returning Void: `Never` has no C representation.)
@_extern(c, "exit") func exitProcess(_ status: Int32)

print("bulkhead firmware self-test")
// Each group returns its failure count; add new groups to the sum.
let failures =
  runWireChecks() + runCryptoChecks() + runDataPlaneChecks() + runManagementChecks()
  + runCardAgentChecks() + runPlatformChecks() + runVhostUserChecks() + runVirtioChecks()
  + runVolumeChecks()
if failures > 0 {
  print("self-test: " + String(failures) + " check(s) FAILED")
  exitProcess(1)
} else {
  print("self-test: all checks passed")
}
