"""The intent layer measured on content/intent_phrases.tsv: trained on 80 %, scored on a held-out 20 %
(random.Random(20261129)); `pytest -s` prints the accuracy per intent."""

from __future__ import annotations

from collections import Counter

from bot import intents

FLOOR = 0.95  # asserted per intent on the held-out split (measured 95.2-100 %)
OVERALL = 0.97  # measured 97.8 %; 5-fold cross-validation on the 80 % alone gives 96.4 % (min 94.5 % per intent)


def test_phrase_set_is_large_and_labelled():
    pairs = intents.load_phrases()
    labels = Counter(label for label, _ in pairs)
    assert len(pairs) >= 300
    assert set(labels) == {"checkin", "study_today", "attend", "leave_howto", "help", "points", "report_howto",
                           "question", "none"}
    assert min(labels.values()) >= 40
    issue = {"已学了", "学了", "已学习", "学习完毕", "已经学了", "已学👍", "我学完了今天的", "我参加", "参加👍",
             "今天学什么", "HELP", "这个怎么用", "怎么打卡", "请假怎么弄"}
    assert issue <= {text for _, text in pairs}


def test_held_out_accuracy_per_intent():
    train, held = intents.split(intents.load_phrases())
    assert not {t for _, t in train} & {t for _, t in held}  # no phrase is both trained on and measured
    assert len(held) >= 0.19 * (len(train) + len(held))
    result = intents.evaluate()
    for label, (right, total) in sorted(result.items()):
        print(f"intent {label:<13} {right:>3}/{total:<3} {right / total:.1%}")  # noqa: T201
    right, total = (sum(v[i] for v in result.values()) for i in (0, 1))
    print(f"intent overall       {right:>3}/{total:<3} {right / total:.1%}")  # noqa: T201
    assert right / total >= OVERALL
    assert all(r / t >= FLOOR for r, t in result.values()), result


def test_no_question_form_classifies_as_an_acting_intent():
    """Every question phrase, and every phrase with a question word added, is a question (never acts)."""
    model = intents.Model(intents.load_phrases())
    for label, text in intents.load_phrases():
        if label in intents.ACTING:
            for form in (f"怎么{text}", f"{text}吗", f"{text}？", f"{text}怎么弄", f"如何{text}"):
                assert model.predict(form) == intents.QUESTION, form
        if label == intents.QUESTION:
            assert model.predict(text) == intents.QUESTION, text


def test_issue_phrases_classify():
    for text, label in [("已学了", "checkin"), ("学了", "checkin"), ("已学👍", "checkin"),
                        ("我学完了今天的", "checkin"), ("学习完毕", "checkin"), ("我参加", "attend"),
                        ("参加👍", "attend"), ("今天学什么", "study_today"), ("HELP", "help"),
                        ("怎么打卡", "question"), ("这个怎么用", "question"), ("还没学", None),
                        ("不参加了", "leave_howto")]:
        assert intents.classify(text) == label, text


def test_held_out_phrases_that_must_not_act_rarely_do():
    """The costly error: a held-out phrase of another label classified as check-in or 参加 (it would act)."""
    train, held = intents.split(intents.load_phrases())
    model = intents.Model(train + intents.keyword_phrases())
    wrong = [(label, text) for label, text in held
             if label not in intents.ACTING and model.predict(text) in intents.ACTING]
    print(f"intent acting false positives {len(wrong)}: {wrong}")  # noqa: T201
    assert len(wrong) <= 0.01 * len(held)


def test_someone_else_or_a_negation_never_acts():
    """Check-in and 参加 act only for the sender's own act: about someone else, another time or negated, they
    do not; a negated 参加 is answered as a leave; the sender with someone else still acts."""
    for text in ("老伴也学完了", "他们都参加了", "上回参加过了", "还没看完", "孩子帮我学完了吗"):
        assert intents.classify(text) not in intents.ACTING, text
    for text, label in [("没空参加", "leave_howto"), ("参加不了了", "leave_howto"), ("我和老伴都参加", "attend"),
                        ("老伴念给我听了，已学", "checkin")]:
        assert intents.classify(text) == label, text
