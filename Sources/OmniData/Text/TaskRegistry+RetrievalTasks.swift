// Built-in cross-modal retrieval tasks: search queries across modalities, matching and choosing the
// caption that fits. `{match}` is the identifier (or caption) of the item that should be retrieved.
extension TaskRegistry {
    static let retrievalTasks: [InstructionTask] = [
        InstructionTask(
            name: "text_to_image_retrieval", category: .retrieval, modalities: [.image, .text],
            summary: "Find the image that matches a text query.",
            phrasings: [
                .init("Find the image that best matches: {query}", "{match}"),
                .init("Retrieve a picture of {query}.", "{match}"),
                .init("Search the images for \"{query}\".", "{match}"),
                .init("Which image shows {query}?", "{match}"),
                .init("Query: {query}\nReturn the matching image.", "{match}"),
            ]),
        InstructionTask(
            name: "text_to_audio_retrieval", category: .retrieval, modalities: [.audio, .text],
            summary: "Find the recording that matches a text query.",
            phrasings: [
                .init("Find the recording that best matches: {query}", "{match}"),
                .init("Retrieve a sound of {query}.", "{match}"),
                .init("Search the audio clips for \"{query}\".", "{match}"),
                .init("Which recording contains {query}?", "{match}"),
                .init("Query: {query}\nReturn the matching audio.", "{match}"),
            ]),
        InstructionTask(
            name: "text_to_video_retrieval", category: .retrieval, modalities: [.video, .text],
            summary: "Find the video that matches a text query.",
            phrasings: [
                .init("Find the video that best matches: {query}", "{match}"),
                .init("Retrieve a clip showing {query}.", "{match}"),
                .init("Search the videos for \"{query}\".", "{match}"),
                .init("Which video shows {query}?", "{match}"),
                .init("Query: {query}\nReturn the matching video.", "{match}"),
            ]),
        InstructionTask(
            name: "image_to_text_retrieval", category: .retrieval, modalities: [.image],
            summary: "Choose the caption that describes an image.",
            phrasings: [
                .init("Which caption describes the image?\nOPTIONS:\n{options}", "{answer}"),
                .init("Pick the sentence that matches the picture.\n{options}", "{answer}"),
                .init("Select the best description of this photo from:\n{options}", "{answer}"),
                .init("Match the image to one of these captions:\n{options}\nAnswer:", "{answer}"),
                .init("Which of the following texts belongs to the image?\n{options}", "{answer}"),
            ]),
        InstructionTask(
            name: "audio_to_text_retrieval", category: .retrieval, modalities: [.audio],
            summary: "Choose the caption that describes a recording.",
            phrasings: [
                .init("Which caption describes the recording?\nOPTIONS:\n{options}", "{answer}"),
                .init("Pick the sentence that matches the sound.\n{options}", "{answer}"),
                .init("Select the best description of this audio from:\n{options}", "{answer}"),
                .init("Match the clip to one of these captions:\n{options}\nAnswer:", "{answer}"),
                .init("Which of the following texts belongs to the recording?\n{options}", "{answer}"),
            ]),
        InstructionTask(
            name: "image_text_matching", category: .retrieval, modalities: [.image, .text],
            summary: "Whether a caption fits an image (yes/no).",
            phrasings: [
                .init("Does the caption \"{caption}\" describe this image?", "{answer}"),
                .init("Caption: {caption}\nIs this a correct description of the picture? Answer yes or no.", "{answer}"),
                .init("Do the image and the text \"{caption}\" match?", "{answer}"),
                .init("Q: Is \"{caption}\" a good caption for the photo?\nA:", "{answer}"),
                .init("Decide whether the text fits the image: {caption}", "{answer}"),
            ]),
        InstructionTask(
            name: "audio_text_matching", category: .retrieval, modalities: [.audio, .text],
            summary: "Whether a caption fits a recording (yes/no).",
            phrasings: [
                .init("Does the caption \"{caption}\" describe this recording?", "{answer}"),
                .init("Caption: {caption}\nIs this a correct description of the sound? Answer yes or no.", "{answer}"),
                .init("Do the audio and the text \"{caption}\" match?", "{answer}"),
                .init("Q: Is \"{caption}\" a good caption for the clip?\nA:", "{answer}"),
                .init("Decide whether the text fits the audio: {caption}", "{answer}"),
            ]),
        InstructionTask(
            name: "image_audio_matching", category: .retrieval, modalities: [.image, .audio],
            summary: "Whether a sound could come from the scene in an image (yes/no).",
            phrasings: [
                .init("Could this sound come from the scene in the image?", "{answer}"),
                .init("Do the picture and the recording belong together? Answer yes or no.", "{answer}"),
                .init("Is the audio consistent with what the image shows?", "{answer}"),
                .init("Q: Does the sound match the picture?\nA:", "{answer}"),
                .init("Decide whether the image and the sound describe the same thing.", "{answer}"),
            ]),
        InstructionTask(
            name: "retrieval_query_generation", category: .generation, modalities: [.image],
            summary: "A search query that would find an image.",
            phrasings: [
                .init("Write a search query that would find this image.", "{query}"),
                .init("What would someone type to search for this picture?", "{query}"),
                .init("Give a short query that retrieves this photo.", "{query}"),
                .init("Suggest search keywords for the image.", "{query}"),
                .init("Create a text query that matches the image.", "{query}"),
            ]),
    ]
}
