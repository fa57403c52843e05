import Testing

@testable import Wire

@Test func placeholder() { #expect(1 == 1) }
