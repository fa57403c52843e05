// Feeds arbitrary bytes to the management-channel decoders. Anything a card
// or controller peer sends must decode or throw, never trap; what decodes
// must re-encode to a frame that decodes to the same message.
import Management

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  if let message = try? ManagementMessage.decodeFrame(bytes[...]) {
    guard let again = try? ManagementMessage.decodeFrame(try! message.encodeFrame()[...]), again == message
    else { fatalError("round trip changed a decoded message") }
  }
  // The same bytes as a stream cut into two pieces.
  var stream = FrameStreamDecoder(payloadLimit: 4096)
  stream.append(bytes.prefix(size / 2))
  _ = try? stream.nextMessage()
  stream.append(bytes.dropFirst(size / 2))
  while let message = try? stream.nextMessage() {
    _ = message
  }
  return 0
}
