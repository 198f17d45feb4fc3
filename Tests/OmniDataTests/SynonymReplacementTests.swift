// Synonym replacement against a reference that replays the documented draws, case handling,
// stopwords, the default probability, and the built-in lexicon's contents.
import Foundation
import Testing
import OmniTensor
@testable import OmniData

@Suite struct SynonymReplacementTests {
    static let sentence = "The large red crack near the weld shows rust, and two scratches appear beneath it."

    @Test(arguments: [UInt64(0), 1, 7, 99])
    func replaysTheDraws(seed: UInt64) {
        let sr = SynonymReplacement(probability: 0.5)
        let got = sr.augment(Self.sentence, generator: Generator(seed: seed))
        // Reference: split on the ASCII words of this sentence, draw for each eligible word in turn.
        let g = Generator(seed: seed)
        var expected = "", word = ""
        var replaced = 0
        func flush() {
            guard !word.isEmpty else { return }
            let key = word.lowercased()
            let synonyms = SynonymLexicon.builtIn.synonyms(of: key)
            if !EnglishStopwords.words.contains(key) && !synonyms.isEmpty && g.nextDouble() < 0.5 {
                var s = synonyms[g.nextInt(below: synonyms.count)]
                if word.first!.isUppercase { s = s.prefix(1).uppercased() + s.dropFirst() }
                expected += s; replaced += 1
            } else {
                expected += word
            }
            word = ""
        }
        for c in Self.sentence {
            if c.isLetter || c.isNumber { word.append(c) } else { flush(); expected.append(c) }
        }
        flush()
        #expect(got.text == expected)
        #expect(got.replacements.count == replaced)
        #expect(sr.apply(to: Self.sentence, generator: Generator(seed: seed)) == expected)
    }

    @Test func probabilityExtremes() {
        let g = Generator(seed: 4), before = g.state
        #expect(SynonymReplacement(probability: 0).apply(to: Self.sentence, generator: g) == Self.sentence)
        #expect(g.state != before)                                           // draws happen, none succeed
        let all = SynonymReplacement(probability: 1).augment(Self.sentence, generator: Generator(seed: 4))
        // every eligible word is replaced; stopwords, punctuation and spacing stay
        #expect(all.replacements.map(\.original) == ["large", "red", "crack", "near", "weld", "shows", "rust", "two", "scratches", "appear", "beneath"])
        let words = all.text.split(separator: " ")
        #expect(words.first == "The" && all.text.hasSuffix(" it.") && all.text.contains(" the ") && all.text.contains(", and "))
        for r in all.replacements {
            #expect(SynonymLexicon.builtIn.synonyms(of: r.original).contains(r.replacement.lowercased()), "\(r)")
        }
        let nothing = SynonymReplacement(probability: 1).apply(to: "the of and with it is", generator: Generator(seed: 1))
        #expect(nothing == "the of and with it is")
    }

    @Test func casePreservingAndTokens() {
        let sr = SynonymReplacement(probability: 1, lexicon: SynonymLexicon(groups: [["crack", "fissure"], ["x-ray", "radiograph"],
                                                                                    ["two", "2"], ["don't", "do not"], ["big", "sum up"]]))
        let g = Generator(seed: 0)
        #expect(sr.apply(to: "crack Crack CRACK cRack", generator: g) == "fissure Fissure FISSURE cRack")
        #expect(sr.apply(to: "An X-ray, two 0.5 2 1,5", generator: g) == "An Radiograph, 2 0.5 two 1,5")
        #expect(sr.apply(to: "Big", generator: g) == "Sum up")
        // stopwords are never replaced even when the lexicon lists them
        #expect(sr.apply(to: "don't", generator: g) == "don't")
        #expect(sr.apply(to: "Don’t crack", generator: g) == "Don’t fissure")
        #expect(SynonymReplacement.tokens("a-b 1.5.x 'q'").filter(\.isWord).count == 4)
    }

    @Test func defaultProbabilityIsTwentyPercent() {
        let sr = SynonymReplacement()
        #expect(sr.probability == 0.2)
        let text = Array(repeating: "large crack near the weld", count: 1500).joined(separator: " ")
        let result = sr.augment(text, generator: Generator(seed: 12))
        // 6000 eligible words (large, crack, near, weld): binomial sd ≈ 0.0052, allow ±4 sd
        let fraction = Double(result.replacements.count) / 6000
        #expect(abs(fraction - 0.2) < 0.021, "replaced \(fraction)")
    }

    @Test func builtInLexicon() {
        let lexicon = SynonymLexicon.builtIn
        #expect(lexicon.words.count >= 300, "\(lexicon.words.count) words")
        for word in lexicon.words {
            #expect(!EnglishStopwords.contains(word), "\(word) is a stopword")
            #expect(word == word.lowercased())
            for s in lexicon.synonyms(of: word) where !s.contains(" ") {
                #expect(lexicon.synonyms(of: s).contains(word), "\(word) → \(s) but not back")
            }
        }
        // every demo domain is covered
        for word in ["circle", "oval", "red", "grey", "large", "tiny", "leftmost", "beside", "count", "three", "lesion", "fracture",
                     "radiograph", "crack", "rust", "dent", "vibration", "hum", "recording", "speech"] {
            #expect(!lexicon.synonyms(of: word).isEmpty, "\(word) has no synonyms")
        }
        #expect(lexicon.synonyms(of: "Crack") == lexicon.synonyms(of: "crack"))
        #expect(lexicon.synonyms(of: "the").isEmpty)
    }
}
