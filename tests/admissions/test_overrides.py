"""Officer overrides need a written reason and a free seat (unless forced)."""

from __future__ import annotations

import numpy as np
import pytest

from admissions import Override, allocate, apply_overrides, explain
from gis_service.errors import InputError
from tests.support.admissions_cases import grade10


def _problem_and_result():  # type: ignore[no-untyped-def]
    distance = np.array([[500.0, 900.0], [700.0, 800.0], [600.0, 300.0]])
    problem = grade10([25.0, 24.0, 23.0], [[0, 1], [0, 1], [0, 1]], [1, 2], distance=distance)
    return problem, allocate(problem, "da")


def test_override_moves_an_applicant_and_records_the_reason() -> None:
    problem, result = _problem_and_result()
    assert result.assigned.tolist() == [0, 1, 1]
    moved = apply_overrides(problem, result, [
        Override("s3", "H1", "Khuyết tật vận động, cần trường gần nhà", force=True),
    ])
    assert moved.assigned.tolist() == [0, 1, 0]
    assert moved.choice_index[2] == 0 and moved.distance_m[2] == 600.0
    assert result.assigned.tolist() == [0, 1, 1]  # the input is untouched
    assert explain(problem, moved).en[2].startswith("Officer override: Khuyết tật")
    assert moved.provenance.parameters["overrides"][0]["applicant_id"] == "s3"
    assert moved.provenance.input_sha256 == result.provenance.input_sha256


def test_override_refuses_missing_reason_and_full_school_listing_both() -> None:
    problem, result = _problem_and_result()
    with pytest.raises(InputError) as error:
        apply_overrides(problem, result, [
            Override("s2", "H2", "   "),
            Override("s3", "H1", "Con thương binh, ưu tiên theo quy định"),
            Override("zz", "H1", "Applicant who does not exist here"),
        ])
    assert [(p.row, p.field) for p in error.value.problems] == [
        (1, "reason"), (2, "school_code"), (3, "applicant_id")
    ]
    assert "full" in error.value.problems[1].reason


def test_override_into_a_freed_seat_needs_no_force() -> None:
    problem, result = _problem_and_result()
    moved = apply_overrides(problem, result, [
        Override("s1", None, "Gia đình chuyển ra nước ngoài, rút hồ sơ"),
        Override("s3", "H1", "Nhận chỗ trống do học sinh s1 rút hồ sơ"),
    ])
    assert moved.assigned.tolist() == [-1, 1, 0]
    assert np.isnan(moved.distance_m[0])
