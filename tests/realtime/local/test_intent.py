"""Routing by intent: paraphrases go to their skill, near-misses and open questions to the model.

Pure (no models). Speed is measured by ``bench/eval_answers.py`` (routing p50/p95), not here.
"""

from __future__ import annotations

import pytest

from realtime.local.intent import CONFIDENT, Kind, classify

PARAPHRASES: list[tuple[str, Kind]] = [
    ("What's twelve times seven?", Kind.ARITHMETIC),
    ("how much is 15 percent of 80", Kind.ARITHMETIC),
    ("Calculate 144 divided by 12", Kind.ARITHMETIC),
    ("what is the square root of 81", Kind.ARITHMETIC),
    ("Do you have the time?", Kind.TIME),
    ("what time is it right now", Kind.TIME),
    ("What's today's date?", Kind.DATE),
    ("which day of the week is it", Kind.DATE),
    ("What does the sign say?", Kind.READ_TEXT),
    ("Can you read this label for me?", Kind.READ_TEXT),
    ("What's written on the paper?", Kind.READ_TEXT),
    ("read the sign for me", Kind.READ_TEXT),
    ("Scan the QR code please", Kind.CODES),
    ("what's in the barcode", Kind.CODES),
    ("How many people do you see?", Kind.FACES),
    ("Is there anyone in the picture?", Kind.FACES),
    ("Is it too dark in here to read?", Kind.LIGHT),
    ("is there enough light", Kind.LIGHT),
    ("Is the picture blurry?", Kind.BLUR),
    ("What colour is the mug?", Kind.COLOUR_OF_THING),
    ("what color is this", Kind.COLOUR_OF_THING),
    ("What colour is the thing I'm holding?", Kind.COLOUR_OF_THING),
    ("What colors the mic?", Kind.COLOUR_OF_THING),  # "What colour's the mug?" as heard
    ("what colours do you see", Kind.COLOURS),
    ("Describe what you see.", Kind.DESCRIBE),
    ("What can you see right now?", Kind.DESCRIBE),
    ("what's in front of the camera", Kind.DESCRIBE),
    ("What is this?", Kind.IDENTIFY),
    ("what am I holding", Kind.IDENTIFY),
    ("can you recognise this", Kind.IDENTIFY),
    ("My name is Sam.", Kind.REMEMBER),
    ("Hi, I'm called Ana.", Kind.REMEMBER),
    ("my favourite colour is blue", Kind.REMEMBER),
    ("I'm holding my keys.", Kind.REMEMBER),
    ("What's my name?", Kind.RECALL),
    ("do you remember my name", Kind.RECALL),
    ("what's my favourite colour", Kind.RECALL),
    ("Repeat that.", Kind.REPEAT),
    ("Could you say it again?", Kind.REPEAT),
    ("sorry, I didn't catch that", Kind.REPEAT),
    ("Slower please.", Kind.REPEAT),
    ("Could you repeat that more slowly?", Kind.REPEAT),
    # Translation requests carry skill words ("say", "sign", "read") but are not theirs.
    ("Say good night in French.", Kind.TRANSLATE),
    ("How do you say thank you in Spanish?", Kind.TRANSLATE),
    ("Translate good morning into German.", Kind.TRANSLATE),
    ("Say hello in Italian.", Kind.TRANSLATE),
    ("What's the Portuguese word for water?", Kind.TRANSLATE),
    ("how do you say read the sign in French", Kind.TRANSLATE),
]

#: Near-misses: a skill's words without being its question, and open questions.
TO_THE_MODEL: list[str] = [
    "What's the sign for infinity?",
    "Read me a poem.",
    "read me a story about a dragon",
    "What time is it in Tokyo?",
    "What day was the moon landing?",
    "How many people live in Paris?",
    "How fast is light?",
    "What is dark matter?",
    "What colour is the sky?",
    "What colour are flamingos?",
    "What does the word serendipity mean?",
    "What's the capital of France?",
    "Do elephants have good memory?",
    "Tell me about elephants.",
    "What is your name?",
    "Write a song about the sea.",
    "What's the difference between a frog and a toad?",
    "Can you repeat after me: red lorry, yellow lorry?",
    "Tell me a joke about numbers.",
    "What is a QR code?",
    "How do barcodes work?",
]


@pytest.mark.parametrize(("text", "kind"), PARAPHRASES)
def test_paraphrases_reach_their_skill(text: str, kind: Kind) -> None:
    intent = classify(text)
    assert intent.kind == kind, intent
    assert intent.score >= CONFIDENT


@pytest.mark.parametrize("text", TO_THE_MODEL)
def test_near_misses_and_open_questions_go_to_the_model(text: str) -> None:
    intent = classify(text)
    assert intent.kind == Kind.CHAT, intent


def test_slower_and_targets_are_read_from_the_words() -> None:
    assert classify("slower please").slower
    assert classify("Could you repeat that more slowly?").slower
    assert not classify("say it again").slower
    assert classify("What colour is the mug?").target == "mug"
    assert classify("what colour is my shirt").target == "shirt"


def test_camera_relevance_of_chat_questions() -> None:
    assert classify("Is this healthy to eat?").about_camera
    assert not classify("What's the capital of France?").about_camera


def test_verbs_months_favourites_and_definitions() -> None:
    assert classify("Multiply 6 by 8.").kind == Kind.ARITHMETIC
    assert classify("Which month are we in?").kind == Kind.DATE
    assert classify("Anyone in view?").kind == Kind.FACES
    assert classify("What food do I love most?").kind == Kind.RECALL
    assert classify("What does QR stand for?").kind == Kind.CHAT
    assert classify("Could you tell me how to say yes in Portuguese?").kind == Kind.TRANSLATE
    assert classify("Anything odd in the picture?").visual
    assert not classify("Tell me more about that.").visual


def test_creative_and_translation_requests_are_not_about_the_picture() -> None:
    for text in ("Read me that poem.", "Say this in French.", "Write a song about what you see"):
        intent = classify(text)
        assert not intent.about_camera and not intent.visual, intent
