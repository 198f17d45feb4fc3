// Built-in instruction tasks on video: captions, questions, actions, counting, temporal order,
// summaries and whether picture and sound agree.
extension TaskRegistry {
    static let videoTasks: [InstructionTask] = [
        InstructionTask(
            name: "video_captioning", category: .captioning, modalities: [.video],
            summary: "One-sentence description of what happens in a video.",
            phrasings: [
                .init("Describe the video in one sentence.", "{caption}"),
                .init("What happens in this clip?", "{caption}"),
                .init("Write a caption for the video.", "{caption}"),
                .init("Summarise the video's content in a single sentence.", "{caption}"),
                .init("Caption this footage.", "{caption}"),
            ]),
        InstructionTask(
            name: "video_question_answering", category: .questionAnswering, modalities: [.video],
            summary: "A free-form answer to a question about a video.",
            phrasings: [
                .init("{question}", "{answer}"),
                .init("Answer the question about the video: {question}", "{answer}"),
                .init("Watch the clip.\nQuestion: {question}\nAnswer:", "{answer}"),
                .init("Q: {question}\nA:", "{answer}"),
                .init("Based on the video, {question}", "{answer}"),
            ]),
        InstructionTask(
            name: "action_recognition", category: .classification, modalities: [.video],
            summary: "The action performed in a video among given labels.",
            phrasings: [
                .init("Which action is shown in the video?\nOPTIONS:\n{options}", "{label}"),
                .init("What is the person doing? Choose from:\n{options}", "{label}"),
                .init("Classify the activity in this clip.\n{options}", "{label}"),
                .init("Pick the label that describes the action.\nLabels:\n{options}\nAnswer:", "{label}"),
                .init("Recognise the action in the footage among:\n{options}", "The action is {label}."),
            ]),
        InstructionTask(
            name: "video_event_counting", category: .counting, modalities: [.video],
            summary: "How many times an event happens in a video.",
            phrasings: [
                .init("How many times does the {event} happen in the video?", "{count}"),
                .init("Count each {event} in the clip.", "{count}"),
                .init("How often can you see a {event}?", "{count} times"),
                .init("Q: What is the number of {event} events in the footage?\nA:", "{count}"),
                .init("Watch the video and count the {event}.", "{count}"),
            ]),
        InstructionTask(
            name: "video_temporal_ordering", category: .questionAnswering, modalities: [.video],
            summary: "Which of two events happens first in a video.",
            phrasings: [
                .init("Which happens first in the video: {event_a} or {event_b}?", "{answer}"),
                .init("Put these two events in order: {event_a}; {event_b}.", "{answer}"),
                .init("Does {event_a} happen before or after {event_b}?", "{answer}"),
                .init("Q: In the clip, what comes first, {event_a} or {event_b}?\nA:", "{answer}"),
                .init("Watch the video and say whether {event_a} precedes {event_b}.", "{answer}"),
            ]),
        InstructionTask(
            name: "video_summarization", category: .summarization, modalities: [.video],
            summary: "A few sentences summarising a longer video.",
            phrasings: [
                .init("Summarise the video.", "{summary}"),
                .init("Write a short summary of what happens from start to end.", "{summary}"),
                .init("Give an overview of the footage in a few sentences.", "{summary}"),
                .init("What are the main events of this video?", "{summary}"),
                .init("Describe the video's story briefly.", "{summary}"),
            ]),
        InstructionTask(
            name: "audio_visual_correspondence", category: .detection, modalities: [.video, .audio],
            summary: "Whether a video's sound belongs to its pictures (yes/no).",
            phrasings: [
                .init("Does the sound match what is shown in the video?", "{answer}"),
                .init("Is the audio track consistent with the pictures? Answer yes or no.", "{answer}"),
                .init("Could the sound come from the scene in the video?", "{answer}"),
                .init("Q: Do picture and sound belong together?\nA:", "{answer}"),
                .init("Check whether the audio fits the video.", "{answer}"),
            ]),
    ]
}
