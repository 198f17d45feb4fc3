import OmniTensor

/// The instruction tasks Omni trains on, looked up by name and filtered by modality.
///
/// ``builtIn`` holds over 70 FLAN-style tasks across every modality — captioning, visual, audio and
/// video question answering, cross-modal retrieval queries and matching, classification, counting,
/// comparison, localisation, transcription, radiology report drafting, defect explanation, sensor
/// analysis, summarisation — each with five phrasings. `omni data tasks` lists them.
///
/// ```swift
/// let registry = TaskRegistry.builtIn
/// registry.tasks(using: .audio).map(\.name)          // audio_captioning, speech_transcription, …
/// let r = try registry.render("object_counting", values: ["object": "bolts", "count": "4"],
///                             generator: Generator(seed: 0))
/// ```
public struct TaskRegistry: Sendable {
    /// The tasks in registration order.
    public let tasks: [InstructionTask]
    let index: [String: Int]

    /// A registry of `tasks`; throws when a task is invalid (see ``InstructionTask/validate()``) or
    /// two share a name.
    public init(tasks: [InstructionTask]) throws(TemplateError) {
        var index: [String: Int] = [:]
        for (i, task) in tasks.enumerated() {
            try task.validate()
            guard index[task.name] == nil else { throw TemplateError(.invalidTask, task: task.name, "registered twice") }
            index[task.name] = i
        }
        self.tasks = tasks
        self.index = index
    }

    /// Task names in registration order.
    public var names: [String] { tasks.map(\.name) }

    /// The task called `name`; throws ``TemplateError`` (`unknownTask`) otherwise.
    public func task(named name: String) throws(TemplateError) -> InstructionTask {
        guard let i = index[name] else {
            let near = names.filter { $0.contains(name) || name.contains($0) }.prefix(5)
            let hint = near.isEmpty ? "" : " (did you mean \(near.joined(separator: ", "))?)"
            throw TemplateError(.unknownTask, task: name, "no such task\(hint)")
        }
        return tasks[i]
    }

    /// The tasks that need `modality`.
    public func tasks(using modality: Modality) -> [InstructionTask] { tasks.filter { $0.uses(modality) } }

    /// The tasks of `category`.
    public func tasks(in category: TaskCategory) -> [InstructionTask] { tasks.filter { $0.category == category } }

    /// Renders task `name` with a phrasing chosen from `generator` (see
    /// ``InstructionTask/render(_:generator:)``).
    public func render(_ name: String, values: [String: String], generator: Generator) throws(TemplateError) -> RenderedInstruction {
        try task(named: name).render(values, generator: generator)
    }

    /// Renders phrasing `phrasing` of task `name`.
    public func render(_ name: String, values: [String: String], phrasing: Int) throws(TemplateError) -> RenderedInstruction {
        try task(named: name).render(values, phrasing: phrasing)
    }

    /// How ``formatOptions(_:style:)`` lists answer options.
    public enum OptionStyle: Sendable, Equatable {
        /// `- a` per line, as FLAN's `OPTIONS:` blocks.
        case dashes
        /// `A. a`, `B. b`, … per line.
        case letters
    }

    /// Answer options as one block for an `{options}` placeholder.
    public static func formatOptions(_ options: [String], style: OptionStyle = .dashes) -> String {
        options.enumerated().map { i, o in
            switch style {
            case .dashes: return "- \(o)"
            case .letters:
                let letter = i < 26 ? String(UnicodeScalar(UInt8(65 + i))) : "(\(i + 1))"
                return "\(letter). \(o)"
            }
        }.joined(separator: "\n")
    }

    /// The built-in tasks.
    public static let builtIn: TaskRegistry = {
        do {
            return try TaskRegistry(tasks: visionTasks + audioTasks + videoTasks + retrievalTasks + medicalTasks
                                    + industrialTasks + textTasks)
        } catch {
            preconditionFailure("TaskRegistry.builtIn: \(error)")
        }
    }()
}
