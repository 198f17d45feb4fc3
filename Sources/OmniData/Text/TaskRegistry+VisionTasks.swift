// Built-in instruction tasks on still images: captions, questions, recognition of shapes, colours,
// sizes and positions, counting and comparison.
extension TaskRegistry {
    static let visionTasks: [InstructionTask] = [
        InstructionTask(
            name: "image_captioning", category: .captioning, modalities: [.image],
            summary: "One-sentence caption of an image.",
            phrasings: [
                .init("Write a short caption for this image.", "{caption}"),
                .init("Describe the picture in one sentence.", "{caption}"),
                .init("What does this image show? Answer with a single sentence.", "{caption}"),
                .init("Caption the photo.", "{caption}"),
                .init("Give a brief description of what can be seen in the image.", "{caption}"),
            ]),
        InstructionTask(
            name: "detailed_image_description", category: .captioning, modalities: [.image],
            summary: "A paragraph describing every notable object, colour and position in an image.",
            phrasings: [
                .init("Describe this image in detail, mentioning each object, its colour and where it is.", "{description}"),
                .init("Give a thorough description of the picture.", "{description}"),
                .init("What is in this image? Be as detailed as you can.", "{description}"),
                .init("Write a detailed paragraph about everything visible in the photo.", "{description}"),
                .init("Look carefully at the image and describe all of its contents, their sizes and their positions.", "{description}"),
            ]),
        InstructionTask(
            name: "visual_question_answering", category: .questionAnswering, modalities: [.image],
            summary: "A free-form answer to a question about an image.",
            phrasings: [
                .init("{question}", "{answer}"),
                .init("Answer the question about the image: {question}", "{answer}"),
                .init("Look at the picture and answer.\nQuestion: {question}\nAnswer:", "{answer}"),
                .init("Q: {question}\nA:", "{answer}"),
                .init("Based on what you see in the image, {question}", "{answer}"),
            ]),
        InstructionTask(
            name: "visual_multiple_choice", category: .questionAnswering, modalities: [.image],
            summary: "A question about an image answered by picking one of the given options.",
            phrasings: [
                .init("{question}\n\nOPTIONS:\n{options}", "{answer}"),
                .init("Answer the question about the image by choosing one option.\nQuestion: {question}\nOptions:\n{options}", "{answer}"),
                .init("Look at the image. {question} Pick from:\n{options}", "{answer}"),
                .init("Question: {question}\nChoose the correct answer from the list below.\n{options}\nAnswer:", "{answer}"),
                .init("Which option answers \"{question}\" for this picture?\n{options}", "{answer}"),
            ]),
        InstructionTask(
            name: "image_classification", category: .classification, modalities: [.image],
            summary: "The class of an image among given labels.",
            phrasings: [
                .init("Classify the image.\nOPTIONS:\n{options}", "{label}"),
                .init("Which category does this picture belong to?\n{options}", "{label}"),
                .init("What is the main subject of the image? Choose one of:\n{options}", "{label}"),
                .init("Assign one label to the image from the following list:\n{options}\nLabel:", "{label}"),
                .init("Pick the class that best describes this image.\nClasses:\n{options}", "The image shows {label}."),
            ]),
        InstructionTask(
            name: "object_counting", category: .counting, modalities: [.image],
            summary: "How many objects of a kind an image contains.",
            phrasings: [
                .init("How many {object} are in the image?", "{count}"),
                .init("Count the {object} in this picture.", "{count}"),
                .init("Count every {object} you can see and give the number.", "There are {count}."),
                .init("What is the number of {object} visible in the photo?", "{count}"),
                .init("Q: How many {object} does the image contain?\nA:", "{count}"),
            ]),
        InstructionTask(
            name: "shape_recognition", category: .classification, modalities: [.image],
            summary: "The geometric shape of a named object in an image.",
            phrasings: [
                .init("What shape is the {object}?", "{shape}"),
                .init("Name the geometric shape of the {object} in the image.", "{shape}"),
                .init("Look at the {object}. Is it a circle, a square, a triangle or another shape?", "It is a {shape}."),
                .init("Which shape does the {object} in this picture have?", "{shape}"),
                .init("Identify the shape of the {object}.", "{shape}"),
            ]),
        InstructionTask(
            name: "color_recognition", category: .classification, modalities: [.image],
            summary: "The colour of a named object in an image.",
            phrasings: [
                .init("What colour is the {object}?", "{color}"),
                .init("Name the colour of the {object} in the image.", "{color}"),
                .init("Which colour does the {object} have?", "The {object} is {color}."),
                .init("Look at the {object} in this picture. What is its colour?", "{color}"),
                .init("Identify the color of the {object}.", "{color}"),
            ]),
        InstructionTask(
            name: "spatial_relation", category: .localization, modalities: [.image],
            summary: "Where one object is relative to another in an image.",
            phrasings: [
                .init("Where is the {object_a} relative to the {object_b}?", "{relation}"),
                .init("Describe the position of the {object_a} with respect to the {object_b}.", "The {object_a} is {relation} the {object_b}."),
                .init("In the image, how is the {object_a} placed relative to the {object_b}?", "{relation}"),
                .init("Is the {object_a} left of, right of, above or below the {object_b}?", "{relation}"),
                .init("What is the spatial relation between the {object_a} and the {object_b}?", "{relation}"),
            ]),
        InstructionTask(
            name: "object_localization", category: .localization, modalities: [.image],
            summary: "Which part of an image a named object is in.",
            phrasings: [
                .init("Where in the image is the {object}?", "{position}"),
                .init("Locate the {object} in the picture.", "{position}"),
                .init("In which part of the image can the {object} be found?", "The {object} is in the {position}."),
                .init("Give the position of the {object} (for example top left, centre, bottom right).", "{position}"),
                .init("Find the {object}. Where is it?", "{position}"),
            ]),
        InstructionTask(
            name: "size_comparison", category: .comparison, modalities: [.image],
            summary: "Which of two objects in an image is larger.",
            phrasings: [
                .init("Which is larger in the image, the {object_a} or the {object_b}?", "{answer}"),
                .init("Compare the sizes of the {object_a} and the {object_b}.", "{answer}"),
                .init("Is the {object_a} bigger or smaller than the {object_b}?", "{answer}"),
                .init("Look at the {object_a} and the {object_b}. Which one is bigger?", "{answer}"),
                .init("Q: Between the {object_a} and the {object_b}, which appears larger?\nA:", "{answer}"),
            ]),
        InstructionTask(
            name: "visual_statement_verification", category: .questionAnswering, modalities: [.image],
            summary: "Whether a statement about an image is true (yes/no).",
            phrasings: [
                .init("Is the following statement about the image true? \"{statement}\" Answer yes or no.", "{answer}"),
                .init("Statement: {statement}\nDoes the picture support this statement?", "{answer}"),
                .init("True or false, based on the image: {statement}", "{answer}"),
                .init("Check this claim against the photo: {statement}\nYes or no?", "{answer}"),
                .init("Does the image agree with the sentence \"{statement}\"?", "{answer}"),
            ]),
        InstructionTask(
            name: "object_presence_detection", category: .detection, modalities: [.image],
            summary: "Whether an image contains an object of a kind (yes/no).",
            phrasings: [
                .init("Is there a {object} in the image?", "{answer}"),
                .init("Does this picture contain a {object}? Answer yes or no.", "{answer}"),
                .init("Can you see any {object} in the photo?", "{answer}"),
                .init("Q: Is a {object} visible in the image?\nA:", "{answer}"),
                .init("Check whether the image shows a {object}.", "{answer}"),
            ]),
        InstructionTask(
            name: "digit_recognition", category: .classification, modalities: [.image],
            summary: "The handwritten digit shown in an image.",
            phrasings: [
                .init("Which digit is written in this image?", "{label}"),
                .init("Read the handwritten digit.", "{label}"),
                .init("What number from 0 to 9 does the picture show?", "{label}"),
                .init("Recognise the digit in the image and write it.", "{label}"),
                .init("Q: What is the handwritten digit?\nA:", "The digit is {label}."),
            ]),
        InstructionTask(
            name: "image_tagging", category: .classification, modalities: [.image],
            summary: "A comma-separated list of tags for the objects and attributes in an image.",
            phrasings: [
                .init("List tags for this image, separated by commas.", "{tags}"),
                .init("Give keywords that describe the picture.", "{tags}"),
                .init("Which objects and attributes appear in the image? Answer with a list of tags.", "{tags}"),
                .init("Tag the photo.", "{tags}"),
                .init("Write a few descriptive tags for this image.", "Tags: {tags}"),
            ]),
        InstructionTask(
            name: "visual_question_generation", category: .generation, modalities: [.image],
            summary: "A question that the image can answer, with its answer.",
            phrasings: [
                .init("Ask a question about this image and answer it.", "Q: {question}\nA: {answer}"),
                .init("Write a question whose answer can be found in the picture, then give the answer.", "{question} {answer}"),
                .init("Generate a quiz question about the image together with its answer.", "Question: {question}\nAnswer: {answer}"),
                .init("What could someone ask about this photo? Give one question and its answer.", "{question} — {answer}"),
                .init("Create a question-answer pair grounded in the image.", "Q: {question}\nA: {answer}"),
            ]),
        InstructionTask(
            name: "image_pair_comparison", category: .comparison, modalities: [.image],
            summary: "How two images differ and what they share.",
            phrasings: [
                .init("Compare the two images.", "{comparison}"),
                .init("What do the first and second picture have in common, and how do they differ?", "{comparison}"),
                .init("Describe the similarities and differences between these images.", "{comparison}"),
                .init("Look at both images and compare them.", "{comparison}"),
                .init("Write a short comparison of image 1 and image 2.", "{comparison}"),
            ]),
        InstructionTask(
            name: "image_difference_spotting", category: .comparison, modalities: [.image],
            summary: "The one change between two nearly identical images.",
            phrasings: [
                .init("What changed between the two images?", "{difference}"),
                .init("Spot the difference between these pictures.", "{difference}"),
                .init("The second image differs from the first in one way. Which?", "{difference}"),
                .init("Find what is different in the second photo.", "{difference}"),
                .init("Q: What is the difference between image 1 and image 2?\nA:", "{difference}"),
            ]),
        InstructionTask(
            name: "odd_one_out", category: .comparison, modalities: [.image],
            summary: "Which object in an image differs from the others.",
            phrasings: [
                .init("Which object in the image is the odd one out?", "{answer}"),
                .init("One object differs from the rest. Which one, and why?", "{answer}"),
                .init("Find the object that does not belong with the others.", "{answer}"),
                .init("Look at the objects in the picture. Which is different from all the others?", "{answer}"),
                .init("Q: Which item is the odd one out?\nA:", "{answer}"),
            ]),
    ]
}
