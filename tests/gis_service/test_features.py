"""The OGC query layer (gis_service.features): filters checked before any SQL is written,
empty collections answered without a count, one feature or none."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from gis_service.collections import COLLECTIONS, OutputCrs
from gis_service.errors import InvalidValueError
from gis_service.features import FeatureFilter, extent, feature, feature_page

CRS84 = OutputCrs("http://www.opengis.net/def/crs/OGC/1.3/CRS84", 4326, False, 8)
LINKS = ("http://x/ogc/collections/schools/items/", '{"rel":"collection"}')


def test_a_filter_on_a_property_the_collection_does_not_offer_is_refused(engine: Engine) -> None:
    with pytest.raises(InvalidValueError, match="only by level, ownership"):
        feature_page(engine, COLLECTIONS["schools"], FeatureFilter(equals=(("name", "x"),)),
                     CRS84, 10, 0, *LINKS)


def test_an_empty_collection_has_an_empty_page_no_feature_and_no_extent(engine: Engine) -> None:
    page = feature_page(engine, COLLECTIONS["schools"], FeatureFilter(), CRS84, 10, 0, *LINKS)
    assert (page.features, page.returned, page.matched) == ("", 0, 0)
    beyond = feature_page(engine, COLLECTIONS["schools"], FeatureFilter(), CRS84, 10, 20, *LINKS)
    assert (beyond.returned, beyond.matched) == (0, 0)  # counted: the offset says nothing
    assert feature(engine, COLLECTIONS["schools"], "NONE", CRS84, *LINKS) is None
    assert extent(engine, COLLECTIONS["schools"]) is None
    empty_box = FeatureFilter(boxes=())
    assert feature_page(engine, COLLECTIONS["roads"], empty_box, CRS84, 5, 0, *LINKS).matched == 0
