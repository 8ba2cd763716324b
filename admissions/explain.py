"""Cut-offs per school and a reason per applicant that a parent can read (vi and en).

Grade 10: "NV1 full: last admitted score 22.75; admitted at NV2" /
"NV1 đã đủ chỉ tiêu: điểm chuẩn 22,75; trúng tuyển NV2".
Grade 1/6: "Nearer schools were full: A (0.6 km; last admitted: tier 1, 0.45 km); ...".
Straight-line distances are always labelled as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from admissions.allocation import Allocation
from admissions.problem import AdmissionProblem

#: The note on the reason of an applicant whose home is too far from every road, (vi, en).
OFFROAD_NOTE = (
    "Nhà ở xa mọi tuyến đường trên bản đồ: khoảng cách tính theo đường chim bay, "
    "với tốc độ đi ngoài đường",
    "Home far from every mapped road: distances are straight-line, at the off-road speed",
)
#: Columns of a result file: the contract of ARCHITECTURE.md §8, then English and the kind of
#: distance.
RESULT_COLUMNS = [
    "applicant_id", "school_code", "choice_rank", "distance_m", "reason", "reason_en",
    "distance_kind",
]


@dataclass(frozen=True)
class Reasons:
    """One reason per applicant, in Vietnamese and in English."""

    vi: list[str]
    en: list[str]


def school_cutoffs(problem: AdmissionProblem, allocation: Allocation) -> pd.DataFrame:
    """Return the last admitted applicant of each school under the priorities the mechanism used.

    Columns: ``school_code, school_name, capacity, admitted, seats_left, full,
    last_choice_rank, last_tier, last_distance_m, last_score, last_effective_score,
    highest_choice_rank_admitted``. Officer placements are not cut-offs and are left out.
    """
    m = problem.n_schools
    assigned, choice_index = allocation.assigned, allocation.choice_index
    admitted = allocation.admitted_count(m)
    ranked = np.flatnonzero((assigned >= 0) & (choice_index >= 0))
    ranked = ranked[~np.isin(ranked, np.fromiter(allocation.overrides, dtype=np.int64))]
    rank = allocation.admission_priorities.pair_rank[ranked, choice_index[ranked]]
    school = assigned[ranked].astype(np.int64)
    order = np.lexsort((rank, school))
    last_pos = np.r_[np.flatnonzero(np.diff(school[order])), order.size - 1] if order.size else (
        np.empty(0, dtype=np.int64)
    )
    last = ranked[order[last_pos]]
    last_school = school[order[last_pos]]
    last_j = choice_index[last]

    def column(values: NDArray[np.float64] | None) -> NDArray[np.float64]:
        out = np.full(m, np.nan)
        if values is not None and last.size:
            out[last_school] = values
        return out

    highest = np.zeros(m, dtype=np.int64)
    np.maximum.at(highest, school, choice_index[ranked].astype(np.int64) + 1)
    score = None if problem.score is None else problem.total_score()[last]
    effective = allocation.admission_priorities.effective_score
    frame = pd.DataFrame(
        {
            "school_code": problem.school_codes,
            "school_name": problem.school_names,
            "capacity": problem.capacity,
            "admitted": admitted,
            "seats_left": problem.capacity - admitted,
            "full": admitted >= problem.capacity,
            "last_choice_rank": column(last_j.astype(np.float64) + 1),
            "last_tier": column(
                None if problem.tier is None else problem.tier[last, last_j].astype(np.float64)
            ),
            "last_distance_m": column(problem.distance_m[last, last_j]),
            "last_score": column(score),
            "last_effective_score": column(
                None if effective is None else effective[last, last_j]
            ),
            "highest_choice_rank_admitted": highest,
        }
    )
    return frame


def _num(value: float, lang: str, digits: int = 2) -> str:
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if lang == "vi" else text


def _km(distance_m: float, lang: str, straight: bool) -> str:
    if not np.isfinite(distance_m):
        return "?"
    label = (" đường chim bay" if lang == "vi" else " straight-line") if straight else ""
    digits = 2 if distance_m < 1000.0 else 1
    return f"{_num(distance_m / 1000.0, lang, digits)} km{label}"


def explain(problem: AdmissionProblem, allocation: Allocation) -> Reasons:
    """Return a reason per applicant: which listed schools above the result were full and why.

    Parameters
    ----------
    problem, allocation
        The input and the outcome of one run.

    Returns
    -------
    Reasons
        ``vi`` and ``en`` lists aligned with the applicants.
    """
    run = _Run.of(problem, allocation)
    vi: list[str] = []
    en: list[str] = []
    for a in range(problem.n_applicants):
        reason_en, reason_vi = _reason(run, a)
        if run.offroad[a]:
            reason_en += f". {OFFROAD_NOTE[1]}"
            reason_vi += f". {OFFROAD_NOTE[0]}"
        en.append(reason_en)
        vi.append(reason_vi)
    return Reasons(vi=vi, en=en)


def _offroad(problem: AdmissionProblem) -> NDArray[np.bool_]:
    """Return which applicants' homes are too far from every road (all ``False`` if unknown)."""
    if problem.offroad is None:
        return np.zeros(problem.n_applicants, dtype=np.bool_)
    return problem.offroad


def offroad_figures(problem: AdmissionProblem, allocation: Allocation) -> dict[str, int]:
    """Count the applicants whose distances are not along the roads (JSON-compatible).

    ``offroad_homes``: homes too far from every road (straight-line distances at the
    off-road speed), ``offroad_placed``: how many of them were placed; with distances,
    ``without_home``: applicants who gave no home (no distance at all).
    """
    offroad = _offroad(problem)
    figures = {"offroad_homes": int(offroad.sum()),
               "offroad_placed": int(np.sum(offroad & allocation.placed))}
    if problem.distance_kind != "none":
        listed = problem.choices >= 0
        no_distance = listed.any(axis=1) & ~np.any(listed & np.isfinite(problem.distance_m), axis=1)
        figures["without_home"] = int(no_distance.sum())
    return figures


#: A text in English and in Vietnamese.
_Text = tuple[str, str]


@dataclass(frozen=True)
class _Run:
    """What :func:`explain` reads for every applicant: the run and its schools' cut-offs."""

    problem: AdmissionProblem
    allocation: Allocation
    straight: bool
    offroad: NDArray[np.bool_]
    nearest: bool
    total: NDArray[np.float64] | None
    effective: NDArray[np.float64] | None
    penalised: bool
    strict_rounds: bool
    last_score: NDArray[Any]
    last_eff: NDArray[Any]
    last_tier: NDArray[Any]
    last_dist: NDArray[Any]
    highest: NDArray[Any]
    full: NDArray[Any]

    @classmethod
    def of(cls, problem: AdmissionProblem, allocation: Allocation) -> _Run:
        """Return the run with the cut-offs of :func:`school_cutoffs`."""
        cut = school_cutoffs(problem, allocation)
        penalised = allocation.admission_priorities is not allocation.priorities
        return cls(
            problem=problem,
            allocation=allocation,
            straight=problem.distance_kind == "straight_line",
            offroad=_offroad(problem),
            nearest=problem.preference_kind == "nearest",
            total=problem.total_score() if problem.score is not None else None,
            effective=allocation.admission_priorities.effective_score,
            penalised=penalised,
            strict_rounds=allocation.mechanism == "hcmc" and not penalised,
            last_score=cut["last_score"].to_numpy(),
            last_eff=cut["last_effective_score"].to_numpy(),
            last_tier=cut["last_tier"].to_numpy(),
            last_dist=cut["last_distance_m"].to_numpy(),
            highest=cut["highest_choice_rank_admitted"].to_numpy(),
            full=cut["full"].to_numpy(),
        )

    def straight_for(self, a: int) -> bool:
        """Return whether applicant ``a``'s distances are straight-line (all, or off-road)."""
        return self.straight or bool(self.offroad[a])

    def filled_earlier(self, s: int, j: int) -> bool:
        """Return whether school ``s`` was full of earlier choices before choice ``j`` was read."""
        return bool(self.strict_rounds and self.highest[s] < j + 1)


def _reason(run: _Run, a: int) -> _Text:
    """Return the reason of applicant ``a``."""
    allocation = run.allocation
    if a in allocation.overrides:
        note = allocation.overrides[a]
        return f"Officer override: {note}", f"Điều chỉnh của cán bộ tuyển sinh: {note}"
    s_got = int(allocation.assigned[a])
    listed = int(np.sum(run.problem.choices[a] >= 0))
    upto = int(allocation.choice_index[a]) if s_got >= 0 else listed
    refused = [] if allocation.mechanism == "mincost" else [
        _refused_choice(run, a, j) for j in range(upto)
    ]
    parts_en = [en for en, _ in refused]
    parts_vi = [vi for _, vi in refused]
    if s_got >= 0:
        return _placed_reason(run, a, parts_en, parts_vi)
    return _unplaced_reason(run, listed, parts_en, parts_vi)


def _choice_label(run: _Run, a: int, j: int, lang: str) -> str:
    """Return how choice ``j`` of applicant ``a`` is named: ``NV2 name`` or ``name (0.6 km)``."""
    s = int(run.problem.choices[a, j])
    name = run.problem.school_names[s]
    if not run.nearest:
        return f"NV{j + 1} {name}"
    return f"{name} ({_km(run.problem.distance_m[a, j], lang, run.straight_for(a))})"


def _refused_choice(run: _Run, a: int, j: int) -> _Text:
    """Return why applicant ``a`` was not admitted at choice ``j``."""
    s = int(run.problem.choices[a, j])
    label_en = _choice_label(run, a, j, "en")
    label_vi = _choice_label(run, a, j, "vi")
    if run.problem.capacity[s] == 0:
        return (f"{label_en}: no seats for this grade",
                f"{label_vi}: không có chỉ tiêu cho khối lớp này")
    if not run.full[s]:
        # The mechanisms leave no seat empty that a rejected applicant asked for, so
        # the seat was released afterwards (an officer override); say it plainly.
        return (f"{label_en}: a seat is free now (released after the allocation)",
                f"{label_vi}: hiện còn chỗ (trống ra sau khi xét tuyển)")
    score_en, score_vi = _cutoff(run, a, j, s)
    if run.nearest:
        # "Nearer schools were full: A (0.6 km; last admitted: tier 1, 0.5 km)"
        return f"{label_en[:-1]}; {score_en})", f"{label_vi[:-1]}; {score_vi})"
    return f"{label_en} full: {score_en}", f"{label_vi} đã đủ chỉ tiêu: {score_vi}"


def _cutoff(run: _Run, a: int, j: int, s: int) -> _Text:
    """Return the last admitted at full school ``s`` as met by applicant ``a``'s choice ``j``."""
    if run.total is not None:
        score_en, score_vi = _score_cutoff(run, run.total, a, j, s)
    else:
        score_en = (
            f"last admitted: tier {int(run.last_tier[s])}, "
            f"{_km(run.last_dist[s], 'en', run.straight)}"
        )
        score_vi = (
            f"người cuối cùng được nhận: diện {int(run.last_tier[s])}, "
            f"{_km(run.last_dist[s], 'vi', run.straight)}"
        )
    if run.filled_earlier(s, j):
        highest = int(run.highest[s])
        score_en += f"; filled by NV{highest} applicants before NV{j + 1}"
        score_vi += f"; đã đủ bằng thí sinh NV{highest} trước khi xét NV{j + 1}"
    return score_en, score_vi


def _score_cutoff(run: _Run, total: NDArray[np.float64], a: int, j: int, s: int) -> _Text:
    """Return the last admitted score at school ``s`` (grade 10), with penalties or a tie."""
    score_en = f"last admitted score {_num(run.last_score[s], 'en')}"
    score_vi = f"điểm chuẩn {_num(run.last_score[s], 'vi')}"
    if run.penalised and run.effective is not None:
        score_en += f" (ranked at {_num(run.last_eff[s], 'en')} after rank penalties;"
        score_en += f" yours at NV{j + 1}: {_num(run.effective[a, j], 'en')})"
        score_vi += f" (điểm xét sau trừ điểm nguyện vọng {_num(run.last_eff[s], 'vi')};"
        score_vi += f" của bạn ở NV{j + 1}: {_num(run.effective[a, j], 'vi')})"
    elif total[a] == run.last_score[s] and not run.filled_earlier(s, j):
        score_en += ", tie broken by lottery"
        score_vi += ", bằng điểm, xét theo bốc thăm"
    return score_en, score_vi


def _placed_reason(run: _Run, a: int, parts_en: list[str], parts_vi: list[str]) -> _Text:
    """Return the reason of placed applicant ``a`` after its refused choices ``parts``."""
    allocation, names, straight = run.allocation, run.problem.school_names, run.straight_for(a)
    s_got = int(allocation.assigned[a])
    j_got = int(allocation.choice_index[a])
    where_en = f"{names[s_got]} ({_km(allocation.distance_m[a], 'en', straight)})"
    where_vi = f"{names[s_got]} ({_km(allocation.distance_m[a], 'vi', straight)})"
    if not np.isfinite(allocation.distance_m[a]):
        where_en = where_vi = str(names[s_got])
    if allocation.mechanism == "mincost":
        known = bool(np.isfinite(allocation.distance_m[a]))
        return (f"Planning run (minimum total travel): placed at choice {j_got + 1}, {where_en}"
                + ("" if known else " (no home given: placed by the order of choices only)"),
                "Phương án quy hoạch (tổng quãng đường nhỏ nhất): "
                f"xếp vào nguyện vọng {j_got + 1}, {where_vi}"
                + ("" if known else " (không có địa chỉ nhà: xếp theo thứ tự nguyện vọng)"))
    if run.nearest:
        done_en = f"Admitted at {where_en}, nearest school no. {j_got + 1}"
        done_vi = f"Trúng tuyển {where_vi}, trường gần thứ {j_got + 1}"
    else:
        done_en = f"admitted at NV{j_got + 1}, {where_en}"
        done_vi = f"trúng tuyển NV{j_got + 1}, {where_vi}"
    if run.nearest and j_got > 0:
        return ("Nearer schools were full: " + "; ".join(parts_en) + f". {done_en}",
                "Các trường gần hơn đã đủ chỉ tiêu: " + "; ".join(parts_vi) + f". {done_vi}")
    return "; ".join([*parts_en, done_en]), "; ".join([*parts_vi, done_vi])


def _unplaced_reason(run: _Run, listed: int, parts_en: list[str], parts_vi: list[str]) -> _Text:
    """Return the reason of an applicant who listed ``listed`` schools and was not placed."""
    if listed == 0:
        return "Not placed: no school listed", "Chưa trúng tuyển: không có nguyện vọng"
    if run.allocation.mechanism == "mincost":
        return ("Planning run (minimum total travel): not placed, listed schools are full",
                "Phương án quy hoạch (tổng quãng đường nhỏ nhất): chưa xếp được, "
                "các trường đã đủ chỉ tiêu")
    return "Not placed: " + "; ".join(parts_en), "Chưa trúng tuyển: " + "; ".join(parts_vi)


def result_frame(problem: AdmissionProblem, allocation: Allocation) -> pd.DataFrame:
    """Return the output CSV rows: ``applicant_id,school_code,choice_rank,distance_m,reason,...``.

    ``reason`` is Vietnamese, ``reason_en`` English; ``distance_kind`` says whether distances
    are by road or straight-line (per applicant: a home too far from every road of a road
    run is ``straight_line``).
    """
    reasons = explain(problem, allocation)
    placed = allocation.placed
    school = np.where(placed, problem.school_codes[np.maximum(allocation.assigned, 0)], "")
    rank = pd.array(
        [int(j) + 1 if p and j >= 0 else pd.NA
         for p, j in zip(placed, allocation.choice_index, strict=True)],
        dtype="Int64",
    )
    return pd.DataFrame(
        {
            "applicant_id": problem.applicant_ids,
            "school_code": school,
            "choice_rank": rank,
            "distance_m": np.round(allocation.distance_m, 1),
            "reason": reasons.vi,
            "reason_en": reasons.en,
            "distance_kind": np.where(_offroad(problem), "straight_line", problem.distance_kind),
        },
        columns=RESULT_COLUMNS,
    )
