import pytest

from flax_ocr.io.charset import BLANK, Charset, CharsetError, language_chars


def test_en_dictionary_has_the_95_printable_ascii_characters():
  charset = Charset.from_file("en")
  assert len(charset.chars) == 95
  assert set(charset.chars) == {chr(c) for c in range(32, 127)}
  assert charset.num_classes == 96


def test_space_is_optional():
  assert " " not in Charset.from_file("en", use_space=False).chars


def test_encode_decode_round_trip_and_blank_is_zero():
  charset = Charset.from_file("en")
  codes = charset.encode("Hello, World 42!")
  assert BLANK not in codes
  assert charset.decode(codes) == "Hello, World 42!"


def test_unknown_characters_are_named():
  charset = Charset.from_file("en")
  with pytest.raises(CharsetError, match="é"):
    charset.encode("café")


def test_dictionary_file_with_a_bad_line_names_file_and_line(tmp_path):
  path = tmp_path / "dict.txt"
  path.write_text("a\nbc\n", encoding="utf-8")
  with pytest.raises(ValueError, match=r"dict.txt:2"):
    Charset.from_file(path)


def test_languages_are_paddleocr_codes_joined_with_plus_or_listed():
  french = language_chars("fr")
  assert {"é", "É", "ç", "Ç", "œ", "«", "7", "?", " "} <= french and "ñ" not in french
  assert language_chars("french") == french and language_chars("FR") == french
  assert language_chars("en+fr") == language_chars(["en", "fr"]) == language_chars("en") | french
  assert {"ß", "Ä", "„"} <= language_chars("german")
  assert not set("éñüß") & language_chars("en")
  with pytest.raises(ValueError, match=r"unknown language 'xx'; known: de, en, .*, french, german, it, nl, pt"):
    language_chars("en+xx")


def test_a_dictionary_kept_to_some_characters_keeps_their_classes_in_order():
  charset = Charset(tuple("aébc"))
  kept, classes = charset.kept({"a", "b", "c"})
  assert kept.chars == ("a", "b", "c") and classes == [BLANK, 1, 3, 4]
