"""Pinyin initials (拼音首字母) for name search, fast enough for bulk registration.

The tables of pypinyin, used directly: each character's most common reading,
corrected by the two-character phrases in which a polyphonic character reads otherwise
(银行 → YH, 重庆 → CQ, 长沙 → CS). pypinyin's full segmentation is ~100× slower per name and
gives the same initials for registry names in practice.
"""

from __future__ import annotations

import unicodedata
from functools import cache

from pypinyin import pinyin_dict
from pypinyin.phrases_dict import phrases_dict


def _letter(reading: str) -> str:
    """First letter of a toned reading: ``zhòng`` → ``Z``, ``ā`` → ``A``."""
    base = unicodedata.normalize("NFKD", reading.strip())[:1]
    return base.upper() if base.isascii() and base.isalpha() else ""


@cache
def _chars() -> dict[str, str]:
    table = {}
    for code, readings in pinyin_dict.pinyin_dict.items():
        letter = _letter(readings.split(",")[0])
        if letter:
            table[chr(code)] = letter
    return table


@cache
def _phrases() -> dict[str, str]:
    chars = _chars()
    overrides = {}
    for phrase, readings in phrases_dict.items():
        if len(phrase) != 2 or len(readings) != 2:
            continue
        initials = "".join(_letter(r[0]) for r in readings)
        if len(initials) == 2 and initials != chars.get(phrase[0], "") + chars.get(phrase[1], ""):
            overrides[phrase] = initials
    return overrides


def initials(text: str) -> str:
    """``华为技术有限公司`` → ``HWJSYXGS``; letters and digits are kept, other symbols dropped."""
    chars, phrases = _chars(), _phrases()
    out, i = [], 0
    while i < len(text):
        pair = text[i:i + 2]
        if len(pair) == 2 and pair in phrases:
            out.append(phrases[pair])
            i += 2
            continue
        char = text[i]
        if char.isascii():
            if char.isalnum():
                out.append(char.upper())
        else:
            out.append(chars.get(char, ""))
        i += 1
    return "".join(out)
