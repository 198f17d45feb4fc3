import Foundation
import OmniNN

extension SentenceEmbedder {
    /// What a sentence-transformers folder says around the encoder: `modules.json` (the pipeline),
    /// `sentence_bert_config.json` (length limit, lowercasing) and the pooling folder's `config.json`.
    struct Settings {
        var maxSequenceLength: Int?
        var lowercasesInput = false
        var poolingModes: [PoolingMode] = [.mean]
        /// The pooling config's embedding dimension, when it states one.
        var poolingWidth: Int?
        var poolingFile: String
        var normalizes = true

        /// `modules.json` entries.
        struct ModuleEntry: Codable {
            var path: String
            var type: String
        }

        /// `sentence_bert_config.json`.
        struct EncoderConfig: Codable {
            var maxSeqLength: Int?
            var doLowerCase: Bool?
            enum CodingKeys: String, CodingKey {
                case maxSeqLength = "max_seq_length"
                case doLowerCase = "do_lower_case"
            }
        }

        /// `1_Pooling/config.json`: sentence-transformers ≥ 5 writes `pooling_mode` (a name or a
        /// list), older versions one `pooling_mode_*` flag per mode.
        struct PoolingConfig: Codable {
            var wordEmbeddingDimension: Int?
            var embeddingDimension: Int?
            var poolingMode: ModeList?
            var cls: Bool?
            var max: Bool?
            var mean: Bool?
            var meanSqrtLength: Bool?
            var weightedMean: Bool?
            var lastToken: Bool?
            enum CodingKeys: String, CodingKey {
                case wordEmbeddingDimension = "word_embedding_dimension"
                case embeddingDimension = "embedding_dimension"
                case poolingMode = "pooling_mode"
                case cls = "pooling_mode_cls_token"
                case max = "pooling_mode_max_tokens"
                case mean = "pooling_mode_mean_tokens"
                case meanSqrtLength = "pooling_mode_mean_sqrt_len_tokens"
                case weightedMean = "pooling_mode_weightedmean_tokens"
                case lastToken = "pooling_mode_lasttoken"
            }

            /// The legacy flags' modes in sentence-transformers' order.
            var flaggedModes: [PoolingMode] {
                [(cls, PoolingMode.cls), (max, .max), (mean, .mean), (meanSqrtLength, .meanSqrtLength),
                 (weightedMean, .weightedMean), (lastToken, .lastToken)].compactMap { $0.0 == true ? $0.1 : nil }
            }
        }

        /// One mode name or a list of them.
        struct ModeList: Codable {
            var names: [String]
            init(from decoder: Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let name = try? container.decode(String.self) { names = [name] } else { names = try container.decode([String].self) }
            }
            func encode(to encoder: Encoder) throws {
                var container = encoder.singleValueContainer()
                try container.encode(names)
            }
        }

        init(directory: URL) throws {
            let fm = FileManager.default
            var poolingFolder = "1_Pooling"
            let modulesURL = directory.appendingPathComponent("modules.json")
            if fm.fileExists(atPath: modulesURL.path) {
                let modules = try Settings.decode([ModuleEntry].self, from: modulesURL)
                let kinds = modules.map { $0.type.split(separator: ".").last.map(String.init) ?? $0.type }
                guard kinds.first == "Transformer", kinds.count >= 2, kinds[1] == "Pooling",
                      kinds.dropFirst(2).allSatisfy({ $0 == "Normalize" }) else {
                    throw WeightsError(file: modulesURL.path,
                                       "unsupported pipeline \(modules.map(\.type)) (supported: Transformer, Pooling, optionally Normalize)")
                }
                poolingFolder = modules[1].path
                normalizes = kinds.count > 2
            }

            let encoderURL = directory.appendingPathComponent("sentence_bert_config.json")
            if fm.fileExists(atPath: encoderURL.path) {
                let config = try Settings.decode(EncoderConfig.self, from: encoderURL)
                if let n = config.maxSeqLength, n < 2 {
                    throw WeightsError(file: encoderURL.path, "max_seq_length \(n) leaves no room for [CLS] and [SEP]")
                }
                maxSequenceLength = config.maxSeqLength
                lowercasesInput = config.doLowerCase ?? false
            }

            let poolingURL = directory.appendingPathComponent(poolingFolder).appendingPathComponent("config.json")
            poolingFile = poolingURL.path
            if fm.fileExists(atPath: poolingURL.path) {
                let config = try Settings.decode(PoolingConfig.self, from: poolingURL)
                if let names = config.poolingMode?.names {
                    poolingModes = try names.map { name in
                        guard let mode = PoolingMode(rawValue: name) else {
                            throw WeightsError(file: poolingURL.path, "unknown pooling mode \"\(name)\" (known: \(PoolingMode.allCases.map(\.rawValue)))")
                        }
                        return mode
                    }
                } else {
                    poolingModes = config.flaggedModes
                }
                if poolingModes.isEmpty { throw WeightsError(file: poolingURL.path, "no pooling mode is selected") }
                poolingWidth = config.embeddingDimension ?? config.wordEmbeddingDimension
            } else if fm.fileExists(atPath: modulesURL.path) {
                throw WeightsError(file: poolingURL.path, "missing: modules.json names a pooling module in \(poolingFolder)")
            }
        }

        static func decode<T: Decodable>(_ type: T.Type, from url: URL) throws -> T {
            let data: Data
            do { data = try Data(contentsOf: url) } catch {
                throw WeightsError(file: url.path, "cannot read: \(error.localizedDescription)")
            }
            do {
                return try JSONDecoder().decode(T.self, from: data)
            } catch let error as DecodingError {
                throw WeightsError(file: url.path, BertConfig.describe(error))
            }
        }
    }
}
