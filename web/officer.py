"""Officers' workspace: create a round, import applicants, run, compare, explain and the rest.

The rest is override, export and publish. Every route checks the role and every form the
CSRF token, then parses, calls :mod:`admissions.service` (actions) or
:mod:`admissions.queries` (reads) and renders; the admissions service writes the audit log
of each action, this module that of each view of personal data. A refused action shows its
page again with the reason, answered with the status of :data:`web.errors.ERROR_ANSWERS`
(409 for a round's state).
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

import pandas as pd
from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BeforeValidator
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from admissions import queries, service
from admissions.address_checks import CheckLimits, address_flags, ward_check_note
from admissions.names import MECHANISMS, MechanismName
from admissions.queries import APPLICANT_COLUMNS
from admissions.round_capacities import import_capacities
from admissions.round_inputs import run_summary
from gis_service.accounts import User, audit
from gis_service.csv_cells import csv_text
from gis_service.errors import EdugisError, InputError, NotFoundError, StateError
from gis_service.levels import EntryGrade
from routing.speeds import DEFAULT_MAX_OFFROAD_M
from web.auth import AdminUser, OfficerUser, check_csrf
from web.deps import EngineDep
from web.errors import ApiError, BadRequestError, error_answer
from web.pages import city_bounds, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 100
#: Last page of a round's applicants that may be asked for (100 million applicants).
MAX_PAGE = 1_000_000
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
#: An uploaded file's name is cut to this many UTF-8 bytes (it names the file in problems
#: and in the audit log, and becomes a temporary file's name: 255 bytes at most there).
MAX_FILENAME_BYTES = 120
#: Problems listed on the page; the count says how many more there are.
MAX_PROBLEMS_SHOWN = 500
#: Address flags listed on the round page; the CSV has them all.
MAX_FLAGS_SHOWN = 100
ROUND_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def refusal_status(error: EdugisError) -> int:
    """Return the status of a page shown again with ``error``.

    That is its answer in the one error table (:data:`web.errors.ERROR_ANSWERS`), 400 for an
    error without one.
    """
    answer = error_answer(error)
    return 400 if answer is None else answer.status


def _round_user(round_id: str, engine: EngineDep, user: OfficerUser) -> User:
    """Return the signed-in user when they are an officer of ``round_id`` (admins always are)."""
    if user.role == "admin" or service.is_round_officer(engine, round_id, user.username):
        return user
    service.get_round(engine, round_id)  # an unknown round is a 404
    raise HTTPException(403, f"bạn không phụ trách đợt {round_id} / "
                             f"you are not an officer of round {round_id}")


#: An officer of the round in the path: the only people who see its applicants.
RoundUser = Annotated[User, Depends(_round_user)]


def _flat_metrics(figures: dict[str, Any]) -> list[tuple[str, Any]]:
    """Flatten metrics into ``(name, value)`` rows; nested dicts become ``outer.inner``."""
    rows: list[tuple[str, Any]] = []
    for key, value in figures.items():
        if isinstance(value, dict):
            rows.extend((f"{key}.{inner}", v) for inner, v in value.items())
        else:
            rows.append((key, value))
    return rows


def _round_page(request: Request, engine: Engine, user: User, round_id: str, page: int = 1,
                status_code: int = 200, **extra: Any) -> HTMLResponse:
    """Show the round page: state, forms (unless published), per-school results, applicants."""
    info = service.get_round(engine, round_id)
    rows = queries.round_applicants(engine, round_id, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    # the address checks scan the whole round: on its first page only (the CSV has them all)
    flags = address_flags(engine, round_id) if page == 1 else None
    audit(engine, user.username, "view_applicants", round_id,
          {"page": page, "rows": len(rows), "address_flags": None if flags is None else len(flags)})
    context: dict[str, Any] = {
        "round": info, "rows": rows, "page": page, "has_next": len(rows) == PAGE_SIZE,
        "columns": APPLICANT_COLUMNS, "mechanisms": MECHANISMS,
        "schools": queries.placements_per_school(engine, round_id, info.grade),
        "officers": service.round_officers(engine, round_id),
        "flags": None if flags is None else flags.head(MAX_FLAGS_SHOWN).to_dict("records"),
        "flag_count": 0 if flags is None else len(flags),
        "check_limits": CheckLimits(),
        # the limit of the stored run, so that a rerun keeps it unless changed
        "max_offroad_m": info.parameters.get("max_offroad_m", DEFAULT_MAX_OFFROAD_M),
        "ward_check_note": None if flags is None else ward_check_note(engine),
        "bounds": city_bounds(engine),
        "imported_applicants": None, "imported_capacities": None, "problems": None,
        "problem_count": 0, "metrics": None, "error": None,
        # what an import would discard: the upload forms then ask for a confirmation
        "stored_run": run_summary(engine, round_id),
    }
    context.update(extra)
    return render(request, engine, "officer_round.html", context, status_code=status_code)


@router.get("/officer", response_class=HTMLResponse)
def officer_home(request: Request, engine: EngineDep, user: OfficerUser) -> HTMLResponse:
    """List the user's admission rounds (every round for admins), with the new-round form.

    Each round comes with its applicant and placement counts.
    """
    return _home(request, engine, user)


def _home(request: Request, engine: Engine, user: User, error: str | None = None,
          status_code: int = 200) -> HTMLResponse:
    rounds = queries.officer_rounds(engine, user.username, every_round=user.role == "admin")
    return render(request, engine, "officer.html", {"rounds": rounds, "mechanisms": MECHANISMS,
                                                    "error": error}, status_code=status_code)


@router.post("/officer/rounds", response_model=None)
def create_round(request: Request, engine: EngineDep, user: OfficerUser,
                 round_id: Annotated[str, Form(max_length=64)],
                 grade: Annotated[EntryGrade, BeforeValidator(int), Form()],
                 year: Annotated[int, Form(ge=2000, le=2100)],
                 mechanism: Annotated[MechanismName, Form()] = "da",
                 seed: Annotated[int, Form(ge=0)] = 0,
                 csrf_token: Annotated[str, Form()] = "") -> Response:
    """Create a draft round, then go to its page."""
    check_csrf(request, csrf_token)
    round_id = round_id.strip()
    if not ROUND_ID.match(round_id):
        return _home(request, engine, user, "Mã đợt chỉ gồm chữ, số, '-', '_', '.' / round id: letters, "
                                      "digits, '-', '_', '.'", 400)
    try:
        service.create_round(engine, round_id, grade, year, mechanism, seed, actor=user.username)
    except ValueError as error:
        return _home(request, engine, user, str(error), 400)
    return RedirectResponse(f"/officer/rounds/{round_id}", status_code=303)


@router.get("/officer/rounds/{round_id}", response_class=HTMLResponse)
def officer_round(round_id: str, request: Request, engine: EngineDep, user: RoundUser,
                  page: int = 1) -> HTMLResponse:
    """Show one round's state and applicants (personal data), a page at a time; the view is audited."""
    if not 1 <= page <= MAX_PAGE:
        raise BadRequestError(f"trang (page) phải từ 1 đến {MAX_PAGE} / "
                              f"page must be within 1..{MAX_PAGE}")
    return _round_page(request, engine, user, round_id, page)


@router.post("/officer/rounds/{round_id}/applicants", response_class=HTMLResponse)
async def import_file(round_id: str, request: Request, engine: EngineDep, user: RoundUser,
                      file: Annotated[UploadFile, File()],
                      csrf_token: Annotated[str, Form()] = "",
                      discard_run: Annotated[bool, Form()] = False) -> HTMLResponse:
    """Replace the round's applicants by an uploaded CSV.

    A file with any problem stores nothing and every problem is listed with its row and
    field. A round that has been run keeps its result unless ``discard_run`` (the form's
    confirmation box) is ticked.
    """
    return await _upload(request, engine, user, round_id, file, csrf_token, "applicants",
                         discard_run)


@router.post("/officer/rounds/{round_id}/capacities", response_class=HTMLResponse)
async def import_capacity_file(round_id: str, request: Request, engine: EngineDep,
                               user: RoundUser, file: Annotated[UploadFile, File()],
                               csrf_token: Annotated[str, Form()] = "",
                               discard_run: Annotated[bool, Form()] = False) -> HTMLResponse:
    """Set the round's places per school from a CSV ``school_code,capacity``; all rows or none.

    A round that has been run keeps its result unless ``discard_run`` is ticked.
    """
    return await _upload(request, engine, user, round_id, file, csrf_token, "capacities",
                         discard_run)


def upload_name(filename: str | None, default: str) -> str:
    """Return a safe name for an uploaded file.

    That is its last path part without control characters, cut to
    :data:`MAX_FILENAME_BYTES` (keeping the extension, ``…`` where cut); ``default`` when
    nothing is left.
    """
    name = "".join(ch for ch in re.split(r"[/\\]", filename or "")[-1] if ch.isprintable())
    name = name.strip()
    if name in ("", ".", ".."):
        return default
    if len(name.encode()) <= MAX_FILENAME_BYTES:
        return name
    stem, dot, extension = name.rpartition(".")
    if not (dot and stem and len(extension.encode()) <= 16):
        stem, extension = name, ""
    ending = f"….{extension}" if extension else "…"
    while len((stem + ending).encode()) > MAX_FILENAME_BYTES:
        stem = stem[:-1]
    return stem + ending


async def _upload(request: Request, engine: Engine, user: User, round_id: str, file: UploadFile,
                  csrf_token: str, kind: str, discard_run: bool) -> HTMLResponse:
    check_csrf(request, csrf_token)
    service.get_round(engine, round_id)
    content = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise ApiError(413, "PayloadTooLarge", f"file over {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    name = upload_name(file.filename, f"{kind}.csv")
    importer = service.import_applicants if kind == "applicants" else import_capacities
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        try:
            # in a worker thread: the import may wait for the round's lock (a run storing)
            count = await run_in_threadpool(importer, engine, round_id, path,
                                            actor=user.username, discard_run=discard_run)
        except InputError as error:
            refused = "round.import_refused" if kind == "applicants" else f"round.import_{kind}_refused"
            audit(engine, user.username, refused, round_id,
                  {"file": name, "problems": len(error.problems)})
            return _round_page(request, engine, user, round_id,
                               status_code=refusal_status(error),
                               problems=error.problems[:MAX_PROBLEMS_SHOWN],
                               problem_count=len(error.problems), upload_name=name)
        except StateError as error:
            # a run that would be discarded (the page asks to confirm), a published round,
            # or a race lost to another officer's action
            return _round_page(request, engine, user, round_id,
                               status_code=refusal_status(error), error=str(error))
    return _round_page(request, engine, user, round_id, **{f"imported_{kind}": count})


@router.post("/officer/rounds/{round_id}/run", response_class=HTMLResponse)
def run(round_id: str, request: Request, engine: EngineDep, user: RoundUser,
        mechanism: Annotated[MechanismName | Literal[""], Form()] = "",
        max_offroad_m: Annotated[float, Form(ge=0, le=50_000)] = DEFAULT_MAX_OFFROAD_M,
        csrf_token: Annotated[str, Form()] = "") -> HTMLResponse:
    """Allocate the round with the chosen mechanism and show its metrics.

    The round's own mechanism is used when none is chosen. Homes farther than
    ``max_offroad_m`` from every road get straight-line distances and are flagged.
    """
    check_csrf(request, csrf_token)
    try:
        figures = service.run_round(engine, round_id, mechanism or None, actor=user.username,
                                    max_offroad_m=max_offroad_m)
    except StateError as error:  # published, no applicants yet, inputs changed while it ran
        return _round_page(request, engine, user, round_id,
                           status_code=refusal_status(error), error=str(error))
    except ValueError as error:  # a mechanism the input does not allow (mincost without homes)
        return _round_page(request, engine, user, round_id, status_code=400, error=str(error))
    return _round_page(request, engine, user, round_id, metrics=_flat_metrics(figures))


@router.get("/officer/rounds/{round_id}/compare", response_class=HTMLResponse)
def compare(round_id: str, request: Request, engine: EngineDep, user: RoundUser) -> HTMLResponse:
    """Compare every mechanism on the round's applicants (nothing stored)."""
    info = service.get_round(engine, round_id)
    try:
        comparison = service.compare_round(engine, round_id)
    except (NotFoundError, ValueError) as error:  # no applicants, or no mechanism applies
        raise BadRequestError(str(error)) from error
    audit(engine, user.username, "round.compare", round_id,
          {"skipped": sorted(comparison.skipped)})
    table = comparison.table.rename_axis("figure").reset_index()
    return render(request, engine, "officer_compare.html", {
        "round": info, "columns": [str(c) for c in table.columns], "skipped": comparison.skipped,
        "rows": table.astype(object).where(table.notna(), "").values.tolist()})


@router.get("/officer/rounds/{round_id}/find")
def find_applicant(round_id: str, user: RoundUser, applicant_id: str = "") -> RedirectResponse:
    """Answer the search box of the round page: go to one applicant's explanation."""
    if not applicant_id.strip():
        raise BadRequestError("give an applicant id")
    return RedirectResponse(f"/officer/rounds/{quote(round_id)}/applicants/{quote(applicant_id.strip())}",
                            status_code=303)


@router.get("/officer/rounds/{round_id}/applicants/{applicant_id}", response_class=HTMLResponse)
def explain(round_id: str, applicant_id: str, request: Request, engine: EngineDep,
            user: RoundUser) -> HTMLResponse:
    """Explain one applicant's outcome and its reason in Vietnamese and English; audited."""
    return _explain_page(request, engine, user, round_id, applicant_id)


def _explain_page(request: Request, engine: Engine, user: User, round_id: str, applicant_id: str,
                  error: str | None = None, status_code: int = 200) -> HTMLResponse:
    info = service.get_round(engine, round_id)
    outcome = service.explain_applicant(engine, round_id, applicant_id)
    audit(engine, user.username, "view_explanation", round_id, {"applicant_id": applicant_id})
    schools = queries.round_schools(engine, round_id, info.grade)
    flags = address_flags(engine, round_id, applicant_id=applicant_id)
    return render(request, engine, "officer_explain.html", {
        "round": info, "outcome": outcome, "schools": schools, "error": error,
        "flags": flags.to_dict("records")}, status_code=status_code)


@router.post("/officer/rounds/{round_id}/applicants/{applicant_id}/override",
             response_model=None)
def override(round_id: str, applicant_id: str, request: Request, engine: EngineDep,
             user: RoundUser, school_code: Annotated[str, Form()] = "",
             reason: Annotated[str, Form(max_length=1000)] = "",
             force: Annotated[bool, Form()] = False,
             csrf_token: Annotated[str, Form()] = "") -> Response:
    """Place (or withdraw, with an empty school) one applicant; a written reason is required."""
    check_csrf(request, csrf_token)
    if not reason.strip():
        return _explain_page(request, engine, user, round_id, applicant_id, status_code=400,
                             error="Cần ghi lý do / a written reason is required")
    try:
        service.override_applicant(engine, round_id, applicant_id, school_code or None,
                                   reason.strip(), actor=user.username, force=force)
    except StateError as error:
        return _explain_page(request, engine, user, round_id, applicant_id, str(error),
                             refusal_status(error))
    except ValueError as error:  # InputError included: unknown school, full school, ...
        return _explain_page(request, engine, user, round_id, applicant_id, str(error), 400)
    return RedirectResponse(f"/officer/rounds/{round_id}/applicants/{applicant_id}", status_code=303)


@router.post("/officer/rounds/{round_id}/officers", response_model=None)
def grant(round_id: str, request: Request, engine: EngineDep, user: AdminUser,
          username: Annotated[str, Form(max_length=64)],
          csrf_token: Annotated[str, Form()] = "") -> Response:
    """Make an officer one of the round's officers (admins only)."""
    check_csrf(request, csrf_token)
    try:
        service.grant_round(engine, round_id, username.strip(), actor=user.username)
    except ValueError as error:
        return _round_page(request, engine, user, round_id, error=str(error), status_code=400)
    return RedirectResponse(f"/officer/rounds/{quote(round_id)}", status_code=303)


@router.post("/officer/rounds/{round_id}/publish", response_model=None)
def publish(round_id: str, request: Request, engine: EngineDep, user: RoundUser,
            csrf_token: Annotated[str, Form()] = "") -> Response:
    """Freeze a run round: its forms disappear and further actions are refused."""
    check_csrf(request, csrf_token)
    try:
        service.publish_round(engine, round_id, actor=user.username)
    except StateError as error:
        return _round_page(request, engine, user, round_id, status_code=refusal_status(error),
                           error=str(error))
    return RedirectResponse(f"/officer/rounds/{round_id}", status_code=303)


def _csv(frame_rows: list[dict[str, Any]], columns: list[str] | tuple[str, ...], filename: str) -> Response:
    """Return the rows as a CSV download.

    Text cells a spreadsheet would run as formulas are neutralised
    (:mod:`gis_service.csv_cells`).
    """
    return Response(csv_text(frame_rows, columns), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


def _frame_csv(frame: pd.DataFrame, filename: str) -> Response:
    """Return :func:`_csv` of a data frame: its columns in order, missing values as empty cells."""
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return _csv([{str(k): v for k, v in r.items()} for r in rows],
                [str(c) for c in frame.columns], filename)


@router.get("/officer/rounds/{round_id}/results.geojson")
def results_map(round_id: str, engine: EngineDep, user: RoundUser) -> Response:
    """Show the stored run on a map.

    Every school of the grade is shown with its places and placed count, and the homes of
    unplaced applicants (personal data: officers of the round only, audited).
    """
    info = service.get_round(engine, round_id)
    results = queries.results_map(engine, round_id, info.grade)
    audit(engine, user.username, "view_results_map", round_id, {"unplaced": len(results.unplaced)})
    return Response(json.dumps(results.feature_collection(), ensure_ascii=False),
                    media_type="application/geo+json", headers={"Cache-Control": "no-store"})


@router.get("/officer/rounds/{round_id}/applicants.csv")
def export_applicants(round_id: str, engine: EngineDep, user: RoundUser) -> Response:
    """All applicants of a round with their placement, as CSV; the export is audited."""
    service.get_round(engine, round_id)
    rows = queries.round_applicants(engine, round_id)
    audit(engine, user.username, "export_applicants", round_id, {"rows": len(rows)})
    return _csv(rows, APPLICANT_COLUMNS, f"{round_id}-applicants.csv")


@router.get("/officer/rounds/{round_id}/address-checks.csv")
def export_address_checks(round_id: str, engine: EngineDep, user: RoundUser) -> Response:
    """Export every address flag of the round as CSV; the export is audited.

    Flags are a home outside the declared ward and a shared home.
    """
    service.get_round(engine, round_id)
    flags = address_flags(engine, round_id)
    audit(engine, user.username, "export_address_checks", round_id, {"rows": len(flags)})
    return _frame_csv(flags, f"{round_id}-address-checks.csv")


@router.get("/officer/rounds/{round_id}/results.csv")
def export_results(round_id: str, engine: EngineDep, user: RoundUser) -> Response:
    """Export the stored results in the output CSV contract; the export is audited."""
    frame = service.results_frame(engine, round_id)
    audit(engine, user.username, "export_results", round_id, {"rows": len(frame)})
    return _frame_csv(frame, f"{round_id}-results.csv")
