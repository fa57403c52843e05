import CardCrypto
import Wire

print("bulkhead firmware self-test")
let v = CardCryptoPlaceholder.version()
if v > 0 { print("ok") }
