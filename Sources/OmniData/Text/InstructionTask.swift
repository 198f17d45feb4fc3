import Foundation
import OmniTensor

/// An instruction-tuning task: a name, what kind of job it is, the modalities it needs and several
/// phrasings (input and target templates) of the same request, FLAN style — training on many
/// phrasings keeps the model from keying on one wording.
///
/// `modalities` lists the inputs a sample of the task must carry besides the instruction text:
/// `.image`, `.audio`, `.video`, `.dicom`, `.signal`, and `.text` when the task reads a text
/// document (a report, a maintenance log, a passage) rather than only a question.
///
/// Every phrasing of a built-in task uses the same placeholders, so one set of values renders any
/// of them. ``render(_:generator:)`` checks all of the task's placeholders before drawing, so
/// whether it succeeds never depends on the seed.
///
/// ```swift
/// let task = try TaskRegistry.builtIn.task(named: "visual_question_answering")
/// let r = try task.render(["question": "How many bolts are missing?", "answer": "two"], generator: Generator(seed: 3))
/// print(r.input, "→", r.target)
/// ```
public struct InstructionTask: Sendable, Equatable, Codable {
    public let name: String
    public let category: TaskCategory
    public let modalities: [Modality]
    /// One line on what the task is.
    public let summary: String
    public let phrasings: [InstructionTemplate]

    public init(name: String, category: TaskCategory, modalities: [Modality], summary: String, phrasings: [InstructionTemplate]) {
        self.name = name
        self.category = category
        self.modalities = modalities
        self.summary = summary
        self.phrasings = phrasings
    }

    /// Every placeholder used by any phrasing, in order of first appearance.
    public var placeholders: [String] {
        var all: [String] = []
        for p in phrasings { for n in p.placeholders where !all.contains(n) { all.append(n) } }
        return all
    }

    /// Whether the task needs `modality`.
    public func uses(_ modality: Modality) -> Bool { modalities.contains(modality) }

    /// Checks the definition: a snake_case name, at least one phrasing, well-formed templates, a
    /// non-empty target and at least one modality.
    public func validate() throws(TemplateError) {
        guard let first = name.first, first.isASCII, first.isLowercase,
              name.allSatisfy({ $0 == "_" || ($0.isASCII && ($0.isLowercase || $0.isNumber)) }) else {
            throw TemplateError(.invalidTask, task: name, "names are snake_case (a-z, 0-9, _)")
        }
        guard !phrasings.isEmpty else { throw TemplateError(.invalidTask, task: name, "has no phrasings") }
        guard !modalities.isEmpty else { throw TemplateError(.invalidTask, task: name, "needs at least one modality") }
        for (i, p) in phrasings.enumerated() {
            do { try p.validate() } catch { throw TemplateError(error.kind, task: name, phrasing: i, error.message) }
            guard !p.target.trimmingCharacters(in: .whitespaces).isEmpty, !p.input.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw TemplateError(.invalidTask, task: name, phrasing: i, "empty input or target template")
            }
        }
    }

    /// Renders phrasing `phrasing` (0-based) with `values`.
    public func render(_ values: [String: String], phrasing: Int) throws(TemplateError) -> RenderedInstruction {
        guard phrasing >= 0 && phrasing < phrasings.count else {
            throw TemplateError(.invalidTask, task: name, "phrasing \(phrasing) out of range (\(phrasings.count) phrasings)")
        }
        do {
            let (input, target) = try phrasings[phrasing].render(values)
            return RenderedInstruction(task: name, phrasing: phrasing, input: input, target: target)
        } catch {
            throw TemplateError(error.kind, task: name, phrasing: phrasing, error.message)
        }
    }

    /// Renders a phrasing chosen uniformly with one `generator.nextInt(below: phrasings.count)`,
    /// after checking that `values` has every placeholder of the task.
    public func render(_ values: [String: String], generator: Generator) throws(TemplateError) -> RenderedInstruction {
        let missing = placeholders.filter { values[$0] == nil }
        guard missing.isEmpty else {
            throw TemplateError(.missingValue, task: name, "no value for " + missing.map { "{\($0)}" }.joined(separator: ", "))
        }
        return try render(values, phrasing: generator.nextInt(below: phrasings.count))
    }
}
