// Built-in instruction tasks for industrial quality control and sensors: defect detection,
// classification, localisation, counting and explanation from camera images, vibration signals and
// operation logs; activity recognition and trends in IMU data; reports and root causes.
extension TaskRegistry {
    static let industrialTasks: [InstructionTask] = [
        InstructionTask(
            name: "defect_detection", category: .detection, modalities: [.image],
            summary: "Whether a part in an inspection image is defective (yes/no).",
            phrasings: [
                .init("Is this part defective?", "{answer}"),
                .init("Inspect the product in the image. Does it have a defect? Answer yes or no.", "{answer}"),
                .init("Does the surface show any flaw?", "{answer}"),
                .init("Q: Should this part be rejected at inspection?\nA:", "{answer}"),
                .init("Check the component for defects.", "{answer}"),
            ]),
        InstructionTask(
            name: "defect_classification", category: .classification, modalities: [.image],
            summary: "The type of defect in an inspection image among given labels.",
            phrasings: [
                .init("What kind of defect does the part have?\nOPTIONS:\n{options}", "{label}"),
                .init("Classify the defect in the image.\n{options}", "{label}"),
                .init("Which defect type is visible? Choose from:\n{options}", "{label}"),
                .init("Inspect the surface and pick the defect class.\n{options}\nClass:", "{label}"),
                .init("Name the defect among:\n{options}", "The defect is {label}."),
            ]),
        InstructionTask(
            name: "defect_localization", category: .localization, modalities: [.image],
            summary: "Where on the part a defect is.",
            phrasings: [
                .init("Where is the {defect} on the part?", "{position}"),
                .init("Locate the {defect} in the inspection image.", "{position}"),
                .init("In which area of the component is the {defect}?", "The {defect} is at the {position}."),
                .init("Q: Where can the {defect} be seen?\nA:", "{position}"),
                .init("Point to the {defect}.", "{position}"),
            ]),
        InstructionTask(
            name: "defect_counting", category: .counting, modalities: [.image],
            summary: "How many defects of a kind a part has.",
            phrasings: [
                .init("How many {defect} defects are on the part?", "{count}"),
                .init("Count the {defect} marks in the image.", "{count}"),
                .init("How many instances of {defect} can you find?", "{count}"),
                .init("Q: What is the number of {defect} defects?\nA:", "{count}"),
                .init("Inspect the surface and count every {defect}.", "There are {count}."),
            ]),
        InstructionTask(
            name: "defect_explanation", category: .explanation, modalities: [.image, .signal, .text],
            summary: "Why a part was judged defective, from the image, the vibration signal and the log.",
            phrasings: [
                .init("Operation log: {log}\nUsing the image and the vibration signal, explain the defect.", "{explanation}"),
                .init("Explain why this part was rejected. Log entries: {log}", "{explanation}"),
                .init("What is wrong with the part, and what in the image, the sensor data and the log \"{log}\" shows it?", "{explanation}"),
                .init("Log: {log}\nDescribe the defect and the evidence for it.", "{explanation}"),
                .init("Give an explanation of the defect that an operator can act on. Context from the log: {log}", "{explanation}"),
            ]),
        InstructionTask(
            name: "vibration_anomaly_detection", category: .detection, modalities: [.signal],
            summary: "Whether a vibration recording is anomalous (yes/no).",
            phrasings: [
                .init("Is this vibration signal anomalous?", "{answer}"),
                .init("Does the machine's vibration look abnormal? Answer yes or no.", "{answer}"),
                .init("Check the sensor recording for anomalies.", "{answer}"),
                .init("Q: Is the vibration within normal operation?\nA:", "{answer}"),
                .init("Detect whether the signal shows a fault.", "{answer}"),
            ]),
        InstructionTask(
            name: "vibration_fault_classification", category: .classification, modalities: [.signal],
            summary: "The fault type behind a vibration recording among given labels.",
            phrasings: [
                .init("Which fault does this vibration signal indicate?\nOPTIONS:\n{options}", "{label}"),
                .init("Classify the machine condition from the vibration.\n{options}", "{label}"),
                .init("What is the likely fault? Choose from:\n{options}", "{label}"),
                .init("Diagnose the recording. Pick one label.\n{options}\nLabel:", "{label}"),
                .init("Name the fault type among:\n{options}", "The fault is {label}."),
            ]),
        InstructionTask(
            name: "activity_recognition", category: .classification, modalities: [.signal],
            summary: "The activity recorded by a wearable motion sensor among given labels.",
            phrasings: [
                .init("Which activity does this motion recording show?\nOPTIONS:\n{options}", "{label}"),
                .init("The accelerometer and gyroscope data come from a smart watch. What was the wearer doing?\n{options}", "{label}"),
                .init("Classify the activity from the IMU signal.\n{options}", "{label}"),
                .init("Pick the activity that matches the sensor data.\n{options}\nActivity:", "{label}"),
                .init("Recognise the movement among:\n{options}", "The person is {label}."),
            ]),
        InstructionTask(
            name: "sensor_trend_description", category: .captioning, modalities: [.signal],
            summary: "A description of the trends, peaks and periodicity of a sensor recording.",
            phrasings: [
                .init("Describe the signal.", "{description}"),
                .init("What trends and peaks does this sensor recording show?", "{description}"),
                .init("Summarise how the measurement evolves over time.", "{description}"),
                .init("Describe the shape of the waveform in a few sentences.", "{description}"),
                .init("Write a short description of the sensor data.", "{description}"),
            ]),
        InstructionTask(
            name: "signal_peak_counting", category: .counting, modalities: [.signal],
            summary: "How many peaks or impacts a sensor recording contains.",
            phrasings: [
                .init("How many peaks are in this signal?", "{count}"),
                .init("Count the spikes in the sensor recording.", "{count}"),
                .init("How many impacts does the vibration trace show?", "{count}"),
                .init("Q: What is the number of peaks?\nA:", "{count}"),
                .init("Count each distinct peak in the waveform.", "There are {count} peaks."),
            ]),
        InstructionTask(
            name: "sensor_recording_comparison", category: .comparison, modalities: [.signal],
            summary: "How two sensor recordings differ.",
            phrasings: [
                .init("Compare the two sensor recordings.", "{comparison}"),
                .init("How does the second vibration signal differ from the first?", "{comparison}"),
                .init("Describe the differences in amplitude, frequency and trend between the recordings.", "{comparison}"),
                .init("Which recording looks healthier, and why?", "{comparison}"),
                .init("Write a short comparison of signal 1 and signal 2.", "{comparison}"),
            ]),
        InstructionTask(
            name: "maintenance_log_summarization", category: .summarization, modalities: [.text],
            summary: "A summary of a maintenance or operation log.",
            phrasings: [
                .init("Summarise this maintenance log:\n{log}", "{summary}"),
                .init("Log:\n{log}\n\nWhat happened? Summarise briefly.", "{summary}"),
                .init("Write the key events of the following operation log.\n{log}", "{summary}"),
                .init("{log}\n\nSummary:", "{summary}"),
                .init("Give the shift supervisor a short summary of this log:\n{log}", "{summary}"),
            ]),
        InstructionTask(
            name: "inspection_report_drafting", category: .reportDrafting, modalities: [.image, .signal, .text],
            summary: "A quality inspection report from the camera image, the sensor data and the log.",
            phrasings: [
                .init("Write an inspection report for this part. Log: {log}", "{report}"),
                .init("Using the camera image, the vibration data and the log \"{log}\", draft the quality report.", "{report}"),
                .init("Log entries: {log}\nProduce the inspection report.", "{report}"),
                .init("Draft a QC report (result, defects, evidence, action). Context: {log}", "{report}"),
                .init("Report on the inspected component, taking the operation log into account: {log}", "{report}"),
            ]),
        InstructionTask(
            name: "root_cause_analysis", category: .explanation, modalities: [.image, .signal, .text],
            summary: "The most likely cause of a defect or failure.",
            phrasings: [
                .init("What is the most likely root cause? Log: {log}", "{cause}"),
                .init("Given the image, the vibration signal and the log \"{log}\", find the cause of the failure.", "{cause}"),
                .init("Log: {log}\nWhy did this defect occur?", "{cause}"),
                .init("Identify the root cause of the problem. Operation log: {log}", "The likely cause is {cause}."),
                .init("Analyse the evidence and name the cause. Context: {log}", "{cause}"),
            ]),
    ]
}
