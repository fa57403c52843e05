import CCardCrypto

public enum CardCryptoPlaceholder { public static func version() -> Int { Int(ccc_version()) } }
