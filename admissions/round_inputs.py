"""What a run of an admission round reads, and the lock that keeps it whole.

Runs and imports of one round meet at the round's row, which every writing transaction of
the round locks first (:func:`lock_round`, ``FOR UPDATE``, always before any other row of
the round, so two of them wait for each other instead of deadlocking):

- every change of what a run reads from the round (its applicants, its places) goes through
  :func:`change_round_inputs`, which bumps ``admission_rounds.inputs_version`` under that
  lock and discards a stored run only when the caller confirms it (:class:`RunDiscardError`
  otherwise);
- a run notes the round's ``inputs_version`` and the versions of the map tables it reads
  (:data:`RUN_INPUT_TABLES`, from ``data_changes``) with :func:`input_versions` before it
  loads anything, and stores its result only if :func:`check_inputs_unchanged` finds them
  unchanged under the lock (:class:`InputsChangedError` otherwise), so a stored result
  always belongs to the inputs stored with it.

The versions stand in for a checksum of the inputs: recomputing the run's input checksum
inside the writing transaction would mean loading the round and the road graph again there.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from admissions.rounds import RoundStateError
from gis_service.changes import read_versions
from gis_service.errors import ConflictError, NotFoundError

#: Map tables (versioned in ``data_changes``) whose rows a run reads: schools and their
#: places, catchments, the road network and the setting naming the basemap in use.
RUN_INPUT_TABLES = ("schools", "catchments", "basemaps", "road_nodes", "road_edges",
                    "app_settings")
#: What a change of each versioned input is called in a refusal (English, Vietnamese).
_INPUT_NAMES = {"round": ("the round's applicants or places", "hồ sơ hoặc chỉ tiêu của đợt"),
                "schools": ("the schools", "danh sách trường"),
                "catchments": ("the catchments", "địa bàn tuyển sinh"),
                "basemaps": ("the road network", "mạng lưới đường"),
                "road_nodes": ("the road network", "mạng lưới đường"),
                "road_edges": ("the road network", "mạng lưới đường"),
                "app_settings": ("the basemap in use", "bản đồ nền đang dùng")}


class InputsChangedError(ConflictError):
    """A run or override whose inputs changed while it computed: nothing was stored."""


class RunDiscardError(ConflictError):
    """An import into a round with a stored run, not confirmed: the run would be discarded.

    ``placements`` and ``overrides`` say what the confirmation would discard.
    """

    def __init__(self, round_id: str, placements: int, overrides: int) -> None:
        super().__init__(
            f"round {round_id} has a stored run: this import would discard its {placements}"
            f" allocation(s) and {overrides} officer override(s); confirm to discard the run",
            f"đợt {round_id} đã có kết quả phân bổ: nhập tệp này sẽ xóa {placements} kết quả"
            f" xếp trường và {overrides} quyết định điều chỉnh của cán bộ; hãy xác nhận xóa"
            " kết quả để tiếp tục")
        self.round_id = round_id
        self.placements = placements
        self.overrides = overrides


def lock_round(conn: Connection, round_id: str) -> sa.Row[Any]:
    """Return the round's row, locked until the transaction ends.

    Columns ``status, mechanism, parameters, inputs_version``. Every write of a round's data
    takes this lock first.
    """
    row = conn.execute(sa.text(
        "SELECT status, mechanism, parameters, inputs_version FROM admission_rounds"
        " WHERE id = :r FOR UPDATE"), {"r": round_id}).one_or_none()
    if row is None:
        raise NotFoundError(f"unknown admission round {round_id!r}")
    return row


def change_round_inputs(conn: Connection, round_id: str, discard_run: bool,
                        what: str) -> dict[str, int] | None:
    """Open a change of what a run of ``round_id`` reads, in the caller's transaction.

    Locks the round, refuses a published round, drops a stored run only when
    ``discard_run`` confirms it, makes the round a draft and bumps its ``inputs_version``
    (so a run that read the old inputs cannot store its result). Call it before any other
    write of the transaction.

    Parameters
    ----------
    what
        What is being changed, for the refusal of a published round (e.g. ``"applicants"``).

    Returns
    -------
    dict or None
        ``{"placements": n, "overrides": m}`` of the run that was discarded, ``None`` when
        the round had none.

    Raises
    ------
    RoundStateError
        When the round is published.
    RunDiscardError
        When the round has a stored run and ``discard_run`` is false.
    """
    row = lock_round(conn, round_id)
    if row.status == "published":
        raise RoundStateError(f"round {round_id} is published: its {what} are frozen")
    discarded = None
    if row.status == "run":
        discarded = _run_counts(conn, round_id, row.parameters)
        if not discard_run:
            raise RunDiscardError(round_id, **discarded)
    conn.execute(sa.text("DELETE FROM allocations WHERE round_id = :r"), {"r": round_id})
    conn.execute(sa.text("UPDATE admission_rounds SET status = 'draft',"
                         " inputs_version = inputs_version + 1 WHERE id = :r"), {"r": round_id})
    return discarded


def _run_counts(conn: Connection, round_id: str, parameters: dict[str, Any] | None
                ) -> dict[str, int]:
    """Return ``{"placements": n, "overrides": m}`` of the stored run of ``round_id``."""
    placements = conn.execute(sa.text("SELECT count(*) FROM allocations WHERE round_id = :r"),
                              {"r": round_id}).scalar_one()
    return {"placements": int(placements), "overrides": len((parameters or {}).get("overrides", []))}


def run_summary(engine: Engine, round_id: str) -> dict[str, int] | None:
    """Return what discarding the stored run of ``round_id`` would drop.

    ``{"placements": n, "overrides": m}``, or ``None`` when the round has no stored run.
    """
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT status, parameters FROM admission_rounds WHERE id = :r"),
                           {"r": round_id}).one_or_none()
        if row is None or row.status != "run":
            return None
        return _run_counts(conn, round_id, row.parameters)


def input_versions(conn: Connection, round_id: str) -> dict[str, int]:
    """Return the round's ``inputs_version`` and the versions of its input tables.

    The round's is keyed ``"round"``, the others by the tables of :data:`RUN_INPUT_TABLES`:
    a run reads them before its inputs and compares when it stores.
    """
    versions = {"round": int(conn.execute(sa.text(
        "SELECT inputs_version FROM admission_rounds WHERE id = :r"), {"r": round_id}).scalar_one())}
    versions.update((name, version) for name, version in read_versions(conn).items()
                    if name in RUN_INPUT_TABLES)
    return versions


def check_inputs_unchanged(conn: Connection, round_id: str, read: dict[str, int]) -> None:
    """Refuse (:class:`InputsChangedError`) when an input version moved since ``read``."""
    now = input_versions(conn, round_id)
    changed = [key for key in read if now.get(key) != read[key]]
    if not changed:
        return
    names = list(dict.fromkeys(_INPUT_NAMES[key] for key in changed))
    raise InputsChangedError(
        f"the inputs of round {round_id} changed while it was computed"
        f" ({', '.join(en for en, _ in names)}): the result was not stored; run it again",
        f"dữ liệu đầu vào của đợt {round_id} đã thay đổi trong lúc tính"
        f" ({', '.join(vi for _, vi in names)}): kết quả chưa được lưu; hãy chạy lại")
