// ESP-shaped AES-GCM cases from D. McGrew, "GCM Test Vectors",
// draft-mcgrew-gcm-test-01 (2005), §4 (the IPsec ESP companion to RFC 4106,
// which itself has no vectors). Each gives the SA's key and 4-byte salt, the
// SPI and sequence number, the 8-byte explicit IV, the inner packet and the
// ESP ciphertext || 16-byte ICV. Per RFC 4106 §4 the nonce is salt || IV;
// per RFC 4106 §5 the AAD is SPI || sequence number (64 bits with ESN).

struct ESPVector: Sendable, CustomStringConvertible {
  let name: String
  let key: String
  let salt: String
  let spi: String
  let sequence: String
  let iv: String
  let plaintext: String
  let ciphertextAndICV: String
  var description: String { name }
}

let espVectors: [ESPVector] = [
  ESPVector(
    name: "AES-128, SPI 0x0000a5f8, 32-bit sequence number",
    key: "feffe9928665731c6d6a8f9467308308", salt: "cafebabe",
    spi: "0000a5f8", sequence: "0000000a", iv: "facedbaddecaf888",
    plaintext: """
      4500003e698f000080114dccc0a80102c0a801010a980035002a2343b2d00100\
      0001000000000000037369700963796265726369747902646b00000100010001
      """,
    ciphertextAndICV: """
      deb22cd9b07c72c16e3a65beeb8df304a5a5897d33ae530f1ba76d5d114d2a5c\
      3de81827c10e9a4f51330d0eec416642cfbb85a5b47e48a4ec3b9ba95d918bd1\
      83b70d3aa8bc6ee4c309e9d85a41ad4a
      """),
  ESPVector(
    name: "AES-128, SPI 0x00004321, 64-bit extended sequence number",
    key: "4c80cdefbb5d10da906ac73c3613a634", salt: "2e443b68",
    spi: "00004321", sequence: "8765432100000000", iv: "4956ed7e3b244cfe",
    plaintext: """
      45000048699a000080114db7c0a80102c0a801010a9bf15638d3010000010000\
      00000000045f736970045f756470037369700963796265726369747902646b00\
      0021000101020201
      """,
    ciphertextAndICV: """
      fecf537e729d5b07dc30df528dd22b768d1b98736696a6fd348509fa13ceac34\
      cfa2436f14a3f3cf65925bf1f4a13c5d15b21e1884f5ff6247aeabb786b93bce\
      61bc17d768fd9732459018148f6cbe722fd04796562dfdb4
      """),
  ESPVector(
    name: "AES-256, SPI 0x4a2cbfe3, 32-bit sequence number",
    key: "abbccddef00112233445566778899aababbccddef00112233445566778899aab", salt: "11223344",
    spi: "4a2cbfe3", sequence: "00000002", iv: "0102030405060708",
    plaintext: """
      4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee000000000\
      7002400020bf0000020405b40101040201020201
      """,
    ciphertextAndICV: """
      ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763\
      748a637985771d347f0545659f14e99def842d8eb335f4eecfdbf831824b4c49\
      15956c96
      """),
]
