import Testing

@testable import Emulator

@Test func resultLineWithFields() {
  #expect(
    ConsoleLine("BULKHEAD step=ping ok=true rc=0\r")
      == .result(["step": "ping", "ok": "true", "rc": "0"]))
}

@Test func readyAndDoneLines() {
  #expect(ConsoleLine("BULKHEAD-READY uptime=2.41") == .ready(uptimeSeconds: 2.41))
  #expect(ConsoleLine("BULKHEAD-DONE rc=3\r") == .done(status: 3))
}

@Test func aDoneLineWithoutStatusIsNotTheEnd() {
  #expect(ConsoleLine("BULKHEAD-DONE") == .other)
  #expect(ConsoleLine("BULKHEAD-DONE rc=x") == .other)
}

@Test func kernelMessagesAndOtherOutputAreOther() {
  #expect(ConsoleLine("[    0.123] reboot: Power down") == .other)
  #expect(ConsoleLine("") == .other)
  #expect(ConsoleLine("BULKHEADS a=1") == .other)
  #expect(ConsoleLine("xBULKHEAD a=1") == .other)
}

@Test func valueMayHoldEqualsSignsAndBareWordsAreKeys() {
  #expect(ConsoleLine("BULKHEAD cmd=a=b flag") == .result(["cmd": "a=b", "flag": ""]))
}
