"""Random text for synthetic lines: words, sentences, numbers, dates, prices, punctuation."""

from __future__ import annotations

import functools
import pathlib
import string

import numpy as np

WORDS_FILE = pathlib.Path(__file__).parent / "words_en.txt"

COMMON_WORDS = """the of and to a in is it you that he was for on are with as I his they be at one
have this from or had by not word but what some we can out other were all there when up use your
how said an each she which do their time if will way about many then them write would like so these
her long make thing see him two has look more day could go come did number sound no most people my
over know water than call first who may down side been now find any new work part take get place
made live where after back little only round man year came show every good me give our under name
very through just form sentence great think say help low line differ turn cause much mean before
move right boy old too same tell does set three want air well also play small end put home read
hand port large spell add even land here must big high such follow act why ask men change went
light kind off need house picture try us again animal point mother world near build self earth
father head stand own page should country found answer school grow study still learn plant cover
food sun four between state keep eye never last let thought city tree cross farm hard start might
story saw far sea draw left late run while press close night real life few north open seem together
next white children begin got walk example ease paper group always music those both mark often
letter until mile river car feet care second book carry took science eat room friend began idea
fish mountain stop once base hear horse cut sure watch color face wood main enough plain girl usual
young ready above ever red list though feel talk bird soon body dog family direct pose leave song
measure door product black short numeral class wind question happen complete ship area half rock
order fire south problem piece told knew pass since top whole king space heard best hour better
true during hundred five remember step early hold west ground interest reach fast verb sing listen
six table travel less morning ten simple several vowel toward war lay against pattern slow center
love person money serve appear road map rain rule govern pull cold notice voice unit power town
fine certain fly fall lead cry dark machine note wait plan figure star box noun field rest correct
able pound done beauty drive stood contain front teach week final gave green oh quick develop ocean
warm free minute strong special mind behind clear tail produce fact street inch multiply nothing
course stay wheel full force blue object decide surface deep moon island foot system busy test
record boat common gold possible plane stead dry wonder laugh thousand ago ran check game shape
equate hot miss brought heat snow tire bring yes distant fill east paint language among""".split()

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
PRINTABLE = string.digits + string.ascii_letters + string.punctuation
CLOSING_PUNCTUATION = [".", ",", ";", ":", "!", "?", "..."]


@functools.cache
def dictionary_words() -> tuple[str, ...]:
  lines = WORDS_FILE.read_text(encoding="ascii").splitlines()
  return tuple(w for w in lines if w and not w.startswith("#"))


def shorten(text: str, max_chars: int) -> str:
  """Cuts `text` to `max_chars`, at a space where one is near the end."""
  if len(text) <= max_chars:
    return text
  cut = text.rfind(" ", 0, max_chars + 1)
  return text[:cut] if cut > max_chars // 2 else text[:max_chars].strip()


@functools.cache
def vocabulary(path: str) -> tuple[str, ...]:
  """A word list, one word a line (e.g. MJSynth's 88k words)."""
  words = pathlib.Path(path).read_text(encoding="utf-8").split()
  if not words:
    raise ValueError(f"{path}: no words in this file")
  return tuple(words)


class Sampler:
  """Texts of at most `max_chars` characters from a numpy Generator, built on the words of
  `words_file` (one a line) or the built-in list."""

  def __init__(self, max_chars: int = 24, words_file: str = ""):
    self.max_chars = max_chars
    self.words = vocabulary(words_file) if words_file else dictionary_words()


class TextSampler(Sampler):
  """Printed-line texts: words, sentences, numbers, symbols."""

  def word(self, rng: np.random.Generator) -> str:
    pool = COMMON_WORDS if rng.random() < 0.4 else self.words
    word = pool[rng.integers(len(pool))]
    case = rng.random()
    if case < 0.25:
      return word.upper()
    if case < 0.55:
      return word.capitalize()
    return word if rng.random() < 0.5 else word.lower()

  def number(self, rng: np.random.Generator) -> str:
    kind = rng.integers(9)
    if kind == 0:
      return str(rng.integers(0, 10 ** rng.integers(1, 7)))
    if kind == 1:
      return f"{rng.choice(['$', '', 'USD '])}{rng.integers(0, 5000)}.{rng.integers(0, 100):02d}"
    if kind == 2:
      return f"{rng.integers(1, 29):02d}/{rng.integers(1, 13):02d}/{rng.integers(1950, 2040)}"
    if kind == 3:
      return f"{rng.integers(1950, 2040)}-{rng.integers(1, 13):02d}-{rng.integers(1, 29):02d}"
    if kind == 4:
      return f"{MONTHS[rng.integers(12)]} {rng.integers(1, 29)}, {rng.integers(1950, 2040)}"
    if kind == 5:
      return f"{rng.integers(0, 24)}:{rng.integers(0, 60):02d}"
    if kind == 6:
      return f"{rng.integers(0, 100)}.{rng.integers(0, 10)}%"
    if kind == 7:
      return f"({rng.integers(100, 999)}) {rng.integers(100, 999)}-{rng.integers(1000, 9999)}"
    return f"#{rng.integers(1, 999)}"

  def symbols(self, rng: np.random.Generator) -> str:
    """Random printable characters, so rare punctuation is seen too."""
    length = rng.integers(1, 10)
    return "".join(rng.choice(list(PRINTABLE), size=length))

  def sentence(self, rng: np.random.Generator) -> str:
    parts = []
    for _ in range(rng.integers(2, 8)):
      token = self.number(rng) if rng.random() < 0.12 else self.word(rng)
      if rng.random() < 0.1:
        token = rng.choice(['"', "'", "("]) + token + rng.choice(['"', "'", ")"])
      parts.append(token)
      if rng.random() < 0.15:
        parts[-1] += rng.choice([",", ";", ":", " -"])
    text = " ".join(parts)
    if rng.random() < 0.6:
      text += rng.choice(CLOSING_PUNCTUATION)
    return text[:1].upper() + text[1:] if rng.random() < 0.7 else text

  def __call__(self, rng: np.random.Generator) -> str:
    kind = rng.random()
    if kind < 0.45:
      text = self.word(rng)
      if rng.random() < 0.2:
        text += rng.choice(CLOSING_PUNCTUATION)
    elif kind < 0.75:
      text = self.sentence(rng)
    elif kind < 0.92:
      text = self.number(rng)
    else:
      text = self.symbols(rng)
    return shorten(" ".join(text.split()), self.max_chars) or self.word(rng)[: self.max_chars]


class WordSampler(Sampler):
  """Single words as scene text shows them: a vocabulary's words in lower, upper or
  capitalised case (about a third each), some numbers and codes, a little punctuation."""

  def __call__(self, rng: np.random.Generator) -> str:
    return self.word(rng)[: self.max_chars]

  def word(self, rng: np.random.Generator, case: float | None = None) -> str:
    """One word; `case` in [0, 1) picks upper / capitalised / lower (None: drawn here)."""
    kind = rng.random()
    if kind < 0.08:
      return str(rng.integers(0, 10 ** rng.integers(1, 7)))
    if kind < 0.11:  # codes: "A12", "B-7", "3rd"
      letters = "".join(rng.choice(list(string.ascii_uppercase), size=rng.integers(1, 3)))
      return rng.choice([letters + str(rng.integers(1, 999)),
                         f"{letters}-{rng.integers(1, 99)}", f"{rng.integers(1, 99)}{letters}"])
    text = self.words[rng.integers(len(self.words))]
    case = rng.random() if case is None else case
    text = text.upper() if case < 0.35 else text.capitalize() if case < 0.65 else text.lower()
    if rng.random() < 0.05:
      text += rng.choice(["!", ".", ",", "'s", ":", "?"])
    return text


class PhraseSampler(WordSampler):
  """Two to four scene words on one line in one case style, as signs and shop fronts write
  them ("ORION TILE", "Camden Pub"): detector boxes hold such lines, spaces included."""

  def __call__(self, rng: np.random.Generator) -> str:
    case = rng.random()
    words = [self.word(rng, case) for _ in range(rng.integers(2, 5))]
    return shorten(" ".join(words), self.max_chars)
