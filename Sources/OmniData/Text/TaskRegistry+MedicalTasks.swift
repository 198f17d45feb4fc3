// Built-in instruction tasks for medical imaging: radiology report drafting from DICOM studies
// (alone, with history, with the recorded consultation), findings and impressions, classification,
// questions, localisation, triage and patient-friendly explanations.
extension TaskRegistry {
    static let medicalTasks: [InstructionTask] = [
        InstructionTask(
            name: "radiology_report_drafting", category: .reportDrafting, modalities: [.dicom],
            summary: "A draft radiology report (findings and impression) for a study.",
            phrasings: [
                .init("Draft a radiology report for this {study_type} of the {body_part}.", "{report}"),
                .init("Write the findings and impression for the {body_part} {study_type}.", "{report}"),
                .init("You are a radiologist. Report on this {study_type} of the {body_part}.", "{report}"),
                .init("Study: {study_type}, {body_part}.\nWrite the report.", "{report}"),
                .init("Produce a structured report (findings, impression) for the {body_part} {study_type} shown.", "{report}"),
            ]),
        InstructionTask(
            name: "radiology_report_with_history", category: .reportDrafting, modalities: [.dicom, .text],
            summary: "A radiology report that takes the clinical history into account.",
            phrasings: [
                .init("Clinical history: {history}\nWrite the radiology report for this study.", "{report}"),
                .init("Draft a report for the images, given the history: {history}", "{report}"),
                .init("Given the indication \"{history}\", report the findings and the impression.", "{report}"),
                .init("History: {history}\nReport:", "{report}"),
                .init("Write a radiology report that answers the clinical question. Background: {history}", "{report}"),
            ]),
        InstructionTask(
            name: "consultation_informed_report", category: .reportDrafting, modalities: [.dicom, .audio, .text],
            summary: "A report from the images, the recorded consultation and the notes together.",
            phrasings: [
                .init("Using the images, the recorded consultation and the notes ({history}), draft the report.", "{report}"),
                .init("Notes: {history}\nListen to the consultation, read the study and write the report.", "{report}"),
                .init("Combine the scan, the doctor–patient conversation and the history \"{history}\" into a report.", "{report}"),
                .init("Draft a clinical report from all inputs. Written history: {history}", "{report}"),
                .init("History: {history}\nTaking the consultation audio into account, report on the study.", "{report}"),
            ]),
        InstructionTask(
            name: "findings_extraction", category: .extraction, modalities: [.text],
            summary: "The findings listed in a radiology report.",
            phrasings: [
                .init("List the findings in this report:\n{report}", "{findings}"),
                .init("Report:\n{report}\n\nExtract the findings.", "{findings}"),
                .init("What abnormalities does the following report describe?\n{report}", "{findings}"),
                .init("Read the report and write its findings as a list.\n{report}", "{findings}"),
                .init("{report}\n\nWhat are the findings?", "{findings}"),
            ]),
        InstructionTask(
            name: "impression_summarization", category: .summarization, modalities: [.text],
            summary: "The impression (conclusion) that follows from a report's findings.",
            phrasings: [
                .init("Findings: {findings}\nWrite the impression.", "{impression}"),
                .init("Summarise these findings into an impression:\n{findings}", "{impression}"),
                .init("What is the radiological impression given these findings?\n{findings}", "{impression}"),
                .init("{findings}\n\nImpression:", "{impression}"),
                .init("Condense the findings below into a short conclusion for the referring physician.\n{findings}", "{impression}"),
            ]),
        InstructionTask(
            name: "medical_image_classification", category: .classification, modalities: [.dicom],
            summary: "The diagnostic class of a medical image among given labels.",
            phrasings: [
                .init("Classify this medical image.\nOPTIONS:\n{options}", "{label}"),
                .init("Which diagnosis fits the study best?\n{options}", "{label}"),
                .init("Choose the category for the scan from:\n{options}", "{label}"),
                .init("Look at the image and pick one label.\n{options}\nLabel:", "{label}"),
                .init("What does the study show? Select one:\n{options}", "{label}"),
            ]),
        InstructionTask(
            name: "medical_visual_question_answering", category: .questionAnswering, modalities: [.dicom],
            summary: "An answer to a clinical question about a medical image.",
            phrasings: [
                .init("{question}", "{answer}"),
                .init("Answer the question about the scan: {question}", "{answer}"),
                .init("Look at the study.\nQuestion: {question}\nAnswer:", "{answer}"),
                .init("Q: {question}\nA:", "{answer}"),
                .init("As a radiologist, answer: {question}", "{answer}"),
            ]),
        InstructionTask(
            name: "abnormality_localization", category: .localization, modalities: [.dicom],
            summary: "Where in the image a finding is.",
            phrasings: [
                .init("Where is the {finding} located?", "{region}"),
                .init("Localise the {finding} in this image.", "{region}"),
                .init("In which region of the study is the {finding} seen?", "The {finding} is in the {region}."),
                .init("Q: Where can the {finding} be found?\nA:", "{region}"),
                .init("Point out the location of the {finding}.", "{region}"),
            ]),
        InstructionTask(
            name: "triage_priority", category: .classification, modalities: [.dicom, .text],
            summary: "How urgently a study should be read, given the images and history.",
            phrasings: [
                .init("History: {history}\nHow urgent is this study?\nOPTIONS:\n{options}", "{priority}"),
                .init("Assign a reading priority to the scan. Clinical note: {history}\n{options}", "{priority}"),
                .init("Given the images and the note \"{history}\", choose the triage level:\n{options}", "{priority}"),
                .init("Triage this case. Background: {history}\nLevels:\n{options}\nPriority:", "{priority}"),
                .init("Should this study be read first? Note: {history}\nPick one:\n{options}", "{priority}"),
            ]),
        InstructionTask(
            name: "consultation_summarization", category: .summarization, modalities: [.audio],
            summary: "A summary of a recorded doctor–patient consultation.",
            phrasings: [
                .init("Summarise the consultation.", "{summary}"),
                .init("Write a short clinical summary of this recorded visit.", "{summary}"),
                .init("What did the patient report and what was decided? Summarise.", "{summary}"),
                .init("Listen to the conversation and write the key points.", "{summary}"),
                .init("Produce a visit note from the recording.", "{summary}"),
            ]),
        InstructionTask(
            name: "patient_friendly_explanation", category: .explanation, modalities: [.text],
            summary: "A radiology report explained in plain words for the patient.",
            phrasings: [
                .init("Explain this report in plain language for the patient:\n{report}", "{explanation}"),
                .init("Report:\n{report}\n\nRewrite it so that someone without medical training understands it.", "{explanation}"),
                .init("What does this report mean for the patient? Use simple words.\n{report}", "{explanation}"),
                .init("{report}\n\nExplain the above to the patient.", "{explanation}"),
                .init("Translate the medical terms in this report into everyday language:\n{report}", "{explanation}"),
            ]),
        InstructionTask(
            name: "prior_study_comparison", category: .comparison, modalities: [.dicom],
            summary: "What changed between a study and the prior one.",
            phrasings: [
                .init("Compare the current study with the prior one.", "{comparison}"),
                .init("What has changed since the previous scan?", "{comparison}"),
                .init("Describe the interval change between the two studies.", "{comparison}"),
                .init("Q: Is there progression compared with the prior?\nA:", "{comparison}"),
                .init("Write a comparison section for the report, current versus prior.", "{comparison}"),
            ]),
    ]
}
