// Bad input: every malformed file yields an ImageError naming the file, never a crash, a hang or
// an unbounded allocation; a seeded mutation run over small valid files checks that broadly.
import Foundation
import Testing
@testable import OmniData
import OmniTensor

@Suite("Image bad input")
struct ImageBadInputTests {
    func bytes(_ path: String) throws -> [UInt8] { try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))) }

    /// Expects decoding to throw an ImageError that names `name` and mentions `fragment`.
    func expectError(_ data: [UInt8], name: String, mentioning fragment: String,
                     sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let image = try Image(data: data, name: name)
            Issue.record("\(name): decoded a \(image.width)x\(image.height) image, expected an error", sourceLocation: sourceLocation)
        } catch {
            #expect(error.file == name, sourceLocation: sourceLocation)
            #expect(error.description.lowercased().contains(fragment.lowercased()),
                    "\(name): message '\(error.message)' does not mention '\(fragment)'", sourceLocation: sourceLocation)
        }
    }

    @Test("empty, missing and directory paths, wrong magic")
    func basics() throws {
        expectError([], name: "empty.png", mentioning: "empty")
        expectError(Array("GIF89a....".utf8), name: "x.gif", mentioning: "not a PNG or JPEG")
        expectError([0x89, 0x50, 0x4E], name: "short.png", mentioning: "not a PNG or JPEG")
        do {
            _ = try Image(contentsOfFile: "/nonexistent/omni/cat.png")
            Issue.record("missing file decoded")
        } catch {
            #expect(error.file == "/nonexistent/omni/cat.png" && error.message.contains("cannot read"))
        }
        do {
            _ = try Image(contentsOfFile: NSTemporaryDirectory())
            Issue.record("directory decoded")
        } catch {
            #expect(error.file == NSTemporaryDirectory())
        }
    }

    @Test("truncated PNG and JPEG files are errors", arguments: ["png_rgb8.png", "png_rgba16_interlaced.png",
                                                                 "png_palette4.png", "jpeg_420.jpg", "jpeg_progressive.jpg",
                                                                 "jpeg_gray.jpg"])
    func truncated(file: String) throws {
        let data = try bytes(imageFixture(file))
        for keep in [8, 20, 33, 60, data.count / 2, data.count - 30] where keep < data.count {
            do {
                _ = try Image(data: Array(data.prefix(keep)), name: file)
                Issue.record("\(file) cut to \(keep) of \(data.count) bytes decoded")
            } catch {
                #expect(error.file == file)
            }
        }
    }

    @Test("absurd header dimensions are refused before allocating")
    func absurdDimensions() throws {
        expectError(try bytes(imageFixture("bad_huge.png")), name: "bad_huge.png", mentioning: "above the limit")
        expectError(try bytes(imageFixture("bad_huge.jpg")), name: "bad_huge.jpg", mentioning: "above the limit")
        #expect(Image.maximumPixelCount == 178_956_970)
    }

    @Test("corrupt PNG chunk data (CRC) and corrupt JPEG data are errors")
    func corrupt() throws {
        var png = try bytes(imageFixture("png_rgb8.png"))
        png[40] ^= 0xFF  // inside IDAT: the chunk CRC no longer matches
        expectError(png, name: "crc.png", mentioning: "crc")
        var jpeg = try bytes(imageFixture("jpeg_444.jpg"))
        let sof = try #require((0..<(jpeg.count - 1)).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
        jpeg[sof + 9] = 7  // 7 components
        do { _ = try Image(data: jpeg, name: "components.jpg"); Issue.record("7-component JPEG decoded") } catch {
            #expect(error.file == "components.jpg")
        }
    }

    @Test("seeded mutations of small valid files decode or throw ImageError, never crash")
    func mutations() throws {
        let files = ["png_rgb8.png", "png_la16.png", "png_palette4_trns.png", "png_rgba16_interlaced.png", "png_gray2.png",
                     "jpeg_gray.jpg", "jpeg_420.jpg", "jpeg_progressive.jpg", "jpeg_cmyk.jpg", "jpeg_orientation_6.jpg"]
        let g = Generator(seed: 2026)
        var decoded = 0, failed = 0
        for file in files {
            let original = try bytes(imageFixture(file))
            for _ in 0..<300 {
                var data = original
                switch g.nextInt(below: 4) {
                case 0:  // flip a few bytes
                    for _ in 0..<(1 + g.nextInt(below: 4)) { data[g.nextInt(below: data.count)] ^= UInt8(1 + g.nextInt(below: 255)) }
                case 1:  // set a byte to an extreme
                    data[g.nextInt(below: data.count)] = [0x00, 0xFF, 0x7F, 0x80][g.nextInt(below: 4)]
                case 2:  // truncate
                    data = Array(data.prefix(g.nextInt(below: data.count)))
                default:  // duplicate or drop a span
                    let at = g.nextInt(below: data.count), len = 1 + g.nextInt(below: 16)
                    if g.nextInt(below: 2) == 0 { data.insert(contentsOf: data[at..<min(at + len, data.count)], at: at) }
                    else { data.removeSubrange(at..<min(at + len, data.count)) }
                }
                do {
                    let image = try Image(data: data, name: file)
                    #expect(image.width * image.height <= Image.maximumPixelCount)
                    decoded += 1
                } catch {
                    #expect(error.file == file)
                    failed += 1
                }
            }
        }
        #expect(decoded + failed == files.count * 300)
        #expect(failed > 500 && decoded > 100, "\(decoded) decoded, \(failed) errors")
    }
}
