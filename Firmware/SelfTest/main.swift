import CardCrypto
import Wire

print("bulkhead firmware self-test")
let cryptoFailures = runCryptoChecks()
if cryptoFailures == 0 { print("ok") }
