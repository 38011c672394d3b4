"""Every custom search attribute is registered with a type `temporal server start-dev` knows."""

from core.temporal import SEARCH_ATTRIBUTES, dev_server_flags

DEV_SERVER_TYPES = {"Text", "Keyword", "Int", "Double", "Bool", "Datetime", "KeywordList"}


def test_every_search_attribute_has_a_dev_server_flag_of_a_known_type() -> None:
    flags = dev_server_flags()
    pairs = dict(value.split("=") for value in flags[1::2])

    assert flags[::2] == ["--search-attribute"] * len(SEARCH_ATTRIBUTES)
    assert set(pairs) == {key.name for key in SEARCH_ATTRIBUTES}
    assert set(pairs.values()) <= DEV_SERVER_TYPES
    assert pairs["CaseStatus"] == "KeywordList"
