"""The similarities docs/cache.md quotes: ``python bench/cache/lexical_similarity.py``.

The semantic cache's default encoder is the built-in lexical one (hashed
word and character n-grams, untrained: every IDF weight 1). This prints the
cosine similarity it gives a question and a few rewordings, so the
threshold can be chosen knowing what it lets through. Deterministic: the
same text always gives the same vector, so one run is the figure.
"""

from __future__ import annotations

from junction.semantic.lexical import LexicalEncoder

QUESTION = "What is the capital of France?"
OTHERS = [
    "what is the capital   of france",
    "What's the capital of France?",
    "What is the capital city of France?",
    "Tell me the capital of France.",
    "What is the capital of Spain?",
    "How do I bake bread?",
]


def main() -> None:
    encoder = LexicalEncoder()
    vectors = encoder.encode([QUESTION, *OTHERS])
    print(f"cosine similarity to {QUESTION!r} (lexical encoder, untrained)")
    for text, vector in zip(OTHERS, vectors[1:], strict=True):
        print(f"  {float(vectors[0] @ vector):6.4f}  {text!r}")


if __name__ == "__main__":
    main()
