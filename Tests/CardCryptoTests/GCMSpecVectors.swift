// D. McGrew and J. Viega, "The Galois/Counter Mode of Operation (GCM)",
// revised submission to NIST, 2005, Appendix B "AES Test Vectors": test
// cases 1-6 (AES-128) and 13-18 (AES-256). Cases 5 and 17 use an 8-byte
// IV and 6 and 18 a 60-byte IV, which exercise GCM's GHASH-derived initial
// counter (SP 800-38D §7.1 step 2).

struct GCMVector: Sendable, CustomStringConvertible {
  let testCase: Int
  let key: String
  let iv: String
  let plaintext: String
  let aad: String
  let ciphertext: String
  let tag: String
  var description: String { "GCM spec test case \(testCase)" }
}

private let zero128 = "00000000000000000000000000000000"
private let zero256 = zero128 + zero128
private let zeroIV = "000000000000000000000000"
private let key128 = "feffe9928665731c6d6a8f9467308308"
private let key256 = key128 + key128
private let plaintext64 =
  "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
  + "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"
// Cases 4-6 and 16-18 drop the last 4 bytes.
private let plaintext60 = String(plaintext64.dropLast(8))
private let aad20 = "feedfacedeadbeeffeedfacedeadbeefabaddad2"
private let iv12 = "cafebabefacedbaddecaf888"
private let iv8 = "cafebabefacedbad"
private let iv60 =
  "9313225df88406e555909c5aff5269aa6a7a9538534f7da1e4c303d2a318a728"
  + "c3c0c95156809539fcf0e2429a6b525416aedbf5a0de6a57a637b39b"

let gcmSpecVectors: [GCMVector] = [
  GCMVector(
    testCase: 1, key: zero128, iv: zeroIV, plaintext: "", aad: "", ciphertext: "",
    tag: "58e2fccefa7e3061367f1d57a4e7455a"),
  GCMVector(
    testCase: 2, key: zero128, iv: zeroIV, plaintext: zero128, aad: "",
    ciphertext: "0388dace60b6a392f328c2b971b2fe78", tag: "ab6e47d42cec13bdf53a67b21257bddf"),
  GCMVector(
    testCase: 3, key: key128, iv: iv12, plaintext: plaintext64, aad: "",
    ciphertext: "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
      + "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
    tag: "4d5c2af327cd64a62cf35abd2ba6fab4"),
  GCMVector(
    testCase: 4, key: key128, iv: iv12, plaintext: plaintext60, aad: aad20,
    ciphertext: "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
      + "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
    tag: "5bc94fbc3221a5db94fae95ae7121a47"),
  GCMVector(
    testCase: 5, key: key128, iv: iv8, plaintext: plaintext60, aad: aad20,
    ciphertext: "61353b4c2806934a777ff51fa22a4755699b2a714fcdc6f83766e5f97b6c7423"
      + "73806900e49f24b22b097544d4896b424989b5e1ebac0f07c23f4598",
    tag: "3612d2e79e3b0785561be14aaca2fccb"),
  GCMVector(
    testCase: 6, key: key128, iv: iv60, plaintext: plaintext60, aad: aad20,
    ciphertext: "8ce24998625615b603a033aca13fb894be9112a5c3a211a8ba262a3cca7e2ca7"
      + "01e4a9a4fba43c90ccdcb281d48c7c6fd62875d2aca417034c34aee5",
    tag: "619cc5aefffe0bfa462af43c1699d050"),
  GCMVector(
    testCase: 13, key: zero256, iv: zeroIV, plaintext: "", aad: "", ciphertext: "",
    tag: "530f8afbc74536b9a963b4f1c4cb738b"),
  GCMVector(
    testCase: 14, key: zero256, iv: zeroIV, plaintext: zero128, aad: "",
    ciphertext: "cea7403d4d606b6e074ec5d3baf39d18", tag: "d0d1c8a799996bf0265b98b5d48ab919"),
  GCMVector(
    testCase: 15, key: key256, iv: iv12, plaintext: plaintext64, aad: "",
    ciphertext: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
      + "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
    tag: "b094dac5d93471bdec1a502270e3cc6c"),
  GCMVector(
    testCase: 16, key: key256, iv: iv12, plaintext: plaintext60, aad: aad20,
    ciphertext: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
      + "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
    tag: "76fc6ece0f4e1768cddf8853bb2d551b"),
  GCMVector(
    testCase: 17, key: key256, iv: iv8, plaintext: plaintext60, aad: aad20,
    ciphertext: "c3762df1ca787d32ae47c13bf19844cbaf1ae14d0b976afac52ff7d79bba9de0"
      + "feb582d33934a4f0954cc2363bc73f7862ac430e64abe499f47c9b1f",
    tag: "3a337dbf46a792c45e454913fe2ea8f2"),
  GCMVector(
    testCase: 18, key: key256, iv: iv60, plaintext: plaintext60, aad: aad20,
    ciphertext: "5a8def2f0c9e53f1f75d7853659e2a20eeb2b22aafde6419a058ab4f6f746bf4"
      + "0fc0c3b780f244452da3ebf1c5d82cdea2418997200ef82e44ae7e3f",
    tag: "a44a8266ee1c8eb0c8b5d4cf5ae9f19a"),
]
