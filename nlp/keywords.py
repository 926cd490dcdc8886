"""Key phrases of one post, from its segmented words."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

# Frequent words that say nothing about what a post is about (compared lower-cased).
STOPWORDS = frozenset(w for line in """
bởi vì|tuy nhiên|nhưng mà|cũng như|thế nào|bao giờ|ở đâu|tại sao|như vậy|vì vậy|cho nên
bây giờ|hôm nay|hôm qua|ngày mai|hiện nay|hiện tại|thời gian|mọi người|người ta|chúng tôi
chúng ta|các bạn|cho biết|cho rằng|có thể|không thể|được biết|theo đó|trong khi|sau khi|trước khi
cùng với|đối với|liên quan|thực hiện|tiến hành|vừa qua|vừa rồi|rất nhiều|một số|tất cả|có lẽ
thật sự|thực sự|quá trình|như thế|vì sao|bao nhiêu|như thế nào|lúc này|khi nào|nơi đây|ai cũng
""".split("\n") for w in line.split("|") if w)
_ALPHA = re.compile(r"^[^\W\d_]+(?: [^\W\d_]+)*$", re.UNICODE)


def key_phrases(words: Sequence[str], *, limit: int = 8, hashtags: Sequence[str] = ()) -> list[str]:
    """The ``limit`` best key phrases: multi-syllable words and hashtags, most frequent first.

    ``words`` are segmented words (syllables joined by spaces, as underthesea returns
    them). Longer words win ties; results are lower-cased.
    """
    counts: Counter[str] = Counter()
    first: dict[str, int] = {}
    for pos, word in enumerate(words):
        low = word.lower()
        if "_" in low or "  " in low:
            low = " ".join(low.replace("_", " ").split())
        if " " not in low or low in STOPWORDS or not _ALPHA.match(low) or low.startswith("emo"):
            continue
        counts[low] += 1
        first.setdefault(low, pos)
    ranked = sorted(counts, key=lambda w: (-counts[w], -len(w.split()), first[w]))
    out = [h.lower() for h in dict.fromkeys(hashtags)]
    for word in ranked:
        if len(out) >= limit:
            break
        if word not in out:
            out.append(word)
    return out[:limit]
