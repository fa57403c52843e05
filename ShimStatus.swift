import CCardCrypto

/// Maps the C shim's status codes to `CryptoError`. `authentication` is the
/// error a failed integrity check means for the calling operation.
@inline(__always)
func check(_ status: Int32, authentication: CryptoError) throws(CryptoError) {
  switch status {
  case CCC_OK: return
  case CCC_ERR_AUTHENTICATION: throw authentication
  case CCC_ERR_MEMORY: throw .outOfMemory
  case CCC_ERR_WEAK_KEY: throw .weakKey
  case CCC_ERR_RANDOM: throw .randomUnavailable
  default: throw .backendFailure
  }
}
