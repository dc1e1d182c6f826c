"""
Helping staff quote a source letter for letter: when a typed quote is not in the source,
the passage of the source nearest to it, and where the two first differ, in words that
name characters the eye cannot tell apart (’ against ', a doubled space, a no-break space).
"""

import difflib
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Nearest:
    """The passage of a source nearest to a quote, and where they first differ."""

    passage: str
    #: The first difference: "replace", "insert" (typed, not in the source) or "delete"
    #: (in the source, not typed), and where it is in the quote and in the passage.
    change: str
    in_quote: int
    in_passage: int

    def difference(self, quote):
        """The first difference, in words: what was typed, what the source has."""
        before = self.passage[max(0, self.in_passage - 20) : self.in_passage]
        typed = character(quote[self.in_quote]) if self.in_quote < len(quote) else ""
        found = self.passage[self.in_passage : self.in_passage + 1]
        found = character(found) if found else ""
        if self.change == "insert":
            return f"after “…{before}”, you typed {typed}, which the source does not have"
        if self.change == "delete":
            return f"after “…{before}”, the source has {found}, which you left out"
        return f"after “…{before}”, you typed {typed}; the source has {found}"


def character(char):
    """A character named so that look-alikes differ: ’ (U+2019 RIGHT SINGLE QUOTATION MARK)."""
    name = unicodedata.name(char, "UNNAMED CHARACTER")
    shown = char if char.isprintable() and not char.isspace() else ""
    return f"{shown} (U+{ord(char):04X} {name})".lstrip()


def nearest(quote, text):
    """
    The passage of `text`, of the quote's length, that shares the most with `quote`, or
    None when they share nothing worth showing.
    """
    if not quote or not text:
        return None
    matcher = difflib.SequenceMatcher(None, text, quote, autojunk=False)
    longest = matcher.find_longest_match(0, len(text), 0, len(quote))
    if longest.size < min(8, len(quote)):
        return None
    # Around the longest stretch they share, the passage runs from where the quote's first
    # shared letters are to where its last ones are, and as far again as the quote goes on.
    offset = max(0, longest.a - longest.b - 40)
    window = text[offset : longest.a - longest.b + len(quote) + 40]
    blocks = difflib.SequenceMatcher(None, window, quote, autojunk=False).get_matching_blocks()
    shared = [block for block in blocks if block.size]
    first, last = shared[0], shared[-1]
    begin = max(0, first.a - first.b)
    end = last.a + last.size + len(quote) - (last.b + last.size)
    passage = window[begin:end]
    opcodes = difflib.SequenceMatcher(None, passage, quote, autojunk=False).get_opcodes()
    change, in_passage, _, in_quote, _ = next(
        (code for code in opcodes if code[0] != "equal"), ("equal", len(passage), 0, len(quote), 0)
    )
    return Nearest(passage, change, in_quote, in_passage)
