import pytest
from django.core.exceptions import ValidationError

from cooperation.quotes import character, nearest

from .factories import AreaFactory, CitationFactory, SourceFactory

TEXT = (
    "IOM and EASO will cooperate in the areas of resettlement, relocation and the EU’s "
    "external dimension of asylum.  More text here."
)


@pytest.mark.parametrize(
    ("quote", "passage", "difference"),
    [
        (
            "the EU's external dimension",
            "the EU’s external dimension",
            "after “…the EU”, you typed ' (U+0027 APOSTROPHE); "
            "the source has ’ (U+2019 RIGHT SINGLE QUOTATION MARK)",
        ),
        (
            "areas of  resettlement, relocation",
            "areas of resettlement, relocation",
            "after “…areas of”, you typed (U+0020 SPACE), which the source does not have",
        ),
        (
            "of asylum. More text",
            "of asylum.  More text",
            "after “…of asylum. ”, the source has (U+0020 SPACE), which you left out",
        ),
        (
            "cooperate in the areas\u00a0of",
            "cooperate in the areas of",
            "you typed (U+00A0 NO-BREAK SPACE); the source has (U+0020 SPACE)",
        ),
    ],
)
def test_nearest_passage_names_the_first_difference(quote, passage, difference):
    found = nearest(quote, TEXT)

    assert found.passage == passage
    assert difference in found.difference(quote)


def test_nearest_passage_is_none_when_nothing_is_shared():
    assert nearest("completely unrelated words", TEXT) is None


def test_character_names_look_alikes_apart():
    assert character("’") == "’ (U+2019 RIGHT SINGLE QUOTATION MARK)"
    assert character("\t") == "(U+0009 UNNAMED CHARACTER)"


@pytest.mark.django_db
def test_refused_quote_shows_the_source_passage_to_use():
    citation = CitationFactory.build(
        source=SourceFactory(text=TEXT), area=AreaFactory(), quote="the EU's external dimension"
    )

    with pytest.raises(ValidationError) as refused:
        citation.full_clean()

    message = refused.value.message_dict["quote"][0]
    assert "does not occur, letter for letter" in message
    assert "The nearest passage is “the EU’s external dimension”" in message
    assert "U+2019 RIGHT SINGLE QUOTATION MARK" in message
