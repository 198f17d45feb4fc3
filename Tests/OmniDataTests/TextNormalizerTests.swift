// Text normalisation: NFC/NFKC against the Unicode decompositions written out here, control and
// format character removal, whitespace, and strict UTF-8 with errors naming source, line and offset
// (validity checked against the standard library's own validating decoder on random bytes).
import Foundation
import Testing
import OmniTensor
@testable import OmniData

@Suite struct TextNormalizerTests {
    func scalars(_ s: String) -> [UInt32] { s.unicodeScalars.map(\.value) }

    @Test func normalForms() {
        let nfc = TextNormalizer(form: .nfc, whitespace: .keep)
        #expect(scalars(nfc.normalize("Cafe\u{301}")) == [0x43, 0x61, 0x66, 0xE9])
        #expect(scalars(nfc.normalize("\u{212B}")) == [0xC5])                      // Ångström sign → Å
        #expect(nfc.normalize("ﬁ ①") == "ﬁ ①")                                     // compatibility forms stay
        let nfkc = TextNormalizer(form: .nfkc, whitespace: .keep)
        #expect(nfkc.normalize("ﬁle ① ＡＢＣ x²") == "file 1 ABC x2")
        #expect(scalars(nfkc.normalize("e\u{301}\u{A0}")) == [0xE9, 0x20])
        #expect(TextNormalizer(form: .none, whitespace: .keep).normalize("e\u{301}") == "e\u{301}")
    }

    @Test func controlsAndWhitespace() {
        let n = TextNormalizer()
        #expect(n.normalize("  Cafe\u{301}\u{200B}  au\tlait \n") == "Café au lait")
        #expect(n.normalize("a\u{0}b\u{7}c\u{FEFF}d\u{AD}e") == "abcde")
        #expect(n.normalize("a\u{0B}b\u{85}c\u{2028}d") == "a b c d")              // whitespace controls separate words
        #expect(scalars(n.normalize("👩\u{200D}💻")) == [0x1F469, 0x200D, 0x1F4BB]) // ZWJ kept
        #expect(TextNormalizer(removesControlCharacters: false).normalize("a\u{200B}b") == "a\u{200B}b")
        let lines = TextNormalizer(whitespace: .collapsePreservingNewlines)
        #expect(lines.normalize("  first  line \r\nsecond\t line\r\n\r\n\n\n third ") == "first line\nsecond line\n\nthird")
        #expect(TextNormalizer(whitespace: .keep).normalize(" a  b ") == " a  b ")
    }

    @Test func invalidUTF8NamesSourceLineAndOffset() throws {
        let cases: [([UInt8], Int, Int, String)] = [
            (Array("ab\ncd".utf8) + [0xFF], 5, 2, "byte 0xFF never appears"),
            (Array("x\ny\nz ".utf8) + [0xE2, 0x82], 6, 3, "truncated by the end"),
            ([0x61, 0xC0, 0xAF], 1, 1, "overlong"),
            ([0xE0, 0x80, 0xAF], 0, 1, "overlong"),
            ([0xED, 0xA0, 0x80], 0, 1, "surrogate"),
            ([0xF4, 0x90, 0x80, 0x80], 0, 1, "above U+10FFFF"),
            ([0x80, 0x61], 0, 1, "unexpected continuation byte 0x80"),
            ([0xE2, 0x28, 0xA1, 0x61], 0, 1, "truncated"),
            ([0xF0, 0x9F, 0x98, 0x41], 0, 1, "truncated"),
        ]
        for (bytes, offset, line, fragment) in cases {
            do {
                _ = try TextNormalizer().normalize(bytes, source: "notes.txt")
                Issue.record("\(bytes) should be rejected")
            } catch {
                #expect(error.source == "notes.txt" && error.offset == offset && error.line == line, "\(bytes): \(error)")
                #expect(error.message.contains(fragment), "\(error)")
                #expect(error.description.hasPrefix("notes.txt:\(line): invalid UTF-8"))
            }
        }
        // Valid input decodes, a BOM is dropped.
        #expect(try TextNormalizer().normalize([0xEF, 0xBB, 0xBF] + Array("Größe €5 😀".utf8), source: "s") == "Größe €5 😀")
    }

    @Test func validatorAgreesWithTheStandardLibrary() {
        // Random byte strings biased towards UTF-8 lead and continuation bytes.
        let g = Generator(seed: 2024)
        let pool: [UInt8] = [0x41, 0x0A, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xED, 0xEE,
                             0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF]
        var rejected = 0
        for _ in 0..<4000 {
            let bytes = (0..<(1 + g.nextInt(below: 6))).map { _ in pool[g.nextInt(below: pool.count)] }
            let ours = bytes.withUnsafeBufferPointer { UTF8Validation.firstError(in: $0) }
            let std = String(validating: bytes, as: UTF8.self)
            #expect((ours == nil) == (std != nil), "\(bytes.map { String($0, radix: 16) }): ours \(String(describing: ours)), stdlib \(String(describing: std))")
            if ours != nil { rejected += 1 }
        }
        #expect(rejected > 1000 && rejected < 4000)
    }

    @Test func files() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appending(path: "ok.txt").path
        FileManager.default.createFile(atPath: good, contents: Data("Line  one\u{200B}\n".utf8))
        #expect(try TextNormalizer().normalize(contentsOf: good) == "Line one")
        let bad = dir.appending(path: "latin1.txt").path
        FileManager.default.createFile(atPath: bad, contents: Data([0x47, 0x72, 0xF6, 0xDF, 0x65]))      // "Größe" in Latin-1
        #expect(throws: TextError.self) { _ = try TextNormalizer().normalize(contentsOf: bad) }
        do { _ = try TextNormalizer().normalize(contentsOf: bad) } catch { #expect(error.source == bad && error.offset == 2) }
        do { _ = try TextNormalizer().normalize(contentsOf: dir.appending(path: "none.txt").path) } catch {
            #expect(error.source.hasSuffix("none.txt") && error.message.contains("cannot be opened"))
        }
        do { _ = try TextNormalizer().normalize(contentsOf: good, maxBytes: 4) } catch { #expect(error.message.contains("4-byte limit")) }
    }
}
