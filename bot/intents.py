"""Free text → intent, learned from the labelled phrases in content/intent_phrases.tsv.

Three steps, each explainable:
1. A question detector (CONTRACT "Chat input"): a text starting with 怎么/如何/怎样, ending with 怎么弄/怎么办/
   吗/？, or carrying another question word (咋, 呢, 么, …) is `question`: it answers how and never acts.
2. A phrase it was trained on gets its label back; otherwise a softmax regression over jieba words,
   characters, character pairs, each intent's lexicon hits (content/intents.toml `keywords`, also when negated)
   and how novel the text is (a text of words no phrase had is unrelated chat), trained on the phrases with a
   fixed seed (the mean of the later epochs' weights). A text none of whose features was ever seen is `none`.
3. A guard for the intents that act (check-in, 参加): a negation (没, 不, 未, 别, 无法, 忘), a text about
   someone else or another time without 我 (「老伴也学习了」「上次参加过了」), a text that does not say what
   was done (check-in: 学/读/看/阅/卡 and 完/了/过/已…) or who goes (参加: 参/去/到/报…), or a weak lead over
   the runner-up gives the best intent that does not act instead (and the reply says what to send); a
   negated 参加 (「没空参加」) is a leave (请假).
Loaded once per process (jieba through bot.segment ~0.7 s, training ~1.5 s; `warm_up` does both at start-up).
"""

from __future__ import annotations

import functools
import math
import random
import re
import tomllib
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from bot import segment
from bot.texts import read_content

SEED = 20261129
ACTING = frozenset({"checkin", "attend"})
QUESTION = "question"
NONE = "none"
_START = ("怎么", "如何", "怎样")
_END = ("怎么弄", "怎么办", "吗", "?")
_CUES = re.compile(r"怎么|如何|怎样|咋|吗|(?<!什)么|呢|\?|[没吧]\?$")
_NEGATION = re.compile(r"没|不|未|别|无法|忘")
_NOT_NEGATION = re.compile(r"没问题|没事|不错|不客气")  # 「没问题，我参加」 is not a refusal
# Someone else did it (「老伴也学习了」「参加的人多」): only the sender's own check-in or 参加 acts.
_OTHERS = re.compile(r"他|她|别人|人家|大家|老伴|老李|老王|老张|儿子|女儿|孩子|孙子|孙女|的人|人多|上次|上回")
_SELF = re.compile(r"我|俺|咱|本人|算上|报名|帮我")
# What an acting intent's text must say: a check-in says it is done, 参加 says who goes where.
_ACTS = {"checkin": (re.compile(r"学|读|看|阅|卡"), re.compile(r"完|了|过|好|毕|已|己|卡|阅|咯|啦")),
         "attend": (re.compile(r"参|出席|(?<!收)到|去|报|算我|来"),)}
_NOISE = re.compile(r"[^\w?]+")
MARGIN = 1.0  # score lead an acting intent needs over the runner-up
EPOCHS, RATE = 12, 0.3  # chosen, like the features, by 5-fold cross-validation on the 80 % (never the 20 %)


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


def features(text: str) -> list[str]:
    """jieba words, characters, character pairs and lexicon hits of the matching form (each once)."""
    folded = fold(text).replace("?", "")
    feats = [f"w:{w}" for w in segment.words(folded)] if folded else []
    feats += [f"c:{c}" for c in folded]
    feats += [f"b:{folded[i:i + 2]}" for i in range(len(folded) - 1)]
    hits = [name for name, cues in _lexicon() if any(cue in folded for cue in cues)]
    feats += [f"k:{name}" for name in hits] + ([f"n:{name}" for name in hits] if _negated(folded) else [])
    return list(dict.fromkeys(feats))


class Model:
    """A multinomial logistic regression (softmax, AdaGrad, a fixed seed) over the phrase features, each
    intent's lexicon hits (content/intents.toml `keywords`, `k:<intent>`, and `n:<intent>` when a negation is
    near) and how novel the text is (`v:0`…`v:4`: the share of its features no training phrase had; in
    training, the share no *other* phrase had). `weights[label][feature]` is a learned weight."""

    def __init__(self, pairs: Iterable[tuple[str, str]], epochs: int = EPOCHS, rate: float = RATE) -> None:
        rows = [(label, text) for label, text in pairs if label != QUESTION]  # questions: the detector's
        self.exact = {fold(text): label for label, text in reversed(rows)}  # a trained phrase: its (first) label
        cut = [(label, features(text)) for label, text in rows]
        seen_in = Counter(f for _, feats in cut for f in feats)
        self.vocab = frozenset(seen_in)
        data = [(label, feats + _novelty(sum(seen_in[f] == 1 for f in feats), len(feats))) for label, feats in cut]
        self.labels = sorted({label for label, _ in data})
        self.weights: dict[str, dict[str, float]] = {label: defaultdict(float) for label in self.labels}
        self.bias, rng = dict.fromkeys(self.labels, 0.0), random.Random(SEED)
        squares: dict[str, dict[str, float]] = {label: defaultdict(lambda: 1e-8) for label in self.labels}
        mean: dict[str, dict[str, float]] = {label: defaultdict(float) for label in self.labels}
        for epoch in range(epochs):
            rng.shuffle(data)
            for gold, feats in data:
                probs = _softmax({label: self._score(label, feats) for label in self.labels})
                for label in self.labels:
                    grad = probs[label] - (label == gold)
                    if abs(grad) < 1e-4:
                        continue
                    row, sq = self.weights[label], squares[label]
                    for f in feats:
                        sq[f] += grad * grad
                        row[f] -= rate * grad / math.sqrt(sq[f])
                    self.bias[label] -= 0.05 * grad
            if epoch >= epochs // 2:  # the mean of the later epochs' weights: steadier than the last one
                for label, row in self.weights.items():
                    for f, value in row.items():
                        mean[label][f] += value / (epochs - epochs // 2)
        self.weights = {label: dict(row) for label, row in mean.items()}

    def _score(self, label: str, feats: Sequence[str]) -> float:
        row = self.weights[label]
        return self.bias[label] + sum(row.get(f, 0.0) for f in feats)

    def scores(self, text: str) -> list[tuple[float, str]]:
        """(score, label), best first; [] when no feature of the text was ever seen."""
        feats = features(text)
        seen = [f for f in feats if f in self.vocab]
        if not seen:
            return []
        seen += _novelty(len(feats) - len(seen), len(feats))
        return sorted(((self._score(label, seen), label) for label in self.labels), reverse=True)

    def predict(self, text: str) -> str:
        """One label of the phrase set: a question, an intent, or `none`."""
        return self.decide(text)[0]

    def decide(self, text: str) -> tuple[str, str | None]:
        """(label, held back): `held back` is the acting intent the guard of step 3 refused for a weak lead or
        a text that does not say it is done / who goes (not for a negation or someone else), else None."""
        if is_question(text):
            return QUESTION, None
        folded = fold(text)
        if folded in self.exact:
            return self.exact[folded], None
        ranked = self.scores(text)
        if not ranked:
            return NONE, None
        best, label = ranked[0]
        if label not in ACTING:
            return label, None
        runner_up = ranked[1][0] if len(ranked) > 1 else -math.inf
        negated = _negated(folded)
        if negated and label == "attend":  # 「没空参加」「参加不了」: the way to say so is 请假
            return "leave_howto", None
        fallback = next((lab for _, lab in ranked if lab not in ACTING), NONE)
        if negated or (_OTHERS.search(folded) and not _SELF.search(folded)):  # 「他们都学完了」: not the sender
            return fallback, None
        weak = best - runner_up < MARGIN or not all(cue.search(folded) for cue in _ACTS[label])
        return (fallback, label) if weak else (label, None)


def _softmax(scores: dict[str, float]) -> dict[str, float]:
    top = max(scores.values())
    exp = {label: math.exp(value - top) for label, value in scores.items()}
    total = sum(exp.values())
    return {label: value / total for label, value in exp.items()}


def _novelty(novel: int, total: int) -> list[str]:
    return [f"v:{round(4 * novel / max(1, total))}"]


def _negated(folded: str) -> bool:
    return bool(_NEGATION.search(_NOT_NEGATION.sub("", folded)))


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


@functools.cache
def _lexicon() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(intent, its keywords folded) for every intent of content/intents.toml, `none` included."""
    return tuple((name, tuple(fold(w) for w in spec.get("keywords", ())))
                 for name, spec in _intents_toml()["intents"].items())


def keyword_phrases() -> list[tuple[str, str]]:
    return [(name, word) for name, spec in _intents_toml()["intents"].items() for word in spec.get("keywords", ())]


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
    segment.load()
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
