// Built-in text-only instruction tasks: classification, summarisation, reading comprehension and
// paraphrase.
extension TaskRegistry {
    static let textTasks: [InstructionTask] = [
        InstructionTask(
            name: "text_classification", category: .classification, modalities: [.text],
            summary: "The class of a text among given labels.",
            phrasings: [
                .init("{text}\n\nWhich category fits this text?\nOPTIONS:\n{options}", "{label}"),
                .init("Classify the text.\nText: {text}\nLabels:\n{options}", "{label}"),
                .init("Text: {text}\nPick one label:\n{options}\nLabel:", "{label}"),
                .init("What is this text about? Choose from:\n{options}\n\n{text}", "{label}"),
                .init("Assign a category to \"{text}\".\n{options}", "{label}"),
            ]),
        InstructionTask(
            name: "text_summarization", category: .summarization, modalities: [.text],
            summary: "A short summary of a passage.",
            phrasings: [
                .init("Summarise:\n{text}", "{summary}"),
                .init("{text}\n\nWrite a one-sentence summary of the text above.", "{summary}"),
                .init("Give the gist of this passage.\n{text}", "{summary}"),
                .init("Text: {text}\nSummary:", "{summary}"),
                .init("Condense the following into a few words:\n{text}", "{summary}"),
            ]),
        InstructionTask(
            name: "reading_comprehension", category: .questionAnswering, modalities: [.text],
            summary: "An answer to a question about a passage.",
            phrasings: [
                .init("{context}\n\nQuestion: {question}\nAnswer:", "{answer}"),
                .init("Read the text and answer the question.\nText: {context}\nQuestion: {question}", "{answer}"),
                .init("Answer based on the passage.\n{context}\nQ: {question}\nA:", "{answer}"),
                .init("{question}\nUse this context: {context}", "{answer}"),
                .init("Context: {context}\n\n{question}", "{answer}"),
            ]),
        InstructionTask(
            name: "paraphrasing", category: .generation, modalities: [.text],
            summary: "The same content in other words.",
            phrasings: [
                .init("Paraphrase: {text}", "{paraphrase}"),
                .init("Rewrite the sentence in other words.\n{text}", "{paraphrase}"),
                .init("Say the same thing differently: \"{text}\"", "{paraphrase}"),
                .init("{text}\n\nRephrase the text above.", "{paraphrase}"),
                .init("Give another way to express this: {text}", "{paraphrase}"),
            ]),
        InstructionTask(
            name: "caption_to_question", category: .generation, modalities: [.text],
            summary: "A question answered by a given caption.",
            phrasings: [
                .init("Caption: {caption}\nWrite a question that this caption answers.", "{question}"),
                .init("What question could \"{caption}\" be the answer to?", "{question}"),
                .init("{caption}\n\nAsk a question about the description above.", "{question}"),
                .init("Turn this description into a question: {caption}", "{question}"),
                .init("Generate a question whose answer is in the sentence \"{caption}\".", "{question}"),
            ]),
    ]
}
