// The built-in FLAN-style task registry: at least 50 tasks across the modalities, several distinct
// phrasings each, every template rendering with its placeholders; seeded phrasing choice and the
// errors for unknown tasks, missing values and malformed templates.
import Foundation
import Testing
import OmniTensor
@testable import OmniData

@Suite struct TaskRegistryTests {
    let registry = TaskRegistry.builtIn

    @Test func atLeastFiftyTaskTypesAcrossModalities() throws {
        #expect(registry.tasks.count >= 50, "\(registry.tasks.count) tasks")
        #expect(Set(registry.names).count == registry.tasks.count)
        for modality in Modality.allCases {
            #expect(registry.tasks(using: modality).count >= 5, "\(modality): \(registry.tasks(using: modality).map(\.name))")
        }
        for category in TaskCategory.allCases { #expect(!registry.tasks(in: category).isEmpty, "no \(category) task") }
        // the kinds the issue names
        for name in ["image_captioning", "visual_question_answering", "audio_question_answering", "text_to_image_retrieval",
                     "text_to_audio_retrieval", "image_classification", "radiology_report_drafting", "defect_explanation",
                     "object_counting", "image_pair_comparison", "activity_recognition", "consultation_informed_report"] {
            #expect(registry.names.contains(name), "missing \(name)")
        }
        #expect(try registry.task(named: "consultation_informed_report").modalities == [.dicom, .audio, .text])
    }

    @Test func everyTemplateRendersWithItsPlaceholders() throws {
        var templates = 0
        for task in registry.tasks {
            #expect(task.phrasings.count >= 5, "\(task.name): \(task.phrasings.count) phrasings")
            #expect(Set(task.phrasings.map(\.input)).count == task.phrasings.count, "\(task.name): repeated phrasing")
            #expect(!task.summary.isEmpty && !task.placeholders.isEmpty)
            let names = Set(task.placeholders)
            // A value per placeholder that cannot occur by accident in the template text.
            let values = Dictionary(uniqueKeysWithValues: task.placeholders.map { ($0, "⟨\($0.uppercased())⟩") })
            for (i, phrasing) in task.phrasings.enumerated() {
                #expect(Set(phrasing.placeholders) == names, "\(task.name) phrasing \(i) uses \(phrasing.placeholders), task has \(task.placeholders)")
                #expect(!phrasing.targetPlaceholders.isEmpty, "\(task.name) phrasing \(i): the target has no placeholder")
                let r = try task.render(values, phrasing: i)
                #expect(r.task == task.name && r.phrasing == i)
                for text in [r.input, r.target] {
                    #expect(!text.contains("{") && !text.contains("}"), "\(task.name) phrasing \(i): \(text)")
                }
                for n in phrasing.inputPlaceholders { #expect(r.input.contains("⟨\(n.uppercased())⟩")) }
                for n in phrasing.targetPlaceholders { #expect(r.target.contains("⟨\(n.uppercased())⟩")) }
                // the rendering is the template with each {name} replaced
                var expectedInput = phrasing.input
                for (k, v) in values { expectedInput = expectedInput.replacingOccurrences(of: "{\(k)}", with: v) }
                #expect(r.input == expectedInput)
                templates += 1
            }
        }
        #expect(templates >= 250)
    }

    @Test func seededPhrasingChoice() throws {
        let task = try registry.task(named: "visual_multiple_choice")
        let values = ["question": "What colour is the ball?", "options": TaskRegistry.formatOptions(["red", "blue"]), "answer": "red"]
        var seen = Set<Int>()
        for seed in UInt64(0)..<40 {
            let r = try registry.render("visual_multiple_choice", values: values, generator: Generator(seed: seed))
            let expected = Generator(seed: seed).nextInt(below: task.phrasings.count)
            #expect(r.phrasing == expected)
            #expect(r == (try task.render(values, phrasing: expected)))
            #expect(r.target == "red")
            seen.insert(r.phrasing)
        }
        #expect(seen.count == task.phrasings.count)
        #expect(try registry.render("visual_multiple_choice", values: values, phrasing: 0).input
                == "What colour is the ball?\n\nOPTIONS:\n- red\n- blue")
    }

    @Test func errors() throws {
        do { _ = try registry.task(named: "image_caption") ; Issue.record("expected unknownTask") } catch {
            #expect(error.kind == .unknownTask && error.task == "image_caption" && error.description.contains("image_captioning"))
        }
        do {
            _ = try registry.render("object_counting", values: ["object": "bolts"], generator: Generator(seed: 0))
            Issue.record("expected missingValue")
        } catch {
            #expect(error.kind == .missingValue && error.task == "object_counting")
            #expect(error.description == "task 'object_counting': no value for {count}")
        }
        do { _ = try registry.render("object_counting", values: [:], phrasing: 9); Issue.record("expected a range error") } catch {
            #expect(error.description.contains("phrasing 9 out of range (5 phrasings)"))
        }
        do { _ = try registry.render("object_counting", values: ["count": "3"], phrasing: 1); Issue.record("expected missingValue") } catch {
            #expect(error.kind == .missingValue && error.phrasing == 1 && error.message.contains("{object}"))
        }
        for (template, fragment) in [("Count {object", "unclosed '{'"), ("a } b", "unmatched '}'"), ("{1x}", "not a placeholder name"),
                                     ("{a b}", "not a placeholder name"), ("{}", "not a placeholder name")] {
            let task = InstructionTask(name: "bad_task", category: .counting, modalities: [.image], summary: "x",
                                       phrasings: [.init("ok {x}", "{x}"), .init(template, "{x}")])
            do { _ = try TaskRegistry(tasks: [task]); Issue.record("\(template) should be malformed") } catch {
                #expect(error.kind == .malformedTemplate && error.task == "bad_task" && error.phrasing == 1 && error.message.contains(fragment),
                        "\(error)")
            }
        }
        let good = InstructionTask(name: "braces", category: .generation, modalities: [.text], summary: "x",
                                   phrasings: [.init("JSON {{\"q\": \"{q}\"}}", "{a}")])
        #expect(try good.render(["q": "{a}", "a": "yes"], phrasing: 0).input == "JSON {\"q\": \"{a}\"}")
        do { _ = try TaskRegistry(tasks: [good, good]); Issue.record("duplicate") } catch { #expect(error.message.contains("registered twice")) }
        let badName = InstructionTask(name: "Bad-Name", category: .generation, modalities: [.text], summary: "x", phrasings: [.init("a", "b")])
        do { _ = try TaskRegistry(tasks: [badName]); Issue.record("bad name") } catch { #expect(error.kind == .invalidTask) }
        let noModality = InstructionTask(name: "x", category: .generation, modalities: [], summary: "x", phrasings: [.init("a", "b")])
        do { _ = try TaskRegistry(tasks: [noModality]); Issue.record("no modality") } catch { #expect(error.kind == .invalidTask) }
    }

    @Test func optionFormatting() {
        #expect(TaskRegistry.formatOptions(["crack", "dent"]) == "- crack\n- dent")
        #expect(TaskRegistry.formatOptions(["crack", "dent", "rust"], style: .letters) == "A. crack\nB. dent\nC. rust")
    }
}
