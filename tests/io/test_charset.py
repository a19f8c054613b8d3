import pytest

from flax_ocr.io.charset import BLANK, Charset, CharsetError


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
