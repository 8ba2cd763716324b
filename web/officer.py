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
from admissions.files import spreadsheet_rows
from admissions.names import MECHANISMS, MechanismName
from admissions.queries import APPLICANT_COLUMNS
from admissions.round_capacities import import_capacities
from admissions.round_inputs import run_summary
from gis_service.accounts import User, audit
from gis_service.csv_cells import csv_text
from gis_service.errors import EdugisError, InputError, InvalidValueError, NotFoundError, StateError
from gis_service.levels import EntryGrade
from routing.speeds import DEFAULT_MAX_OFFROAD_M
from web.auth import AdminUser, OfficerUser, check_csrf
from web.deps import EngineDep
from web.errors import ApiError, BadRequestError, error_answer, in_language
from web.i18n import lang_of, translate
from web.i18n_officer import ERRORS
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
#: Longest applicant id or school code a problem's row shows (longer cells are cut).
MAX_KEY_CHARS = 32
#: Address flags listed on the round page; the CSV has them all.
MAX_FLAGS_SHOWN = 100
ROUND_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
#: A form's one-time key (:mod:`gis_service.request_keys`); HAProxy may resend a POST with one.
RequestKeyForm = Annotated[str, Form(pattern=r"^([0-9a-f]{32})?$")]


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


def error_text(error: BaseException, lang: str) -> str:
    """Return why ``error`` refused an action, in ``lang`` (``"vi"`` or ``"en"``).

    A file's problems give their reasons; a state error its own Vietnamese message; a
    message the service raises in English only its Vietnamese from
    :data:`web.i18n_officer.ERRORS`.
    """
    if isinstance(error, InputError):
        return "; ".join(p.reason_in(lang) for p in error.problems[:10])
    message = str(getattr(error, "message", None) or error)
    if lang == "en":
        return message
    message_vi = getattr(error, "message_vi", None)
    if message_vi:
        return str(message_vi)
    for pattern, vietnamese in ERRORS:
        match = pattern.search(message)
        if match:
            return vietnamese.format(**match.groupdict())
    return message


def _decimal(value: float, digits: int, lang: str) -> str:
    """Return ``value`` rounded to ``digits`` decimals, with a decimal comma in Vietnamese."""
    text = f"{value:,.{digits}f}"
    if lang == "vi":
        text = text.replace(",", " ").replace(".", ",").replace(" ", ".")
    return text


def count_text(count: int, lang: str) -> str:
    """Return a whole number with thousands marked (``12.345`` in Vietnamese, ``12,345``)."""
    return f"{count:,}".replace(",", "." if lang == "vi" else ",")


def share_text(share: float, lang: str) -> str:
    """Return a share (0..1) as a percentage: ``"84 %"`` (one decimal below 10 %)."""
    percent = 100.0 * share
    return f"{_decimal(percent, 1 if 0 < percent < 10 else 0, lang)} %"


def distance_text(distance_m: float | None, lang: str) -> str:
    """Return a distance in metres as ``"850 m"`` or ``"2,4 km"``; ``"—"`` when unknown."""
    if distance_m is None or distance_m != distance_m:
        return "—"
    if distance_m < 1000:
        return f"{round(distance_m / 10) * 10:.0f} m"
    return f"{_decimal(distance_m / 1000, 1, lang)} km"


def time_text(time_s: float | None, lang: str) -> str:
    """Return a travel time in seconds as whole minutes (``"12 phút"``); ``"—"`` when unknown."""
    if time_s is None or time_s != time_s:
        return "—"
    return f"{max(1, round(time_s / 60))} {translate('minutes', lang)}"


def metric_rows(figures: dict[str, Any] | None, parameters: dict[str, Any], lang: str,
                justified_envy: int | None = None) -> list[tuple[str, str]]:
    """Return the stored run's figures as ``(label, value)`` rows for people.

    ``figures`` are :func:`admissions.queries.run_metrics`; counts come with their share of
    the applicants, distances in m or km, times in minutes. ``justified_envy`` is known
    right after a run only.
    """
    if figures is None:
        return []
    total = figures["applicants"] or 1

    def t(key: str) -> str:
        return translate(key, lang)

    def counted(count: int) -> str:
        return count_text(count, lang)

    def with_share(count: int) -> str:
        return f"{counted(count)} ({share_text(count / total, lang)})"

    rows = [(t("m_applicants"), counted(figures["applicants"])),
            (t("m_placed"), with_share(figures["placed"])),
            (t("m_unplaced"), with_share(figures["unplaced"]))]
    for rank, count in figures["placed_by_choice"].items():
        label = t("m_off_list") if rank == 0 else t("m_choice").format(rank=rank)
        rows.append((label, with_share(count)))
    if figures["distance_known"]:
        rows += [(t("m_distance_mean"), distance_text(figures["distance_mean_m"], lang)),
                 (t("m_distance_median"), distance_text(figures["distance_median_m"], lang)),
                 (t("m_distance_p90"), distance_text(figures["distance_p90_m"], lang))]
        rows += [(t("m_within").format(km=km), share_text(figures[f"share_within_{km}km"], lang))
                 for km in (1, 2, 3) if figures.get(f"share_within_{km}km") is not None]
    if figures.get("time_mean_s") is not None:
        rows += [(t("m_time_mean"), time_text(figures["time_mean_s"], lang)),
                 (t("m_time_median"), time_text(figures["time_median_s"], lang))]
    if parameters.get("offroad_homes"):
        rows.append((t("m_offroad"), counted(int(parameters["offroad_homes"]))))
    if justified_envy is not None:
        rows.append((t("m_envy"), counted(justified_envy)))
    return rows


def _school_rows(schools: list[dict[str, Any]], grade: int, lang: str) -> list[dict[str, Any]]:
    """Return the per-school table's rows, each figure as people read it."""
    rows = []
    for school in schools:
        places, placed = school["places"], int(school["placed"])
        if grade == 10:
            cutoff = ("—" if school["cutoff_score"] is None
                      else _decimal(float(school["cutoff_score"]), 2, lang).rstrip("0").rstrip(",."))
        else:
            cutoff = ("—" if school["cutoff_tier"] is None
                      else translate(f"tier_{int(school['cutoff_tier'])}", lang))
        rows.append({
            "school": f"{school['school_code']} {school['name'] or ''}".strip(),
            "places": "—" if places is None else str(places), "placed": str(placed),
            "fill": "—" if not places else share_text(placed / int(places), lang),
            "cutoff": cutoff,
            "worst_choice": "—" if school["worst_choice"] is None else f"NV{school['worst_choice']}",
            "distance": distance_text(school["mean_distance_m"], lang),
            "time": time_text(school["mean_time_s"], lang)})
    return rows


def _applicant_rows(rows: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Return the applicants table's rows with codes and raw numbers put in words."""
    out = []
    for row in rows:
        reason = row["reason_en"] if lang == "en" else row["reason_vi"]
        out.append({
            "applicant_id": row["applicant_id"], "ward_code": row["ward_code"] or "",
            "residence_type": (translate(f"res_{row['residence_type']}", lang)
                               if row["residence_type"] else ""),
            "tier": "" if row["tier"] is None else str(row["tier"]),
            "score": "" if row["score"] is None else _decimal(float(row["score"]), 2, lang),
            "bonus": "" if not row["bonus"] else _decimal(float(row["bonus"]), 2, lang),
            "choices": ", ".join((row["choices"] or "").split()),
            "school_code": row["school_code"] or ("" if row["reason_vi"] is None
                                                  else translate("withdrawn", lang)),
            "choice_rank": ("" if row["reason_vi"] is None or row["school_code"] is None
                            else translate("off_list", lang) if row["choice_rank"] is None
                            else f"NV{row['choice_rank']}"),
            "distance_m": "" if row["reason_vi"] is None else distance_text(row["distance_m"], lang),
            "time_s": "" if row["reason_vi"] is None else time_text(row["time_s"], lang),
            "reason": reason or "", "explained": row["reason_vi"] is not None})
    return out


def _applicant_columns(grade: int) -> tuple[str, ...]:
    """Return the applicants table's columns for a round of ``grade``."""
    given = ("score", "bonus") if grade == 10 else ("ward_code", "residence_type", "tier")
    return ("applicant_id", *given, "choices", "school_code", "choice_rank", "distance_m",
            "time_s", "reason")


def _round_page(request: Request, engine: Engine, user: User, round_id: str, page: int = 1,
                status_code: int = 200, justified_envy: int | None = None,
                **extra: Any) -> HTMLResponse:
    """Show the round page: state, forms (unless published), per-school results, applicants."""
    lang = lang_of(request)
    info = service.get_round(engine, round_id)
    counts = queries.applicant_counts(engine, round_id)
    pages = max(1, -(-counts["applicants"] // PAGE_SIZE))
    page = min(page, pages)
    rows = queries.applicants_page(engine, round_id, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    # the address checks scan the whole round: on its first page only (the CSV has them all)
    flags = address_flags(engine, round_id) if page == 1 else None
    audit(engine, user.username, "view_applicants", round_id,
          {"page": page, "rows": len(rows), "address_flags": None if flags is None else len(flags)})
    stored = queries.run_metrics(engine, round_id) if info.status != "draft" else None
    context: dict[str, Any] = {
        "round": info, "rows": _applicant_rows(rows, lang), "page": page, "pages": pages,
        "has_next": page < pages, "applicant_count": count_text(counts["applicants"], lang),
        "columns": _applicant_columns(info.grade), "mechanisms": MECHANISMS,
        "mincost_possible": counts["homes"] > 0,
        "schools": _school_rows(queries.placements_per_school(engine, round_id, info.grade),
                                info.grade, lang),
        "officers": service.round_officers(engine, round_id),
        "flags": None if flags is None else flags.head(MAX_FLAGS_SHOWN).to_dict("records"),
        "flag_count": 0 if flags is None else len(flags),
        "check_limits": CheckLimits(),
        # the limit of the stored run, so that a rerun keeps it unless changed
        "max_offroad_m": info.parameters.get("max_offroad_m", DEFAULT_MAX_OFFROAD_M),
        "ward_check_note": None if flags is None else ward_check_note(engine),
        "bounds": city_bounds(engine),
        "imported_applicants": None, "imported_capacities": None, "problems": None,
        "problem_count": 0, "error": None,
        "metrics": metric_rows(stored, info.parameters, lang, justified_envy),
        # what an import would discard (and publishing freeze): the forms ask to confirm
        "stored_run": run_summary(engine, round_id),
        "overrides": info.parameters.get("overrides", []) if info.status == "run" else [],
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
                 csrf_token: Annotated[str, Form()] = "",
                 request_key: RequestKeyForm = "") -> Response:
    """Create a draft round, then go to its page (the round created first, if sent again)."""
    check_csrf(request, csrf_token)
    round_id = round_id.strip()
    if not ROUND_ID.match(round_id):
        return _home(request, engine, user, translate("bad_round_id", lang_of(request)), 400)
    try:
        info = service.create_round(engine, round_id, grade, year, mechanism, seed,
                                    actor=user.username, request_key=request_key)
    except ValueError as error:
        return _home(request, engine, user, error_text(error, lang_of(request)), 400)
    return RedirectResponse(f"/officer/rounds/{quote(info.id)}", status_code=303)


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


def problem_rows(error: InputError, lines: list[tuple[int, str]], lang: str
                 ) -> list[dict[str, Any]]:
    """Return the first :data:`MAX_PROBLEMS_SHOWN` problems of a refused file for its table.

    Each names the file, the spreadsheet line (header = line 1; ``lines`` from
    :func:`admissions.files.spreadsheet_rows` maps the problem's data row to it), the row's
    key (applicant id or school code), the field and the reason in ``lang``.
    """
    rows = []
    for problem in error.problems[:MAX_PROBLEMS_SHOWN]:
        line, key = None, ""
        if problem.row is not None:
            line, key = (lines[problem.row - 1] if 0 < problem.row <= len(lines)
                         else (problem.row + 1, ""))
        if len(key) > MAX_KEY_CHARS:  # a cell too long to be an id is not repeated back
            key = key[:MAX_KEY_CHARS] + "…"
        rows.append({"file": problem.file, "line": line, "key": key, "field": problem.field or "",
                     "reason": problem.reason_in(lang),
                     "reason_lang": "en" if lang == "vi" and not problem.reason_vi else lang})
    return rows


async def _upload(request: Request, engine: Engine, user: User, round_id: str, file: UploadFile,
                  csrf_token: str, kind: str, discard_run: bool) -> HTMLResponse:
    check_csrf(request, csrf_token)
    service.get_round(engine, round_id)
    content = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise ApiError(413, "PayloadTooLarge", f"{in_language(request, 'body_too_large')} "
                                               f"(≤ {MAX_UPLOAD_BYTES // (1024 * 1024)} MB)")
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
            lines = spreadsheet_rows(path, "applicant_id" if kind == "applicants" else "school_code")
            return _round_page(request, engine, user, round_id,
                               status_code=refusal_status(error),
                               problems=problem_rows(error, lines, lang_of(request)),
                               problem_count=len(error.problems), upload_name=name,
                               problem_key=kind)
        except StateError as error:
            # a run that would be discarded (the page asks to confirm), a published round,
            # or a race lost to another officer's action
            return _round_page(request, engine, user, round_id,
                               status_code=refusal_status(error),
                               error=error_text(error, lang_of(request)))
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
        return _round_page(request, engine, user, round_id, status_code=refusal_status(error),
                           error=error_text(error, lang_of(request)))
    except ValueError as error:  # a mechanism the input does not allow (mincost without homes)
        return _round_page(request, engine, user, round_id, status_code=400,
                           error=error_text(error, lang_of(request)))
    return _round_page(request, engine, user, round_id,
                       justified_envy=int(figures["justified_envy"]))


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
    lang = lang_of(request)
    table = comparison.table
    rows = [[figure_label(str(figure), lang),
             *(figure_value(str(figure), value, int(table.loc["applicants", name] or 1), lang)
               for name, value in table.loc[figure].items())]
            for figure in table.index]
    return render(request, engine, "officer_compare.html", {
        "round": info, "columns": [str(c) for c in table.columns], "rows": rows,
        "skipped": {name: ValueError(why) for name, why in comparison.skipped.items()},
        "error_text": error_text})


def figure_label(figure: str, lang: str) -> str:
    """Return the name people read for a figure of :func:`admissions.metrics.comparison_table`."""
    if figure.startswith("placed_choice_"):
        rank = figure.removeprefix("placed_choice_")
        return translate("m_off_list" if rank == "override" else "m_choice", lang).format(rank=rank)
    if figure.startswith("share_within_"):
        km = figure.removeprefix("share_within_").removesuffix("km")
        return translate("m_within", lang).format(km=km)
    named = {"applicants": "m_applicants", "placed": "m_placed", "unplaced": "m_unplaced",
             "distance_mean_m": "m_distance_mean", "distance_median_m": "m_distance_median",
             "distance_p90_m": "m_distance_p90", "distance_total_m": "m_distance_total",
             "justified_envy": "m_envy"}
    return translate(named[figure], lang) if figure in named else figure


def figure_value(figure: str, value: Any, applicants: int, lang: str) -> str:
    """Return a figure of a comparison as people read it: shares in %, distances in m or km."""
    if value is None or value != value:
        return "—"
    if figure.startswith("share_within_"):
        return share_text(float(value), lang)
    if figure.endswith("_m"):
        return distance_text(float(value), lang)
    count = count_text(int(value), lang)
    if figure in ("placed", "unplaced") or figure.startswith("placed_choice_"):
        return f"{count} ({share_text(int(value) / max(applicants, 1), lang)})"
    return count


@router.get("/officer/rounds/{round_id}/find")
def find_applicant(round_id: str, user: RoundUser, applicant_id: str = "") -> RedirectResponse:
    """Answer the search box of the round page: go to one applicant's explanation."""
    if not applicant_id.strip():
        raise BadRequestError("hãy nhập mã hồ sơ / give an applicant id")
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
        "flags": flags.to_dict("records"), "distance_text": distance_text,
        "time_text": time_text}, status_code=status_code)


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
                             error=translate("reason_required", lang_of(request)))
    try:
        service.override_applicant(engine, round_id, applicant_id, school_code or None,
                                   reason.strip(), actor=user.username, force=force)
    except StateError as error:
        return _explain_page(request, engine, user, round_id, applicant_id,
                             error_text(error, lang_of(request)), refusal_status(error))
    except ValueError as error:  # InputError included: unknown school, full school, ...
        return _explain_page(request, engine, user, round_id, applicant_id,
                             error_text(error, lang_of(request)), 400)
    return RedirectResponse(f"/officer/rounds/{round_id}/applicants/{applicant_id}", status_code=303)


@router.post("/officer/rounds/{round_id}/officers", response_model=None)
def grant(round_id: str, request: Request, engine: EngineDep, user: AdminUser,
          username: Annotated[str, Form(max_length=64)],
          csrf_token: Annotated[str, Form()] = "",
          request_key: RequestKeyForm = "") -> Response:
    """Make an officer one of the round's officers (admins only)."""
    check_csrf(request, csrf_token)
    try:
        service.grant_round(engine, round_id, username.strip(), actor=user.username,
                            request_key=request_key)
    except ValueError as error:
        return _round_page(request, engine, user, round_id, status_code=400,
                           error=error_text(error, lang_of(request)))
    return RedirectResponse(f"/officer/rounds/{quote(round_id)}", status_code=303)


@router.post("/officer/rounds/{round_id}/publish", response_model=None)
def publish(round_id: str, request: Request, engine: EngineDep, user: RoundUser,
            csrf_token: Annotated[str, Form()] = "",
            confirm: Annotated[bool, Form()] = False,
            request_key: RequestKeyForm = "") -> Response:
    """Freeze a run round: its forms disappear and further actions are refused.

    The form's box (``confirm``), which says how many allocations and overrides are frozen,
    must be ticked; the page is shown again with why otherwise (400).
    """
    check_csrf(request, csrf_token)
    if not confirm:
        return _round_page(request, engine, user, round_id, status_code=400,
                           error=translate("publish_unconfirmed", lang_of(request)))
    try:
        service.publish_round(engine, round_id, actor=user.username, request_key=request_key)
    except (StateError, InvalidValueError) as error:
        return _round_page(request, engine, user, round_id, status_code=refusal_status(error),
                           error=error_text(error, lang_of(request)))
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


#: The columns of each upload's template, by the round's grade (applicants) or for all.
TEMPLATE_COLUMNS = {
    "applicants-10": ("applicant_id", "score", "bonus", "choice1", "choice2", "choice3", "lon",
                      "lat"),
    "applicants-6": ("applicant_id", "lon", "lat", "tier", "choice1", "choice2", "choice3"),
    "capacities": ("school_code", "capacity"),
}
TEMPLATE_COLUMNS["applicants-1"] = TEMPLATE_COLUMNS["applicants-6"]


@router.get("/officer/rounds/{round_id}/templates/{kind}.csv")
def upload_template(round_id: str, kind: Literal["applicants", "capacities"],
                    engine: EngineDep, user: RoundUser) -> Response:
    """Return a template of an upload (applicants for the round's grade, or places) as CSV.

    The header has the columns the import reads, then two example rows naming schools of the
    round, which an officer replaces with real rows.
    """
    info = service.get_round(engine, round_id)
    schools = queries.example_schools(engine, round_id, info.grade)
    if not schools:
        raise BadRequestError(f"đợt {round_id} chưa có trường nào có chỉ tiêu / "
                              f"no school has places in round {round_id}")
    codes = [s["code"] for s in schools] + [""] * 3
    rows: list[dict[str, Any]] = []
    if kind == "capacities":
        columns = TEMPLATE_COLUMNS["capacities"]
        rows = [{"school_code": s["code"], "capacity": s["places"]} for s in schools[:2]]
    else:
        columns = TEMPLATE_COLUMNS[f"applicants-{info.grade}"]
        for number, (score, tier) in enumerate(((24.5, 1), (21.75, 2)), start=1):
            home = schools[0]
            rows.append({"applicant_id": f"HS{number:04d}", "score": score, "bonus": 0,
                         "tier": tier, "choice1": codes[number - 1], "choice2": codes[number],
                         "choice3": codes[number + 1] if info.grade == 10 else "",
                         "lon": round(float(home["lon"]) + 0.004 * number, 5),
                         "lat": round(float(home["lat"]) + 0.003, 5)})
    return _csv(rows, columns, f"{round_id}-{kind}-template.csv")


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
