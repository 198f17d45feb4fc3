// De-identification (PS3.15 E.1 Basic Profile): no profile attribute keeps its original value,
// anywhere in the data set; private attributes are gone; UIDs are replaced consistently; pixels
// are untouched.
import Foundation
import Testing
@testable import OmniData

@Suite struct DICOMAnonymizerTests {
    /// Every tag of the original (top level) with a value, and every nested occurrence.
    func check(_ name: String) throws {
        let path = try #require(dicomAsset(name))
        let original = try DICOMFile(contentsOfFile: path)
        let data = try DICOMAnonymizer.anonymize(Data(contentsOf: URL(fileURLWithPath: path)), path: path)
        let anonymized = try DICOMFile(data: data, path: "anonymized \(name)")

        var checked = 0
        let allTags = Set(original.tags)
        for rule in DICOMProfileRule.basicProfile {
            // the tags this rule covers that occur at the top level, plus the exact tag (may be nested)
            var tags = allTags.filter { rule.matches($0) }
            if rule.groupMask == 0xFFFF && rule.elementMask == 0xFFFF { tags.insert(DICOMTag(rule.group, rule.element)) }
            for tag in tags {
                let before = original.stringsAnywhere(tag).filter { !$0.isEmpty }
                guard !before.isEmpty else { continue }
                let after = anonymized.stringsAnywhere(tag)
                checked += 1
                for value in before where after.contains(value) {
                    Issue.record("\(name): \(tag) \(rule.keyword) (\(rule.action.rawValue)) kept its value '\(value)'")
                }
                if rule.resolvedAction == "X" {
                    #expect(!anonymized.containsAnywhere(tag), "\(name): \(tag) \(rule.keyword) should be removed")
                }
            }
        }
        #expect(checked >= 5, "\(name): only \(checked) profile attributes had values")
        #expect(!anonymized.containsPrivateElements, "\(name): private attributes remain")
        #expect(anonymized.string(DICOMTag(0x0012, 0x0062)) == "YES")
        #expect(anonymized.string(DICOMTag(0x0012, 0x0063)) == DICOMAnonymizer.methodDescription)
        // UIDs: new, valid, and the file meta follows the SOP Instance UID
        let sop = try #require(anonymized.string(.sopInstanceUID))
        #expect(sop != original.string(.sopInstanceUID) && !sop.isEmpty)
        #expect(sop.allSatisfy { $0.isNumber || $0 == "." } && sop.count <= 64)
        #expect(anonymized.string(DICOMTag(0x0002, 0x0003)) == sop)
        #expect(anonymized.string(DICOMTag(0x0008, 0x0016)) == original.string(DICOMTag(0x0008, 0x0016)), "SOP Class UID is kept")
        // pixels untouched, transfer syntax unchanged
        #expect(anonymized.metadata.transferSyntaxUID == original.metadata.transferSyntaxUID)
        #expect(try anonymized.pixels().bytes == original.pixels().bytes, "\(name): pixel data changed")
    }

    @Test(arguments: ["CT_small.dcm", "MR_small.dcm", "US1_J2KR.dcm", "emri_small_RLE.dcm", "rtdose.dcm"])
    func basicProfileLeavesNoOriginalValue(_ name: String) throws {
        try check(name)
    }

    @Test func uidsAreConsistentWithinAFile() throws {
        // rtdose.dcm references its frame of reference and RT plan; one old UID → one new UID
        let path = try #require(dicomAsset("rtdose.dcm"))
        let original = try DICOMFile(contentsOfFile: path)
        let anonymized = try DICOMFile(data: DICOMAnonymizer.anonymize(Data(contentsOf: URL(fileURLWithPath: path))))
        var mapping: [String: String] = [:]
        for rule in DICOMProfileRule.basicProfile where rule.action == .uid {
            let tag = DICOMTag(rule.group, rule.element)
            let before = original.stringsAnywhere(tag), after = anonymized.stringsAnywhere(tag)
            #expect(before.count == after.count, "\(tag) \(rule.keyword): \(before.count) → \(after.count) occurrences")
            for (old, new) in zip(before, after) where !old.isEmpty {
                if let seen = mapping[old] { #expect(seen == new, "\(old) became both \(seen) and \(new)") }
                mapping[old] = new
                #expect(old != new)
            }
        }
        #expect(mapping.count >= 3, "only \(mapping.count) UIDs found")
        // two runs give different UIDs (no fixed mapping across files)
        let again = try DICOMFile(data: DICOMAnonymizer.anonymize(Data(contentsOf: URL(fileURLWithPath: path))))
        #expect(again.string(.sopInstanceUID) != anonymized.string(.sopInstanceUID))
    }

    @Test func profileTableIsWellFormed() {
        let rules = DICOMProfileRule.basicProfile
        #expect(rules.count > 600)
        let exact = rules.filter { $0.groupMask == 0xFFFF && $0.elementMask == 0xFFFF }
        #expect(Set(exact.map { DICOMTag($0.group, $0.element) }).count == exact.count, "duplicate tags in the table")
        func action(_ g: UInt16, _ e: UInt16) -> String? { rules.first { $0.matches(DICOMTag(g, e)) }?.action.rawValue }
        #expect(action(0x0010, 0x0010) == "Z")      // Patient's Name
        #expect(action(0x0010, 0x0020) == "Z")      // Patient ID
        #expect(action(0x0008, 0x0018) == "U")      // SOP Instance UID
        #expect(action(0x0008, 0x0080) == "X/Z/D")  // Institution Name
        #expect(action(0x6002, 0x3000) == "X")      // Overlay Data, repeating group
        #expect(action(0x5004, 0x0010) == "X")      // Curve data, any element of 50xx
        #expect(action(0x0028, 0x0010) == nil)      // Rows: not in the profile
    }

    @Test func writesAtomicallyToAFile() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.cleanup() }
        let input = try #require(dicomAsset("MR_small.dcm"))
        let output = scratch.path("anon.dcm")
        try DICOMAnonymizer.anonymize(contentsOfFile: input, to: output)
        let file = try DICOMFile(contentsOfFile: output)
        #expect(file.metadata.patient.name == "")
        #expect(throws: DICOMError.self) { try DICOMAnonymizer.anonymize(contentsOfFile: input, to: scratch.path("no/such/dir/x.dcm")) }
    }
}
