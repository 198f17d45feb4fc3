// Instruction prompts for the instruct stage and for inference: a sample's task rendered through
// the task registry's FLAN-style templates.
import OmniData
import OmniTensor

public enum InstructionPrompt {
    /// The input prompt for `sample`'s task, phrased by `phrasing` (nil: drawn from `generator`).
    /// Tasks the registry does not know, or samples missing a value, fall back to the sample's own
    /// input text.
    public static func text(for sample: PreparedSample, registry: TaskRegistry = .builtIn,
                            phrasing: Int? = nil, generator: Generator? = nil) -> String {
        let target = sample.targetText ?? ""
        var values: [String: String] = ["caption": target, "transcript": target, "answer": target, "label": target]
        if let q = sample.inputText { values["question"] = q }
        if sample.task == "vibration_fault_classification" || sample.task == "defect_classification" {
            values["options"] = TaskRegistry.formatOptions(MachineCondition.allCases.map(\.rawValue))
        }
        guard let task = try? registry.task(named: sample.task) else { return sample.inputText ?? "" }
        let rendered: RenderedInstruction?
        if let phrasing {
            rendered = try? task.render(values, phrasing: phrasing % task.phrasings.count)
        } else if let generator {
            rendered = try? task.render(values, generator: generator)
        } else {
            rendered = try? task.render(values, phrasing: 0)
        }
        return rendered?.input ?? sample.inputText ?? ""
    }
}
