"""The vocabulary of ``intent.classify``: the intent kinds, and per kind the patterns that are
its question (*cues*) and the near-misses that only share its words (*vetoes*), each with a
weight 0..1 and a reason. Data only; the scoring is in ``intent.py``.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Kind(StrEnum):
    """Who answers. Every kind but CHAT is answered deterministically."""

    ARITHMETIC = "arithmetic"
    TIME = "time"
    DATE = "date"
    READ_TEXT = "read_text"
    CODES = "codes"
    FACES = "faces"
    LIGHT = "light"
    BLUR = "blur"
    COLOUR_OF_THING = "colour_of_thing"
    COLOURS = "colours"
    DESCRIBE = "describe"
    IDENTIFY = "identify"
    REMEMBER = "remember"  # the user states a fact about themselves and asks nothing
    RECALL = "recall"  # the user asks for a fact they stated
    REPEAT = "repeat"
    TRANSLATE = "translate"  # a word or short phrase into another language (dictionary)
    CHAT = "chat"


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_LANGS = (
    r"french|spanish|german|italian|portuguese|japanese|chinese|mandarin|cantonese|korean|"
    r"russian|arabic|hindi|dutch|swedish|norwegian|danish|finnish|polish|greek|turkish|latin|"
    r"hebrew|irish|welsh|esperanto|swahili|thai|vietnamese|indonesian|czech|hungarian|ukrainian"
)
#: Near-misses shared by every skill: translation and creative requests are the model's.
GLOBAL_VETOES: tuple[tuple[re.Pattern[str], float, str], ...] = (
    (_rx(rf"\bin ({_LANGS})\b|\btranslat"), 0.9, "translation"),
    (_rx(r"\bhow (do|would) (you|i|we) say\b|\bwhat'?s? (is )?the (\w+ )?word for\b"), 0.8, "word"),
    (_rx(r"\b(poem|story|stories|joke|song|riddle|limerick|haiku|fairy ?tale)\b"), 0.8, "creative"),
    (_rx(r"\bstands? for\b|\bdefinition\b|\bmeaning of\b|\binvented\b"), 0.8, "definition"),
)

#: Words that make a question about the picture itself (not "this" in a conversation).
VISUAL_WORDS = _rx(
    r"\b(see|seeing|look|looking|camera|picture|photo|image|frame|in view|visible|in front|"
    r"holding|in my hand|on screen|on the screen)\b"
)
CAMERA_WORDS = _rx(
    r"\b(see|seeing|look|looking|camera|picture|photo|image|frame|screen|view|in front|"
    r"here|this|that|these|those|holding|hold|my hand|visible|showing|show)\b"
)

_NUM_WORDS = (
    r"zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
    r"eighty|ninety|hundred|thousand|million"
)
_NUM = rf"(?:-?\d+(?:[.,]\d+)?|(?:(?:{_NUM_WORDS})(?:[\s-]+(?:and\s+)?)?)+)"
_OP = r"(?:plus|minus|times|multiplied by|divided by|over|x|×|÷|\*|/|\+|-|percent of|% of)"

Cue = tuple[re.Pattern[str], float, str]

CUES: dict[Kind, tuple[Cue, ...]] = {
    Kind.ARITHMETIC: (
        (
            _rx(
                rf"^\W*(please )?(multiply|divide|add|subtract|take)\s+{_NUM}\s+"
                rf"(by|and|to|from|away from)\s+{_NUM}\W*$"
            ),
            0.9,
            "multiply a by b",
        ),
        (
            _rx(
                rf"^\W*(what'?s|what is|how much is|calculate|compute|work out)?\s*{_NUM}\s*{_OP}"
                rf"\s*{_NUM}\s*\W*$"
            ),
            0.95,
            "whole utterance is a sum",
        ),
        (_rx(rf"\b(square root of|{_NUM}\s+squared\b)"), 0.85, "root/square"),
        (
            _rx(rf"\b(what'?s|what is|how much is|calculate|compute)\s+{_NUM}\s*{_OP}\s*{_NUM}"),
            0.85,
            "what is a op b",
        ),
        (
            _rx(rf"{_NUM}\s*(plus|minus|times|multiplied by|divided by|percent of)\s*{_NUM}"),
            0.65,
            "a op b inside a sentence",
        ),
    ),
    Kind.TIME: (
        (
            _rx(
                r"\bwhat time is it\b|\bwhat'?s the time\b|\bwhat is the time\b|\btell me the time"
                r"\b|\bcurrent time\b|\bthe time (right )?now\b|\bhave the time\b|\bwhat hour is it"
            ),
            0.9,
            "asks the time",
        ),
    ),
    Kind.DATE: (
        (
            _rx(
                r"\bwhat day is (it|today)\b|\bwhat'?s today\b|\bwhat is today\b|\btoday'?s date\b"
                r"|\bwhat'?s the date\b|\bwhat is the date\b|\bwhat date is (it|today)\b"
                r"|\bwhat (year|month) is it\b|\bwhich day (of the week )?is (it|today)\b"
                r"|\bday of the week is it\b|\bthe date today\b"
                r"|\b(what|which) (year|month|day) (are we in|is it now|is it today)\b"
            ),
            0.9,
            "asks the date",
        ),
    ),
    Kind.CODES: ((_rx(r"\bq\.?\s?r\b|\bbar ?codes?\b|\bqr ?codes?\b"), 0.9, "QR/barcode"),),
    Kind.READ_TEXT: (
        (_rx(r"\bread (out )?(the|this|that|it|what|me the|me what|out)\b"), 0.75, "read the ..."),
        (_rx(r"\bwhat does (the|this|that|it|my) ?(\w+ )?(say|read)\b"), 0.9, "what does X say"),
        (_rx(r"\bwhat('?s| is) (it |that |this )?(written|printed)\b"), 0.9, "what is written"),
        (_rx(r"\bwhat (text|words?|writing)\b.*\b(see|there|on|say)\b"), 0.85, "what text"),
        (
            _rx(r"\b(any|the|some) (text|writing|words)\b.*\b(see|there|picture|camera)\b"),
            0.7,
            "any text",
        ),
        (_rx(r"\bcan you read\b"), 0.7, "can you read"),
    ),
    Kind.FACES: (
        (
            _rx(
                r"^\W*(is )?(there )?(anyone|anybody|someone|somebody|people|a person) (in view|"
                r"there|here|around|visible|in (the )?(picture|frame|shot))\W*$"
            ),
            0.85,
            "anyone in view",
        ),
        (
            _rx(
                r"\bhow many (faces|people|persons)\b.*\b(see|there|here|picture|camera|frame|in "
                r"front|room|visible)\b"
            ),
            0.9,
            "how many people (visual)",
        ),
        (_rx(r"\bhow many faces\b|\bany faces?\b|\bsee (a |any )?faces?\b"), 0.9, "faces"),
        (
            _rx(
                r"\b(is|are) (there )?(anyone|anybody|someone|somebody|people)\b.*\b(here|there|"
                r"picture|camera|frame|in front|see)\b|\bdo you see (anyone|anybody|someone|"
                r"somebody|people|a person)\b|\bcan you see me\b"
            ),
            0.85,
            "anyone there",
        ),
    ),
    Kind.LIGHT: (
        (
            _rx(r"\b(is it|it'?s) (too |very |quite |a bit )?(dark|bright|dim)\b"),
            0.85,
            "is it dark",
        ),
        (_rx(r"\b(enough|the|how'?s the|how is the) (light|lighting)\b"), 0.75, "the light"),
        (_rx(r"\btoo (dark|dim|bright)\b|\bhow (bright|dark)\b"), 0.8, "too dark"),
    ),
    Kind.BLUR: ((_rx(r"\b(blurr?y|out of focus|in focus|sharp enough)\b"), 0.85, "blur"),),
    Kind.COLOUR_OF_THING: (
        (
            _rx(r"\bwhat colou?r (is|are|'s) (the|this|that|my|these|those|it)\b"),
            0.8,
            "what colour is the X",
        ),
        (_rx(r"\bwhat colou?r (is|are) (the )?(thing|object|one)\b"), 0.85, "colour of object"),
        (_rx(r"\bcolou?r of (the|this|that|my|it)\b"), 0.8, "the colour of X"),
        (_rx(r"\bwhat colou?r\b.*\b(holding|hold|in my hand|in front)\b"), 0.9, "held colour"),
        (_rx(r"\bwhich colou?r is (the|this|that|my|it)\b"), 0.8, "which colour"),
        (_rx(r"\bwhat colou?rs? (the|this|that|my|it)\b"), 0.7, "what colour('s) the X, as heard"),
    ),
    Kind.COLOURS: (
        (
            _rx(
                r"\bwhat colou?rs\b.*\b(see|there|picture|camera|frame)\b|\bwhich colou?rs\b.*"
                r"\b(see|there)\b|\bwhat colou?rs? (do|can) you see\b"
            ),
            0.85,
            "colours in view",
        ),
    ),
    Kind.DESCRIBE: (
        (
            _rx(
                r"\bwhat (do|can) you see\b|\bwhat are you seeing\b|\bwhat'?s in (the )?(picture|"
                r"frame|view|image)\b|\bwhat does the camera (see|show)\b"
                r"|\bwhat'?s on (the )?camera\b|\bwhat'?s in front of (you|me|the camera)\b"
                r"|\bwhat is in front of (you|me|the camera)\b"
            ),
            0.9,
            "what do you see",
        ),
        (
            _rx(
                r"\bdescribe (what|the scene|the picture|the image|the view|the frame|this|my "
                r"(room|desk|surroundings)|everything|the room|the desk)\b|\bdescribe it\b"
            ),
            0.9,
            "describe the scene",
        ),
        (_rx(r"\blook (at|around)\b.*\b(tell|what)\b|\btell me what you see\b"), 0.85, "look"),
    ),
    Kind.IDENTIFY: (
        (
            _rx(
                r"\bwhat('?s| is) (this|that|it)( thing| object)?\W*$|\bwhat am i holding\b"
                r"|\bwhat('?s| is) in my hand\b|\bwhat (object|thing) is (this|that)\b"
                r"|\bwho is (this|that)\b|\bcan you (recogni[sz]e|identify)\b"
                r"|\bidentify (this|that|it|the)\b"
                r"|\bwhat (kind|type|sort) of (\w+ )?is (this|that)\b"
                r"|\bwhat is this (\w+ )?called\b|\bhow many (fingers|things|objects|items)\b"
            ),
            0.85,
            "what is this",
        ),
    ),
    Kind.RECALL: (
        (
            _rx(
                r"\bwhat'?s my name\b|\bwhat is my name\b|\bwho am i\b|\bdo you (know|remember) "
                r"(my name|who i am)\b|\bwhat did i (say|tell you) my name\b|\bremember my name\b"
                r"|\bwhat('?s| is) my fav(ou?rite)? \w+|\bwhat do i (like|love|prefer|enjoy)\b"
                r"|\bwhat did i (say|tell you) i('?m| am)? ?(was )?holding\b|\bhow old am i\b"
                r"|\bwhat \w+ do i (like|love|prefer|enjoy) (most|best)\b"
                r"|\bwhere do i live\b|\bwhere am i from\b|\bwhat did i (just )?(say|tell you)\b.*"
                r"\b(like|name|favou?rite|holding)\b"
            ),
            0.9,
            "asks a stated fact",
        ),
    ),
    Kind.REPEAT: (
        (
            _rx(
                r"\b(repeat|say (that|it|this) again|say again|come again|one more time|once more"
                r"|what did you (just )?say|didn'?t (catch|hear|get) (that|it|you)|pardon)\b"
            ),
            0.9,
            "repeat",
        ),
        (_rx(r"\b(slower|more slowly|slow down|less fast|too fast)\b"), 0.9, "slower"),
        (_rx(r"^\W*(sorry|what|huh|again)\W*$"), 0.8, "what?"),
    ),
    Kind.REMEMBER: (
        (
            _rx(
                r"^\W*(hi|hello|hey)?\W*(my name is|my name's|i'?m called|call me|i am called)\s+"
                r"[a-z]"
            ),
            0.9,
            "states a name",
        ),
        (_rx(r"^\W*my fav(ou?rite)? \w+( \w+)? is\b"), 0.9, "states a favourite"),
        (
            _rx(r"^\W*(i|i really) (like|love|prefer|enjoy|hate|dislike)\s+\w+"),
            0.8,
            "states a liking",
        ),
        (
            _rx(
                r"^\W*i'?m holding\b|^\W*i am holding\b|^\W*this is my\b|^\W*i'?m \d+ years"
                r"|^\W*i live in\b|^\W*i'?m from\b"
            ),
            0.85,
            "states a fact",
        ),
    ),
}

VETOES: dict[Kind, tuple[Cue, ...]] = {
    Kind.ARITHMETIC: (),
    Kind.TIME: (
        (
            _rx(
                r"\btime (is it )?in [a-z]|\btime zone|\bwhat time (does|do|did|will|should|is "
                r"the)\b"
            ),
            0.8,
            "time elsewhere / of an event",
        ),
    ),
    Kind.DATE: (
        (
            _rx(r"\b(was|were|did|will)\b|\bis (christmas|easter|halloween|new year|thanksgiving)"),
            0.7,
            "date of an event",
        ),
    ),
    Kind.CODES: (
        (
            _rx(r"\bwhat (is|are) (a|an) (qr|bar)|\bhow do (qr|bar) ?codes?\b|\bwho invented\b"),
            0.8,
            "what codes are",
        ),
    ),
    Kind.READ_TEXT: (
        (
            _rx(
                r"\bsign (for|of) (?!(me|us|you)\b)|\bsign (language|up|in|out)\b"
                r"|\bzodiac\b|\bstar sign\b|\bwhat sign\b"
            ),
            0.8,
            "a sign that is not a signboard",
        ),
        (_rx(r"\bread (me )?(a|an|some|something|any)\b|\bbook\b|\bnews\b"), 0.6, "read me a"),
        (_rx(r"\bwhat does (the word|the phrase|the name|\w+ mean)|\bmean\b"), 0.8, "meaning"),
        (_rx(r"\bwhat does the (fox|cow|dog|cat|bible|law)\b"), 0.8, "idiom"),
    ),
    Kind.FACES: (
        (
            _rx(r"\b(live|living|population|world|country|city|died|speak|in the us|in china)\b"),
            0.8,
            "people in the world",
        ),
    ),
    Kind.LIGHT: (
        (
            _rx(
                r"\bspeed of light\b|\blight ?years?\b|\bhow fast\b|\bdark (matter|energy|"
                r"chocolate|web|ages|side)\b|\bbright (side|idea)\b|\blight (bulb|house|saber)\b"
                r"|\bwhy is\b|\bat night\b|\boutside\b|\bin (winter|summer)\b"
            ),
            0.8,
            "physics or idiom",
        ),
    ),
    Kind.BLUR: (),
    Kind.COLOUR_OF_THING: (
        (
            _rx(
                r"\bcolou?r (is|are) (the )?(sky|sun|sea|ocean|grass|blood|snow|moon|earth|"
                r"mars|space|water|a|an)\b|\bcolou?r (is|are) (?!this\b|his\b)\w+s\W*$"
            ),
            0.8,
            "world knowledge",
        ),
        (_rx(r"\bcolou?r (is|are) (the )?(flag|uniform|jersey|logo) of\b"), 0.8, "a flag"),
    ),
    Kind.COLOURS: (),
    Kind.DESCRIBE: (
        (
            _rx(r"\bdescribe (a|an|how|why|the (water|process|history|difference))\b"),
            0.8,
            "describe something general",
        ),
    ),
    Kind.IDENTIFY: (),
    Kind.RECALL: (),
    Kind.REPEAT: (
        (
            _rx(
                r"\brepeat(ed|ing)? (after|back) me\b|\brepeat the (word|phrase|sentence|words)\b"
                r"|\bslower than\b|\bslow(er)? (cooker|motion|food)\b|\brepeatedly\b"
            ),
            0.8,
            "not a request to repeat the last answer",
        ),
    ),
    Kind.REMEMBER: (
        (
            _rx(r"\?|\b(can you|could you|would you|will you|tell me|what|how|why|where|when)\b"),
            0.5,
            "also asks something",
        ),
    ),
}

#: Kinds that don't depend on what is said in another language (the global vetoes skip them).
NO_GLOBAL_VETO = frozenset({Kind.RECALL, Kind.REPEAT, Kind.REMEMBER, Kind.TRANSLATE})

TARGET = _rx(
    r"\bcolou?rs? (?:is |are |'s )?(?:the|this|that|my|these|those) ([a-z][a-z -]{0,30}?)"
    r"(?: (?:i'?m|i am|on|in|at|that|which|here|there|right)\b|\W*$)"
    r"|\bcolou?r of (?:the|this|that|my) ([a-z][a-z -]{0,30}?)(?:\W*$| (?:i'?m|on|in|at)\b)"
)
SLOWER = _rx(r"\b(slower|slowly|slow down|too fast|less fast)\b")
