"""Writes flax_ocr/dicts/lang/CODE.txt, the characters `lang=CODE` keeps, from the Unicode CLDR's
exemplar characters (the npm package cldr-misc-modern, Unicode-3.0 licence):

  cd /tmp && npm pack cldr-misc-modern@45.0.0 && tar xzf cldr-misc-modern-45.0.0.tgz
  python scripts/lang_charsets.py /tmp/package

Each file: the digits, the printable ASCII punctuation and symbols, the language's CLDR
punctuation, and its main exemplar letters in both cases, one character per line (the space
is added when a dictionary is read).
"""

import json
import pathlib
import string
import sys

LANGUAGES = ("en", "fr", "de", "es", "it", "pt", "nl")
OUT = pathlib.Path(__file__).resolve().parents[1] / "flax_ocr" / "dicts" / "lang"


def unicode_set(text: str) -> list[str]:
  """The single characters of a CLDR UnicodeSet like `[aà b \\- {ij}]` (sequences skipped)."""
  chars, i, body = [], 0, text.strip()[1:-1]
  while i < len(body):
    c = body[i]
    if c == "\\":
      chars.append(body[i + 1])
      i += 2
    elif c == "{":
      i = body.index("}", i) + 1
    else:
      if not c.isspace():
        chars.append(c)
      i += 1
  return chars


def language_chars(characters: dict) -> list[str]:
  letters = unicode_set(characters["exemplarCharacters"])
  cased = letters + [c.upper() for c in letters if len(c.upper()) == 1]
  chars = list(string.digits) + list(string.punctuation) + unicode_set(
      characters["punctuation"]) + cased
  return list(dict.fromkeys(chars))


def main(package: str):
  version = json.loads((pathlib.Path(package) / "package.json").read_text())["version"]
  OUT.mkdir(parents=True, exist_ok=True)
  for code in LANGUAGES:
    path = pathlib.Path(package) / "main" / code / "characters.json"
    characters = json.loads(path.read_text(encoding="utf-8"))["main"][code]["characters"]
    chars = language_chars(characters)
    (OUT / f"{code}.txt").write_text("".join(c + "\n" for c in chars), encoding="utf-8")
    print(f"{code}: {len(chars)} characters")
  (OUT / "SOURCE.md").write_text(
      f"Letters and punctuation: Unicode CLDR {version} exemplar characters (main set) and "
      "punctuation, from the npm package cldr-misc-modern (Unicode-3.0 licence), plus the digits "
      "and printable ASCII punctuation. Written by scripts/lang_charsets.py.\n", encoding="utf-8")


if __name__ == "__main__":
  main(sys.argv[1])
