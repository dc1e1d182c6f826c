from . import release


def test_release_names_its_address_publisher_and_date():
    header, text = release.read_release()
    assert header["Address"].startswith("https://")
    assert "Frontex" in header["Publisher"]
    assert header["Date"] == "2021-01-19"
    assert text.startswith("Frontex, the European Border and Coast Guard Agency")


def test_release_holds_every_quote_the_walks_type_letter_for_letter():
    _, text = release.read_release()
    missing = [quote for quote in release.quotes() if quote not in text]
    assert missing == []
    assert len(release.quotes()) == 12


def test_release_records_each_cite_distinct_quotes():
    for record in release.CITING:
        assert len(set(record["quotes"])) == len(record["quotes"])
