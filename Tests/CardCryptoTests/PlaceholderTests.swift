import Testing

@testable import CardCrypto

@Test func version() { #expect(CardCryptoPlaceholder.version() > 0) }
