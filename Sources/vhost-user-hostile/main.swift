// vhost-user-hostile: a hostile vhost-user front-end. Connects to a
// back-end's socket and sends malformed messages (bad headers and sizes,
// unknown requests, hostile memory tables, missing or surplus descriptors,
// rings outside memory, looping and oversized descriptor chains), one
// attack per connection, and reports what the back-end answered.
//
//   vhost-user-hostile SOCKET
//
// Exit status 0 when every answer was a sound one and the back-end still
// serves a well-behaved front-end at the end; 1 otherwise.
import Glibc
import Platform
import VhostUser
import VhostUserBackend

ProcessSignals.lineBufferStandardOutput()
guard CommandLine.arguments.count == 2 else {
  print("usage: vhost-user-hostile SOCKET")
  exit(2)
}
let path = CommandLine.arguments[1]
try? ProcessSignals.ignoreBrokenPipe()
var unsound = 0
for attack in attacks {
  let result: Answer
  do throws(VhostUserFrontend.FrontendError) { result = try attack.run(path) } catch {
    result = error == .closed ? .disconnected : .failed(error.description)
  }
  let sound = attack.acceptable.contains(result)
  if !sound { unsound += 1 }
  print("attack " + attack.name + ": " + result.description + (sound ? "" : "  <-- UNEXPECTED"))
}
// The back-end must still serve a well-behaved front-end.
var alive = false
do throws(VhostUserFrontend.FrontendError) {
  let f = try negotiatedFrontend(path)
  alive = stillAnswers(f) == .carriedOn
  f.close()
} catch {}
print("back-end still serves: " + (alive ? "yes" : "NO"))
print("hostile: " + String(attacks.count) + " attacks, " + String(unsound) + " unexpected answers")
exit(unsound == 0 && alive ? 0 : 1)
