// Which samples each stage of the Trainer draws from, on the small generated demo corpus:
// contrastive alignment pairs a modality only with a text that describes it (a caption, a
// transcript, a labelled description), never with a question about it; instruction tuning keeps
// the questions.
import Foundation
import OmniData
import OmniModels
import OmniTensor
import Testing
@testable import OmniTrain

@Suite struct TrainerPoolTests {
    @Test func alignPairsModalitiesOnlyWithDescribingTexts() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        _ = try DemoCorpus.generate(into: dir.path + "/corpus", configuration: .small)
        let run = RunConfiguration.demo(corpus: dir.path + "/corpus", scale: 0.01)
        let trainer = try Trainer(run: run, directory: dir.path + "/run")
        let samples = trainer.train.samples
        let stage = { (kind: StageKind) in run.stages.first { $0.kind == kind }! }

        let align = Dictionary(uniqueKeysWithValues: trainer.pools(for: stage(.align)).map { ($0.modality, $0.indices) })
        let images = try #require(align[.image])
        #expect(!images.isEmpty && images.allSatisfy { samples[$0].task == "image_captioning" })
        // the corpus has as many question lines with images as caption lines; none is a positive pair
        let questions = trainer.train.indices(task: "visual_question_answering", having: [.image, .text])
        #expect(!questions.isEmpty && Set(questions).isDisjoint(with: images))
        #expect(align[.audio].map { !$0.isEmpty && $0.allSatisfy { samples[$0].task == "speech_transcription" } } == true)
        #expect(align[.signal].map { !$0.isEmpty } == true, "labelled vibration descriptions are pairs")

        let instruct = trainer.pools(for: stage(.instruct)).first { $0.modality == .image }?.indices ?? []
        #expect(Set(questions).isSubset(of: instruct))

        #expect(!TaskCategory.questionAnswering.textDescribesInput && TaskCategory.captioning.textDescribesInput)

        // grouping a mixed batch by modalities gives the loss of the whole batch encoded at once
        let pools = trainer.pools(for: stage(.align))
        let indices = pools.flatMap { pool in pool.indices.prefix(3) } + pools.map { $0.indices.last! }
        #expect(StageObjective.groupedByModalities(indices, corpus: trainer.train).count == pools.count)
        let modules = trainer.modules
        modules.eval()
        let (grouped, groupedParts) = GradMode.withoutGrad {
            StageObjective.align(modules, corpus: trainer.train, indices: indices, taskIndex: 0)
        }
        let reference = GradMode.withoutGrad { () -> ContrastiveLossOutput in
            let present = indices.reduce(into: Set<Modality>()) { $0.formUnion(trainer.train.samples[$1].modalities) }
            let encoded = modules.model.encode(trainer.train.input(indices, modalities: present, tasks: Array(repeating: 0, count: indices.count)))
            return ContrastiveLoss(pairing: .anchor(.text))(modules.model.embeddings(encoded), presence: encoded.mapValues(\.isPresent),
                                                            scale: modules.logitScale())
        }
        #expect(abs(grouped.item() - reference.total.item()) < 1e-4, "grouped \(grouped.item()), mixed batch \(reference.total.item())")
        #expect(Set(groupedParts.keys) == Set(reference.pairs.keys.map { "\($0)" }) && groupedParts.count == 4)
    }
}
