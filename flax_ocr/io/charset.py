"""PaddleOCR-style dictionaries: one character per line, class 0 is the CTC blank."""

from __future__ import annotations

import dataclasses
import pathlib

from flax_ocr.nn.ctc import BLANK

DICT_DIR = pathlib.Path(__file__).parents[1] / "dicts"
LANG_DIR = DICT_DIR / "lang"  # one file per language: scripts/lang_charsets.py, from CLDR
LANG_ALIASES = {"english": "en", "french": "fr", "german": "de"}  # PaddleOCR's older codes


class CharsetError(ValueError):
  """A label holds characters the dictionary does not have."""


@dataclasses.dataclass(frozen=True)
class Charset:
  """Maps characters to classes 1..N; class 0 is the CTC blank."""

  chars: tuple[str, ...]

  def __post_init__(self):
    if len(set(self.chars)) != len(self.chars):
      raise ValueError("dictionary has duplicate characters")
    object.__setattr__(self, "_index", {c: i + 1 for i, c in enumerate(self.chars)})

  @classmethod
  def from_file(cls, path: str | pathlib.Path, use_space: bool = True) -> "Charset":
    """Reads a dictionary file; `use_space` appends ' ' as PaddleOCR's use_space_char does."""
    path = pathlib.Path(path)
    if not path.is_absolute() and not path.exists():
      path = DICT_DIR / f"{path}.txt" if path.suffix == "" else DICT_DIR / path
    chars = []
    with open(path, encoding="utf-8") as f:
      for line_no, line in enumerate(f, 1):
        char = line.rstrip("\r\n")
        if len(char) != 1:
          raise ValueError(f"{path}:{line_no}: expected one character per line, got {char!r}")
        chars.append(char)
    if use_space and " " not in chars:
      chars.append(" ")
    return cls(tuple(chars))

  @property
  def num_classes(self) -> int:
    """Characters plus the blank."""
    return len(self.chars) + 1

  def unknown(self, text: str) -> str:
    """The characters of `text` missing from the dictionary, in order of appearance."""
    return "".join(dict.fromkeys(c for c in text if c not in self._index))

  def encode(self, text: str) -> list[int]:
    missing = self.unknown(text)
    if missing:
      raise CharsetError(f"characters not in the dictionary: {missing!r}")
    return [self._index[c] for c in text]

  def decode(self, indices) -> str:
    """Class indices (no blanks, already collapsed) to text."""
    return "".join(self.chars[i - 1] for i in indices if i != BLANK)

  def kept(self, allowed) -> tuple["Charset", list[int]]:
    """This dictionary cut to the characters in `allowed`, and the classes kept (the blank
    first, then the kept characters' classes in order)."""
    keep = [c for c in self.chars if c in allowed]
    return Charset(tuple(keep)), [BLANK] + [self._index[c] for c in keep]


def known_languages() -> list[str]:
  return sorted([p.stem for p in LANG_DIR.glob("*.txt")] + list(LANG_ALIASES))


def language_chars(lang) -> frozenset[str]:
  """The characters a document in `lang` uses: digits, punctuation and the language's letters in
  both cases, and the space. `lang`: a PaddleOCR code ("fr", "french"), codes joined with "+"
  ("en+fr") or a list of codes."""
  codes = lang.split("+") if isinstance(lang, str) else list(lang)
  chars = {" "}
  for code in codes:
    name = LANG_ALIASES.get(code.strip().lower(), code.strip().lower())
    if not (LANG_DIR / f"{name}.txt").is_file():
      raise ValueError(f"unknown language {code!r}; known: {', '.join(known_languages())}")
    chars |= set(Charset.from_file(LANG_DIR / f"{name}.txt").chars)
  return frozenset(chars)
