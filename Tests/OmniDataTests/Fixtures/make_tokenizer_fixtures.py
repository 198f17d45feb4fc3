"""Makes the tokenizer reference fixtures beside this file from the original implementations.

    python3 -m venv /tmp/tokvenv && /tmp/tokvenv/bin/pip install tiktoken==0.14.0 tokenizers==0.23.3
    OMNI_ASSETS=/tmp/omni-assets scripts/fetch-assets
    OMNI_ASSETS=/tmp/omni-assets /tmp/tokvenv/bin/python Tests/OmniDataTests/Fixtures/make_tokenizer_fixtures.py

Writes tiktoken_extra.json (tiktoken ids of tricky texts for gpt2, cl100k_base and Whisper's
multilingual vocabulary), tiktoken_fuzz.json (gpt2 and cl100k_base ids of seeded random strings),
wordpiece_extra.json (Hugging Face tokenizers' ids and decodings with
all-MiniLM-L6-v2's tokenizer.json) and bytelevel_small.json / bytelevel_small_prefix.json, two small
GPT-2-style tokenizer.json files trained with Hugging Face tokenizers, with bytelevel_reference.json.
Running it again reproduces the files exactly.

tiktoken_reference.json and minilm_reference.json are copies of the project's shared reference
fixtures (tiktoken/reference.json, minilm/reference.json; see that folder's README for how they were
made).
"""
import json, os
import tiktoken
from tiktoken.load import load_tiktoken_bpe
from tokenizers import Tokenizer, models, pre_tokenizers, decoders, trainers, processors

here = os.path.dirname(os.path.abspath(__file__))
assets = os.environ.get("OMNI_ASSETS", os.path.expanduser("~/.cache/omni"))
GPT2 = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
CL100K = r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"""

def dump(name, obj):
    with open(os.path.join(here, name), "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=True, separators=(",", ":"))
        f.write("\n")

texts = [
    "Hello 👋🏽 world 🇫🇷 family 👨‍👩‍👧‍👦!",
    "日本語のテキストと中文文本，한국어 텍스트",
    "e\u0301 a\u0300\u0316 Z\u0351\u036b\u0343 combining marks",
    "tabs\t\tand   spaces    \n\n\r\n  \t\nend  ",
    "line one\nline two\r\nline three\n\n\n",
    "I'M HERE, YOU'LL SEE, WE'VE, THEY'RE, 'Tis, it'S, o'clock, '\u017fo",
    "numbers 1234567890 0.5 -42 ¾ ٣٤٥ Ⅻ",
    "   leading and trailing   ",
    "x" * 300 + " " + "ab" * 200,
    " " * 100 + "\n" * 5 + "\t" * 7,
    "non-breaking\u00a0space\u3000ideographic\u2009thin",
    "symbols ©®™ → ∑∫ √2 <|endoftext|> <|fim_prefix|>",
    "mixed: naïve Ωmega Straße İstanbul ΣΑΣ",
    "```swift\nfunc f() -> Int { return 42 }\n```",
    "\u200bzero\u200dwidth\ufeffbom",
    "",
    "a",
    " ",
    "\n",
]
gpt2 = tiktoken.Encoding("gpt2", pat_str=GPT2, mergeable_ranks=load_tiktoken_bpe(os.path.join(assets, "whisper/gpt2.tiktoken")),
                         special_tokens={"<|endoftext|>": 50256})
cl = tiktoken.Encoding("cl100k_base", pat_str=CL100K,
                       mergeable_ranks=load_tiktoken_bpe(os.path.join(assets, "tiktoken/cl100k_base.tiktoken")),
                       special_tokens={"<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259,
                                       "<|fim_suffix|>": 100260, "<|endofprompt|>": 100276})
multi = tiktoken.Encoding("multilingual", pat_str=GPT2,
                          mergeable_ranks=load_tiktoken_bpe(os.path.join(assets, "whisper/multilingual.tiktoken")),
                          special_tokens={})
special_text = "a<|endoftext|>b <|fim_prefix|>x<|fim_suffix|><|fim_middle|> <|endofprompt|>"
dump("tiktoken_extra.json", {
    "made_by": "tiktoken 0.14.0, encode(t, disallowed_special=()); *_all_special: encode(t, allowed_special='all')",
    "texts": texts,
    "gpt2": [gpt2.encode(t, disallowed_special=()) for t in texts],
    "cl100k_base": [cl.encode(t, disallowed_special=()) for t in texts],
    "multilingual": [multi.encode(t, disallowed_special=()) for t in texts],
    "special_text": special_text,
    "gpt2_all_special": gpt2.encode(special_text, allowed_special="all"),
    "cl100k_all_special": cl.encode(special_text, allowed_special="all"),
})

# Random strings over an alphabet chosen to stress the split patterns' corners (contractions in
# both cases, long s, every kind of space and newline, digits of several scripts, marks, emoji).
import random
rng = random.Random(20261129)
alphabet = list("aAbsStTdDmMlLvVeErR'\"’ ,.!?-_()[]{}<>|/\\$%^&*+=~`@#;:0123456789") + [
    " ", " ", "  ", "\t", "\n", "\r", "\r\n", "\u00a0", "\u3000", "\u2009", "\u2028", "\u0085", "\u000b",
    "\u017f", "\u212a", "é", "e\u0301", "\u0308", "ß", "日", "本", "한", "ア", "ー", "中", "٣", "¾", "Ⅻ", "²",
    "👋", "🏽", "\u200d", "🇫", "\ufe0f", "©", "→", "∑", "\u00ad", "\u200b", "Ω", "я", "ـ", "\U00010400"]
fuzz = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40))) for _ in range(400)]
dump("tiktoken_fuzz.json", {
    "made_by": "tiktoken 0.14.0, encode(t, disallowed_special=()) on seeded random strings",
    "texts": fuzz,
    "gpt2": [gpt2.encode(t, disallowed_special=()) for t in fuzz],
    "cl100k_base": [cl.encode(t, disallowed_special=()) for t in fuzz],
})

# WordPiece: all-MiniLM-L6-v2's tokenizer.json.
wp = Tokenizer.from_file(os.path.join(assets, "minilm/tokenizer.json"))
wp.no_padding(); wp.no_truncation()
wp_texts = texts[:15] + [
    "[CLS] hello [SEP] [cls] [MASK]x[UNK]",
    "Héllo, Wörld! Ça va? «Très» bien… ¿Qué?",
    "The café's crème brûlée costs $5.50 (approx.)",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "a" * 100 + " " + "b" * 101,
    "ΣΑΣ ΟΔΟΣ İ Ǆ ﬁ ℌ",
    "don't stop believin' — it's \"quoted\" & <tagged>",
    "\u0000nul\ufffdrep\u200bzw\u00adsoft\u0085nel",
    "中文，日本語、한국어。〜",
]
ids = [wp.encode(t).ids for t in wp_texts]
decode_cases = [[101, 7592, 1010, 2088, 999, 2123, 1005, 1056, 102], [2015, 7592, 2015, 1012], ids[16], ids[17]]
long_text = " ".join(["word"] * 300)
wp_file = Tokenizer.from_file(os.path.join(assets, "minilm/tokenizer.json"))
dump("wordpiece_extra.json", {
    "made_by": "tokenizers 0.23.3, Tokenizer.from_file(minilm/tokenizer.json) with no_padding(), no_truncation()",
    "texts": wp_texts,
    "ids": ids,
    "ids_without_special": [wp.encode(t, add_special_tokens=False).ids for t in wp_texts],
    "decode_ids": decode_cases,
    "decoded": [wp.decode(d, skip_special_tokens=False) for d in decode_cases],
    "decoded_skipping_special": [wp.decode(d, skip_special_tokens=True) for d in decode_cases],
    "file_options_text": long_text,
    "file_options_ids": wp_file.encode(long_text).ids,
    "file_options_mask": wp_file.encode(long_text).attention_mask,
})

# Byte-level BPE tokenizer.json files, trained small so they can live in the repository.
corpus = [t for t in texts if t] + ["The quick brown fox jumps over the lazy dog. " * 3,
                                   "Tokenizers split text into pieces and merge bytes by rank.",
                                   "hello world, hello there, world of words"]
def train(prefix_space):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=prefix_space)
    tok.decoder = decoders.ByteLevel()
    tr = trainers.BpeTrainer(vocab_size=420, special_tokens=["<|endoftext|>", "<s>", "</s>"], show_progress=False,
                             initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus, tr)
    if prefix_space:
        tok.post_processor = processors.TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", 1), ("</s>", 2)])
    else:
        tok.post_processor = processors.ByteLevel(trim_offsets=True)
    return tok
plain, prefixed = train(False), train(True)
plain.save(os.path.join(here, "bytelevel_small.json"))
prefixed.save(os.path.join(here, "bytelevel_small_prefix.json"))
# The older spelling of merges ("a b" strings) in the second file, to cover both.
with open(os.path.join(here, "bytelevel_small_prefix.json"), encoding="utf-8") as f:
    j = json.load(f)
j["model"]["merges"] = [" ".join(m) for m in j["model"]["merges"]]
with open(os.path.join(here, "bytelevel_small_prefix.json"), "w", encoding="utf-8") as f:
    json.dump(j, f, ensure_ascii=True, indent=1)
prefixed = Tokenizer.from_file(os.path.join(here, "bytelevel_small_prefix.json"))
bl_texts = texts + ["hello<|endoftext|>world", "<s>already</s>"]
dump("bytelevel_reference.json", {
    "made_by": "tokenizers 0.23.3, Tokenizer.from_file(bytelevel_small*.json).encode(t) and .decode(ids)",
    "texts": bl_texts,
    "plain_ids": [plain.encode(t).ids for t in bl_texts],
    "prefix_ids": [prefixed.encode(t).ids for t in bl_texts],
    "prefix_ids_without_special": [prefixed.encode(t, add_special_tokens=False).ids for t in bl_texts],
    "plain_decoded": [plain.decode(plain.encode(t).ids, skip_special_tokens=False) for t in bl_texts],
    "prefix_decoded_skipping_special": [prefixed.decode(prefixed.encode(t).ids, skip_special_tokens=True) for t in bl_texts],
})
print("fixtures written to", here)
