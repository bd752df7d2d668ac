"""Random damage to JSON messages, shared by the fuzzers (``bench/fuzz_cores.py`` against the
protocol cores, ``bench/fuzz_mutations.py`` against the offline server).

A ``TreeMutator`` turns one seed message into one case: the seed untouched, its tree mutated
(keys dropped or added, ``type`` swapped, strings cut, values replaced), its JSON text damaged,
or a raw frame; then sometimes sent as a binary frame, now and then with invalid UTF-8. How often
each happens is a ``CaseMix``; what values and keys it invents is the subclass's ``json_value``
and ``keys``/``types``. Deterministic for a seeded ``rng``.
"""

from __future__ import annotations

import copy
import json
import random
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CaseMix:
    """Cumulative shares of a case's kinds (``untouched`` < ``tree`` < ``text`` < 1: the rest
    are raw frames), then the chances of a raw frame being random bytes and of any frame being
    binary (and of that binary frame ending in an invalid UTF-8 byte)."""

    untouched: float
    tree: float
    text: float
    raw_bytes: float
    raw_texts: tuple[str, ...]
    binary: float
    bad_utf8: float
    #: Text frames must be valid UTF-8 (a real WebSocket client cannot send lone surrogates).
    valid_text: bool = False


class TreeMutator:
    """Damage one seed message into one case (see module docstring). Not thread-safe."""

    keys: list[str]
    types: list[str]
    mix: CaseMix

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def json_value(self, depth: int = 0) -> Any:
        raise NotImplementedError

    def _containers(self, value: Any, out: list[Any]) -> None:
        if isinstance(value, dict | list):
            out.append(value)
            for v in value.values() if isinstance(value, dict) else value:
                self._containers(v, out)

    def mutate_tree(self, msg: dict[str, Any]) -> Any:
        """One to three random edits of a deep copy of ``msg`` (sometimes wrapped in a list)."""
        r = self.rng
        msg = copy.deepcopy(msg)
        for _ in range(r.randrange(1, 4)):
            containers: list[Any] = []
            self._containers(msg, containers)
            target = r.choice(containers)
            op = r.randrange(6)
            if isinstance(target, dict):
                key = r.choice(list(target) or [r.choice(self.keys)])
                if op == 0 and target:
                    target.pop(key, None)
                elif op == 1:
                    target[r.choice(self.keys)] = self.json_value()
                elif op == 2 and "type" in target:
                    target["type"] = r.choice(self.types)
                elif op == 3 and isinstance(target.get(key), str):
                    s = target[key]
                    cut = r.randrange(len(s) + 1)
                    target[key] = s[:cut] + r.choice(["", "!", "=", "A", "-", "_", "\u00e9"])
                else:
                    target[key] = self.json_value()
            elif target:
                i = r.randrange(len(target))
                if op == 0:
                    target.pop(i)
                else:
                    target[i] = self.json_value()
            else:
                target.append(self.json_value())
        if r.random() < 0.03:
            return [msg]
        return msg

    def _damaged_text(self, seed: dict[str, Any]) -> str:
        r = self.rng
        chars = list(json.dumps(seed))
        for _ in range(r.randrange(1, 6)):
            if not chars:
                break
            i = r.randrange(len(chars))
            op = r.randrange(3)
            if op == 0:
                del chars[i:]
            elif op == 1:
                chars[i] = r.choice('{}[]",:0a\\\x00\ud800')
            else:
                chars.insert(i, r.choice('{}[]",:0a\\'))
        return "".join(chars)

    def case(self, seed: dict[str, Any]) -> str | bytes:
        """One text or binary frame made from ``seed``."""
        r, mix = self.rng, self.mix
        mode = r.random()
        if mode < mix.untouched:  # the seed untouched (keeps the state machine moving)
            text = json.dumps(seed)
        elif mode < mix.tree:
            text = json.dumps(self.mutate_tree(seed), ensure_ascii=r.random() < 0.5)
        elif mode < mix.text:
            text = self._damaged_text(seed)
        else:  # raw frames
            if r.random() < mix.raw_bytes:
                return r.randbytes(r.randrange(64))
            text = r.choice(mix.raw_texts)
        if r.random() < mix.binary:  # binary frame, sometimes with invalid UTF-8
            data = text.encode("utf-8", errors="surrogatepass")
            if r.random() < mix.bad_utf8 and data:
                data = data[:-1] + b"\xff"
            return data
        if mix.valid_text:
            return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        return text
