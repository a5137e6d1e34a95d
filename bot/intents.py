"""Free text → intent, learned from the labelled phrases in content/intent_phrases.tsv.

Three steps, each explainable:
1. A question detector (CONTRACT "Chat input"): a text starting with 怎么/如何/怎样, ending with 怎么弄/怎么办/
   吗/？, or carrying another question word (咋, 呢, 么, …) is `question`: it answers how and never acts.
2. A phrase it was trained on gets its label back; otherwise a multinomial naive Bayes over jieba words,
   characters and character pairs, trained on the phrases: each intent's score is the sum of its learned
   word weights. A feature no phrase ever had counts for `none`, and
   a text none of whose features was ever seen is `none`. The keywords of content/intents.toml count as
   extra training phrases of their intent.
3. A guard for the intents that act (check-in, 参加): a negation (没, 不, 未, 别, 无法, 忘), a text that does
   not say what was done (check-in: 学/读/看/阅/卡 and 完/了/过/已…) or who goes (参加: 参/去/到/报…), or a
   weak lead over the runner-up gives the best intent that does not act instead (and the reply says what to
   send).
Loaded once per process (jieba ~0.7 s, training a few ms).
"""

from __future__ import annotations

import functools
import logging
import math
import random
import re
import threading
import tomllib
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from importlib import resources
from typing import Any

import jieba

from bot.texts import read_content

_lock = threading.Lock()
SEED = 20261129
ACTING = frozenset({"checkin", "attend"})
QUESTION = "question"
NONE = "none"
_START = ("怎么", "如何", "怎样")
_END = ("怎么弄", "怎么办", "吗", "?")
_CUES = re.compile(r"怎么|如何|怎样|咋|吗|(?<!什)么|呢|\?|[没吧]\?$")
_NEGATION = re.compile(r"没|不|未|别|无法|忘")
_NOT_NEGATION = re.compile(r"没问题|没事|不错|不客气")  # 「没问题，我参加」 is not a refusal
# What an acting intent's text must say: a check-in says it is done, 参加 says who goes where.
_ACTS = {"checkin": (re.compile(r"学|读|看|阅|卡"), re.compile(r"完|了|过|好|毕|已|卡|阅|咯|啦")),
         "attend": (re.compile(r"参|出席|(?<!收)到|去|报|算我|来"),)}
_NOISE = re.compile(r"[^\w?]+")
MARGIN = 1.0  # log-odds lead an acting intent needs over the runner-up (alpha, novelty, margin: 5-fold CV on the 80 %)


def fold(text: str) -> str:
    """Matching form: NFKC, lower case, emoji and punctuation dropped (`?` kept: it marks a question)."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", text or "").casefold())


def is_question(text: str) -> bool:
    """The question detector of step 1 (on any text; the router decides whether it had an argument)."""
    folded = fold(text)
    if not folded:
        return False
    return folded.startswith(_START) or folded.endswith(_END) or bool(_CUES.search(folded))


def strip_question(text: str) -> str:
    """The text without the question words around it: 「打卡怎么弄」 → 「打卡」, 「怎么请假」 → 「请假」."""
    out = unicodedata.normalize("NFKC", text or "").strip()
    changed = True
    while changed and out:
        changed = False
        for head in _START:
            if out.startswith(head):
                out, changed = out[len(head):].strip(), True
        for tail in (*_END, "呢", "么", "？", "。", "!", "！"):
            if out.endswith(tail):
                out, changed = out[: -len(tail)].strip(), True
    return out


@functools.cache
def _tokenizer() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    tok.initialize()
    # a file object: jieba given a path would leave the file open
    with resources.files("bot").joinpath("content", "jieba_user.txt").open("rb") as handle:
        tok.load_userdict(handle)
    return tok


def words(text: str) -> list[str]:
    with _lock:
        tok = _tokenizer()
    return [w for w in tok.lcut(text) if w.strip()]


def features(text: str) -> list[str]:
    folded = fold(text).replace("?", "")
    feats = [f"w:{w}" for w in words(folded)] if folded else []
    feats += [f"c:{c}" for c in folded]
    feats += [f"b:{folded[i:i + 2]}" for i in range(len(folded) - 1)]
    return feats


class Model:
    """Naive Bayes with add-α smoothing and a uniform prior; `weights[label][feature]` is a log probability."""

    def __init__(self, pairs: Iterable[tuple[str, str]], alpha: float = 0.1, novelty: float = 20.0) -> None:
        self.novelty = novelty
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        self.exact: dict[str, str] = {}  # a phrase it was trained on gets its own label back
        for label, text in pairs:
            if label == QUESTION:  # questions are the detector's business, not the model's
                continue
            counts[label].update(features(text))
            self.exact.setdefault(fold(text), label)
        vocab = set().union(*counts.values()) if counts else set()
        self.vocab = frozenset(vocab)
        self.weights: dict[str, dict[str, float]] = {}
        self.unseen: dict[str, float] = {}
        for label, counter in counts.items():
            total = sum(counter.values()) + alpha * (len(vocab) + 1)
            self.weights[label] = {f: math.log((n + alpha) / total) for f, n in counter.items()}
            self.unseen[label] = math.log(alpha / total)

    def scores(self, text: str) -> list[tuple[float, str]]:
        """(log score, label), best first; [] when no feature was ever seen. A feature no phrase ever had
        counts as evidence for `none` (`novelty` times likelier there): unknown words are unrelated chat."""
        feats = features(text)
        if not any(f in self.vocab for f in feats):
            return []
        ranked = []
        for label, weights in self.weights.items():
            novel = self.unseen[label] + (math.log(self.novelty) if label == NONE else 0.0)
            ranked.append((sum(weights.get(f, self.unseen[label]) if f in self.vocab else novel for f in feats),
                           label))
        return sorted(ranked, reverse=True)

    def predict(self, text: str) -> str:
        """One label of the phrase set: a question, an intent, or `none`."""
        return self.decide(text)[0]

    def decide(self, text: str) -> tuple[str, str | None]:
        """(label, held back): `held back` is the acting intent the guard of step 3 refused for a weak lead
        or a text that does not say it is done / who goes (not for a negation), else None."""
        if is_question(text):
            return QUESTION, None
        if fold(text) in self.exact:
            return self.exact[fold(text)], None
        ranked = self.scores(text)
        if not ranked:
            return NONE, None
        best, label = ranked[0]
        if label not in ACTING:
            return label, None
        folded = fold(text)
        runner_up = ranked[1][0] if len(ranked) > 1 else -math.inf
        negated = bool(_NEGATION.search(_NOT_NEGATION.sub("", folded)))
        says = all(cue.search(folded) for cue in _ACTS[label])
        if negated or not says or best - runner_up < MARGIN:
            return next((lab for _, lab in ranked if lab not in ACTING), NONE), None if negated else label
        return label, None


def load_phrases() -> list[tuple[str, str]]:
    """(label, text) of content/intent_phrases.tsv, in file order."""
    pairs = []
    for line in read_content("intent_phrases.tsv").splitlines():
        if line.strip() and not line.startswith("#"):
            label, _, text = line.partition("\t")
            pairs.append((label.strip(), text.strip()))
    return pairs


@functools.cache
def _intents_toml() -> dict[str, Any]:
    return tomllib.loads(read_content("intents.toml"))


def keyword_phrases() -> list[tuple[str, str]]:
    data = _intents_toml()
    return [(name, word) for name, spec in data["intents"].items() for word in spec.get("keywords", ())]


def split(pairs: Sequence[tuple[str, str]], share: float = 0.2,
          seed: int = SEED) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(train, held out): a seeded shuffle, `share` of each label held out."""
    by_label: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for pair in pairs:
        by_label[pair[0]].append(pair)
    rng = random.Random(seed)
    train, held = [], []
    for label in sorted(by_label):
        rows = by_label[label][:]
        rng.shuffle(rows)
        cut = max(1, round(len(rows) * share))
        held += rows[:cut]
        train += rows[cut:]
    return train, held


def command_for(intent: str) -> str:
    """The command an intent answers with (content/intents.toml `command`)."""
    return _intents_toml()["intents"].get(intent, {}).get("command", "帮助")


@functools.cache
def _model() -> Model:
    return Model(load_phrases() + keyword_phrases())


def warm_up() -> None:
    """Load the dictionary and train now (web worker and `say` start-up), not on the first message."""
    with _lock:
        _tokenizer()
    _model()


@functools.lru_cache(maxsize=1024)
def _decision(text: str) -> tuple[str, str | None]:
    """The model's (label, held back) for a free text, decided once: every free-text route asks about the
    same text (classify, then held_back), and jieba should cut it once."""
    if not text or len(text) > 200:
        return NONE, None
    return _model().decide(text)


def held_back(text: str) -> str | None:
    """The acting intent a free text came close to without acting (「我要参加」 → attend), else None."""
    return _decision(text)[1]


def classify(text: str) -> str | None:
    """The intent of a free text (`question` for a question), None when it is none of them."""
    label = _decision(text)[0]
    return None if label == NONE else label


def evaluate(seed: int = SEED) -> dict[str, tuple[int, int]]:
    """{label: (right, total)} on the held-out 20 % of the phrases, the model trained on the other 80 %."""
    train, held = split(load_phrases(), seed=seed)
    model = Model(train + keyword_phrases())
    result: dict[str, tuple[int, int]] = {}
    for label, text in held:
        right, total = result.get(label, (0, 0))
        result[label] = (right + (model.predict(text) == label), total + 1)
    return result


if __name__ == "__main__":  # python -m bot.intents: the held-out accuracy per intent
    for name, (right, total) in sorted(evaluate().items()):
        print(f"{name:<13} {right:>3}/{total:<3} {right / total:.1%}")  # noqa: T201
