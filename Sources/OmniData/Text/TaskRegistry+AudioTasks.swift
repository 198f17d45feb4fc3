// Built-in instruction tasks on audio: captions, transcription, questions, sound classes, spoken
// digits and keywords, counting, timing and comparison.
extension TaskRegistry {
    static let audioTasks: [InstructionTask] = [
        InstructionTask(
            name: "audio_captioning", category: .captioning, modalities: [.audio],
            summary: "One-sentence description of what a recording sounds like.",
            phrasings: [
                .init("Describe the audio in one sentence.", "{caption}"),
                .init("What can be heard in this recording?", "{caption}"),
                .init("Write a short caption for the sound clip.", "{caption}"),
                .init("Listen to the audio and summarise what happens in it.", "{caption}"),
                .init("Caption this recording.", "{caption}"),
            ]),
        InstructionTask(
            name: "speech_transcription", category: .transcription, modalities: [.audio],
            summary: "The words spoken in a recording.",
            phrasings: [
                .init("Transcribe the speech.", "{transcript}"),
                .init("Write down exactly what is said in the recording.", "{transcript}"),
                .init("What does the speaker say?", "{transcript}"),
                .init("Convert this audio to text.", "{transcript}"),
                .init("Listen and transcribe word for word.", "{transcript}"),
            ]),
        InstructionTask(
            name: "audio_question_answering", category: .questionAnswering, modalities: [.audio],
            summary: "A free-form answer to a question about a recording.",
            phrasings: [
                .init("{question}", "{answer}"),
                .init("Answer the question about the audio: {question}", "{answer}"),
                .init("Listen to the recording.\nQuestion: {question}\nAnswer:", "{answer}"),
                .init("Q: {question}\nA:", "{answer}"),
                .init("Based on what you hear, {question}", "{answer}"),
            ]),
        InstructionTask(
            name: "sound_event_classification", category: .classification, modalities: [.audio],
            summary: "The class of the main sound in a recording among given labels.",
            phrasings: [
                .init("Which sound is this?\nOPTIONS:\n{options}", "{label}"),
                .init("Classify the audio clip into one of these categories:\n{options}", "{label}"),
                .init("What is making the sound? Choose from:\n{options}", "{label}"),
                .init("Listen and pick the label that fits best.\n{options}\nLabel:", "{label}"),
                .init("Identify the sound event.\nCandidates:\n{options}", "The sound is {label}."),
            ]),
        InstructionTask(
            name: "spoken_digit_recognition", category: .classification, modalities: [.audio],
            summary: "The digit a speaker says.",
            phrasings: [
                .init("Which digit is spoken?", "{label}"),
                .init("The speaker says a number from zero to nine. Which one?", "{label}"),
                .init("Write the spoken digit as a numeral.", "{label}"),
                .init("Recognise the digit in this recording.", "{label}"),
                .init("Q: What digit do you hear?\nA:", "{label}"),
            ]),
        InstructionTask(
            name: "keyword_spotting", category: .detection, modalities: [.audio],
            summary: "Whether a keyword is spoken in a recording (yes/no).",
            phrasings: [
                .init("Is the word \"{keyword}\" spoken in this recording?", "{answer}"),
                .init("Does the speaker say \"{keyword}\"? Answer yes or no.", "{answer}"),
                .init("Listen for the keyword \"{keyword}\". Is it there?", "{answer}"),
                .init("Q: Can the word \"{keyword}\" be heard?\nA:", "{answer}"),
                .init("Detect whether \"{keyword}\" occurs in the audio.", "{answer}"),
            ]),
        InstructionTask(
            name: "audio_event_counting", category: .counting, modalities: [.audio],
            summary: "How many times a sound event occurs in a recording.",
            phrasings: [
                .init("How many times do you hear a {event}?", "{count}"),
                .init("Count the {event} sounds in the recording.", "{count}"),
                .init("How often does a {event} occur in this audio?", "{count} times"),
                .init("Listen and count each {event}.", "{count}"),
                .init("Q: What is the number of {event} sounds?\nA:", "{count}"),
            ]),
        InstructionTask(
            name: "speaker_counting", category: .counting, modalities: [.audio],
            summary: "How many different people speak in a recording.",
            phrasings: [
                .init("How many different speakers are in this recording?", "{count}"),
                .init("Count the distinct voices you hear.", "{count}"),
                .init("How many people talk in the audio?", "{count}"),
                .init("Q: What is the number of speakers?\nA:", "{count}"),
                .init("Listen and say how many people are speaking.", "There are {count} speakers."),
            ]),
        InstructionTask(
            name: "audio_clip_comparison", category: .comparison, modalities: [.audio],
            summary: "How two recordings differ and what they share.",
            phrasings: [
                .init("Compare the two recordings.", "{comparison}"),
                .init("How does the second audio clip differ from the first?", "{comparison}"),
                .init("Describe what the two sounds have in common and how they differ.", "{comparison}"),
                .init("Listen to both clips and compare them.", "{comparison}"),
                .init("Write a short comparison of recording 1 and recording 2.", "{comparison}"),
            ]),
        InstructionTask(
            name: "audio_event_timing", category: .localization, modalities: [.audio],
            summary: "When a sound event starts and ends in a recording.",
            phrasings: [
                .init("When does the {event} happen in the recording?", "From {start} s to {end} s."),
                .init("Give the start and end time of the {event}.", "{start}–{end} s"),
                .init("At what time does the {event} begin and stop?", "It begins at {start} s and stops at {end} s."),
                .init("Locate the {event} in time.", "{start} s to {end} s"),
                .init("Q: Between which seconds is the {event} heard?\nA:", "{start}-{end}"),
            ]),
    ]
}
