/// The special tokens around a single sequence, as a `tokenizer.json` post-processor gives them
/// (`TemplateProcessing` `[CLS] $A [SEP]`, `BertProcessing`, `RobertaProcessing`).
struct SpecialTokenTemplate: Sendable, Equatable {
    var prefix: [Int] = []
    var suffix: [Int] = []

    func apply(_ ids: [Int]) -> [Int] { prefix + ids + suffix }

    /// This template inside `outer` (a `Sequence` of post-processors applies them in order).
    func wrapped(in outer: SpecialTokenTemplate) -> SpecialTokenTemplate {
        SpecialTokenTemplate(prefix: outer.prefix + prefix, suffix: suffix + outer.suffix)
    }
}
