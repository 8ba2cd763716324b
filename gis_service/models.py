"""The core tables (ARCHITECTURE.md §7) as SQLAlchemy 2 / GeoAlchemy2 models.

Geometries are stored in EPSG:4326. Natural keys are primary keys wherever one exists
(school code, admin unit code), so imports upsert by them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Double,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gis_service.levels import SCHOOL_LEVELS

OWNERSHIPS = ("public", "private")
#: ``province`` holds the wards and communes (two tiers since 1 July 2025); ``district`` and
#: the wards under one are kept as history (``valid_to`` set).
ADMIN_LEVELS = ("province", "district", "ward")
ROLES = ("parent", "officer", "planner", "admin")


class Base(DeclarativeBase):
    """The declarative base of every table of edugis (JSON columns are JSONB)."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSONB}


class AdminUnit(Base):
    """A province, (former) district, ward or commune, with its boundary and validity period.

    A unit that no longer exists has ``valid_to`` set; wards and communes of today have the
    province as parent.
    """

    __tablename__ = "admin_units"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(
        String(16), ForeignKey("admin_units.code", ondelete="RESTRICT")
    )
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(Text, server_default="")
    geom: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True))
    __table_args__ = (
        CheckConstraint(f"level IN {ADMIN_LEVELS}", name="admin_level_known"),
        CheckConstraint("valid_to IS NULL OR valid_from IS NULL OR valid_to > valid_from",
                        name="admin_validity_ordered"),
    )


class AdminMapping(Base):
    """Which new unit(s) an old unit went to, and what part of it (``share``)."""

    __tablename__ = "admin_mapping"
    old_code: Mapped[str] = mapped_column(
        String(16), ForeignKey("admin_units.code", ondelete="CASCADE"), primary_key=True)
    new_code: Mapped[str] = mapped_column(
        String(16), ForeignKey("admin_units.code", ondelete="CASCADE"), primary_key=True)
    share: Mapped[float] = mapped_column(Double, server_default="1")
    source: Mapped[str] = mapped_column(Text, server_default="")
    __table_args__ = (
        CheckConstraint("share > 0 AND share <= 1", name="admin_mapping_share_fraction"),
        CheckConstraint("old_code <> new_code", name="admin_mapping_not_itself"),
        Index("ix_admin_mapping_new", "new_code"),
    )


class School(Base):
    """A school: level, ownership, location, capacities per entry grade."""

    __tablename__ = "schools"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(20))
    ownership: Mapped[str] = mapped_column(String(8))
    address: Mapped[str] = mapped_column(Text, server_default="")
    district_code: Mapped[str | None] = mapped_column(String(16))
    ward_code: Mapped[str | None] = mapped_column(String(16))
    capacity_grade1: Mapped[int | None] = mapped_column(Integer)
    capacity_grade6: Mapped[int | None] = mapped_column(Integer)
    capacity_grade10: Mapped[int | None] = mapped_column(Integer)
    programmes: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    #: Every level a multi-level school (liên cấp) teaches; ``level`` is its first.
    levels: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    osm_id: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(Text, server_default="")
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=4326, spatial_index=True))
    __table_args__ = (
        CheckConstraint(f"level IN {SCHOOL_LEVELS}", name="school_level_known"),
        CheckConstraint(f"ownership IN {OWNERSHIPS}", name="school_ownership_known"),
        CheckConstraint("cardinality(levels) = 0 OR level = ANY(levels)",
                        name="school_levels_hold_level"),
        CheckConstraint(
            "coalesce(capacity_grade1, 0) >= 0 AND coalesce(capacity_grade6, 0) >= 0"
            " AND coalesce(capacity_grade10, 0) >= 0",
            name="school_capacity_not_negative",
        ),
    )


class Basemap(Base):
    """One imported road network; ``version`` is its content digest."""

    __tablename__ = "basemaps"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(Text)
    node_count: Mapped[int] = mapped_column(Integer)
    edge_count: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RoadNode(Base):
    """A node (OSM node id and point) of one imported road network."""

    __tablename__ = "road_nodes"
    basemap: Mapped[str] = mapped_column(
        String(64), ForeignKey("basemaps.name", ondelete="CASCADE"), primary_key=True
    )
    node_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=4326, spatial_index=True))


class RoadEdge(Base):
    """A road segment of one imported road network, between nodes ``u`` and ``v``."""

    __tablename__ = "road_edges"
    basemap: Mapped[str] = mapped_column(
        String(64), ForeignKey("basemaps.name", ondelete="CASCADE"), primary_key=True
    )
    edge_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    u: Mapped[int] = mapped_column(BigInteger)
    v: Mapped[int] = mapped_column(BigInteger)
    osm_id: Mapped[int] = mapped_column(BigInteger)
    highway: Mapped[str] = mapped_column(String(32))
    oneway: Mapped[bool] = mapped_column(Boolean)
    maxspeed_kmh: Mapped[float | None] = mapped_column(Double)
    access: Mapped[str] = mapped_column(String(32), server_default="")
    name: Mapped[str] = mapped_column(Text, server_default="")
    length_m: Mapped[float] = mapped_column(Double)
    geom: Mapped[Any] = mapped_column(Geometry("LINESTRING", srid=4326, spatial_index=True))


class AddressPoint(Base):
    """An OSM house number (``addr:housenumber`` on ``addr:street``) of one imported basemap."""

    __tablename__ = "address_points"
    basemap: Mapped[str] = mapped_column(
        String(64), ForeignKey("basemaps.name", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    housenumber: Mapped[str] = mapped_column(Text)
    street: Mapped[str] = mapped_column(Text)
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=4326, spatial_index=True))


class Population(Base):
    """Residents of a ward by single year of age."""

    __tablename__ = "population"
    ward_code: Mapped[str] = mapped_column(
        String(16), ForeignKey("admin_units.code", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    age: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    #: How the row was made (imported as is, or the disaggregation method and its inputs).
    method: Mapped[str] = mapped_column(Text, server_default="")
    __table_args__ = (CheckConstraint("count >= 0 AND age >= 0", name="population_sane"),)


class Births(Base):
    """Births in a ward per year."""

    __tablename__ = "births"
    ward_code: Mapped[str] = mapped_column(
        String(16), ForeignKey("admin_units.code", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    births: Mapped[int] = mapped_column(Integer)


class Enrolment(Base):
    """Pupils enrolled (headcount) at a school per year and grade."""

    __tablename__ = "enrolment"
    school_code: Mapped[str] = mapped_column(
        String(32), ForeignKey("schools.code", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    grade: Mapped[int] = mapped_column(Integer, primary_key=True)
    headcount: Mapped[int] = mapped_column(Integer)


class Cutoff(Base):
    """Grade-10 admission cut-off (điểm chuẩn) history."""

    __tablename__ = "cutoffs"
    school_code: Mapped[str] = mapped_column(
        String(32), ForeignKey("schools.code", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    admission_round: Mapped[str] = mapped_column(String(8), primary_key=True)
    programme: Mapped[str] = mapped_column(String(32), primary_key=True)
    cutoff_score: Mapped[float] = mapped_column(Double)


class AdmissionRound(Base):
    """An admission round: grade, year, mechanism and its parameters, status."""

    __tablename__ = "admission_rounds"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    grade: Mapped[int] = mapped_column(Integer)
    year: Mapped[int] = mapped_column(Integer)
    mechanism: Mapped[str] = mapped_column(String(16), server_default="da")
    parameters: Mapped[dict[str, Any]] = mapped_column(server_default="{}")
    seed: Mapped[int] = mapped_column(BigInteger, server_default="0")
    status: Mapped[str] = mapped_column(String(12), server_default="draft")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    #: Bumped by every write of the round's inputs (applicants, places): a run stores its
    #: result only if the version it read is still the round's (migration 0007).
    inputs_version: Mapped[int] = mapped_column(BigInteger, server_default="0")
    __table_args__ = (
        CheckConstraint("grade IN (1, 6, 10)", name="round_grade_known"),
        CheckConstraint("status IN ('draft', 'run', 'published')", name="round_status_known"),
    )


class Applicant(Base):
    """Personal data: visible to officers of the round only."""

    __tablename__ = "applicants"
    round_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("admission_rounds.id", ondelete="CASCADE"), primary_key=True
    )
    applicant_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ward_code: Mapped[str | None] = mapped_column(String(16))
    residence_type: Mapped[str | None] = mapped_column(String(16))
    tier: Mapped[int | None] = mapped_column(Integer)
    score: Mapped[float | None] = mapped_column(Double)
    bonus: Mapped[float] = mapped_column(Double, server_default="0")
    choices: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    geom: Mapped[Any | None] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False),
                                             nullable=True)  # grade 10 may omit the home


class Allocation(Base):
    """Where a run placed one applicant of a round (or not), with the reason."""

    __tablename__ = "allocations"
    round_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    applicant_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    school_code: Mapped[str | None] = mapped_column(String(32))
    choice_rank: Mapped[int | None] = mapped_column(Integer)
    distance_m: Mapped[float | None] = mapped_column(Double)
    time_s: Mapped[float | None] = mapped_column(Double)
    reason_vi: Mapped[str] = mapped_column(Text, server_default="")
    reason_en: Mapped[str] = mapped_column(Text, server_default="")
    __table_args__ = (
        ForeignKeyConstraint(
            ["round_id", "applicant_id"],
            ["applicants.round_id", "applicants.applicant_id"],
            ondelete="CASCADE",
        ),
    )


class Catchment(Base):
    """One ward of a school's catchment (địa bàn tuyển sinh) for grade 1 or 6.

    Children living in the ward have residence priority at the school. ``source`` is
    ``derived`` (computed from wards and road times) or ``imported`` (the district's list).
    """

    __tablename__ = "catchments"
    school_code: Mapped[str] = mapped_column(
        String(32), ForeignKey("schools.code", ondelete="CASCADE"), primary_key=True
    )
    ward_code: Mapped[str] = mapped_column(
        String(16), ForeignKey("admin_units.code", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(String(12))
    __table_args__ = (
        CheckConstraint("source IN ('derived', 'imported')", name="catchment_source_known"),
    )


class RoundOfficer(Base):
    """An officer allowed to see and act on one admission round (personal data)."""

    __tablename__ = "round_officers"
    round_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("admission_rounds.id", ondelete="CASCADE"), primary_key=True
    )
    username: Mapped[str] = mapped_column(
        String(64), ForeignKey("users.username", ondelete="CASCADE"), primary_key=True
    )


class RoundCapacity(Base):
    """A school's places in one admission round (chỉ tiêu of the round).

    They override the school's stored entry-grade capacity for that round.
    """

    __tablename__ = "round_capacities"
    round_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("admission_rounds.id", ondelete="CASCADE"), primary_key=True
    )
    school_code: Mapped[str] = mapped_column(
        String(32), ForeignKey("schools.code", ondelete="CASCADE"), primary_key=True
    )
    capacity: Mapped[int] = mapped_column(Integer)
    __table_args__ = (CheckConstraint("capacity >= 0", name="round_capacity_not_negative"),)


class User(Base):
    """A staff account: username, password hash, role, session version, disabled."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    #: Part of every session cookie; bumped on logout, password change and disable, which
    #: revokes the user's sessions on every node.
    session_version: Mapped[int] = mapped_column(Integer, server_default="1")
    disabled: Mapped[bool] = mapped_column(Boolean, server_default=false())
    __table_args__ = (CheckConstraint(f"role IN {ROLES}", name="user_role_known"),)


class LoginFailure(Base):
    """Failed sign-ins per account (``user:NAME``) and per address (``addr:IP``).

    For the throttle with backoff; shared by every worker and node through the database.
    """

    __tablename__ = "login_failures"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RequestKey(Base):
    """A staff form's one-time key, stored in the transaction of the write it asked for.

    A POST resent after its app node died finds its key and does not write twice
    (:mod:`gis_service.request_keys`).
    """

    __tablename__ = "request_keys"
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    #: What the first request wrote (say, the round it created): the answer of a resend.
    target: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AppSetting(Base):
    """Settings an admin changes at run time, such as the basemap in use (``basemap``)."""

    __tablename__ = "app_settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_by: Mapped[str] = mapped_column(String(64), server_default="system")


class DataChange(Base):
    """The version of one map table, bumped by a trigger after every statement writing it.

    The trigger is migration 0006's; caches of tiles and of the finder compare versions to
    stay fresh.
    """

    __tablename__ = "data_changes"
    table_name: Mapped[str] = mapped_column(String(63), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AuditLog(Base):
    """One audited action: when, who, what, on what, and its details."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(Text, server_default="")
    details: Mapped[dict[str, Any]] = mapped_column(server_default="{}")


Index("ix_schools_level", School.level)
Index("ix_admin_units_parent", AdminUnit.parent_code)
Index("ix_road_edges_uv", RoadEdge.basemap, RoadEdge.u, RoadEdge.v)
Index("ix_catchments_ward", Catchment.ward_code)


class EnrolmentForecast(Base):
    """Stored forecasts per ward, level and year (the planners' maps read these)."""

    __tablename__ = "enrolment_forecasts"
    ward_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    level: Mapped[str] = mapped_column(String(20), primary_key=True)
    measure: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    horizon: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(16))
    predicted: Mapped[float] = mapped_column(Double)
    lower: Mapped[float] = mapped_column(Double)
    upper: Mapped[float] = mapped_column(Double)


class CapacityGap(Base):
    """Demand against seats reachable within a travel time, per ward (2SFCA)."""

    __tablename__ = "capacity_gaps"
    ward_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    level: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    threshold_min: Mapped[float] = mapped_column(Double, primary_key=True)
    demand: Mapped[float] = mapped_column(Double)
    seats_within_threshold: Mapped[float] = mapped_column(Double)
    seats_per_child: Mapped[float | None] = mapped_column(Double)
    accessible_seats: Mapped[float] = mapped_column(Double)
    shortfall_seats: Mapped[float] = mapped_column(Double)
    nearest_time_s: Mapped[float | None] = mapped_column(Double)


class ProposedSite(Base):
    """A new-school site chosen by a siting run."""

    __tablename__ = "proposed_sites"
    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, primary_key=True)
    level: Mapped[str] = mapped_column(String(20))
    model: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(16))
    ward_code: Mapped[str | None] = mapped_column(String(16))
    details: Mapped[dict[str, Any]] = mapped_column(server_default="{}")
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=4326, spatial_index=True))


class TransportScenario(Base):
    """A named what-if of the road network, drawn on one basemap (which it never changes)."""

    __tablename__ = "transport_scenarios"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    basemap: Mapped[str] = mapped_column(String(64), ForeignKey("basemaps.name", ondelete="CASCADE"))
    description: Mapped[str] = mapped_column(Text, server_default="")
    created_by: Mapped[str] = mapped_column(String(64), server_default="system")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    __table_args__ = (
        CheckConstraint("name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]*$'", name="scenario_name_plain"),
    )


class TransportScenarioEdit(Base):
    """One edit of a scenario: a new road or bridge, a metro line with stations, a closure."""

    __tablename__ = "transport_scenario_edits"
    scenario: Mapped[str] = mapped_column(
        String(64), ForeignKey("transport_scenarios.name", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(12))
    label: Mapped[str] = mapped_column(Text, server_default="")
    properties: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    geom: Mapped[Any] = mapped_column(Geometry(srid=4326, spatial_index=True))
    stations: Mapped[Any | None] = mapped_column(
        Geometry("MULTIPOINT", srid=4326, spatial_index=True), nullable=True
    )
    __table_args__ = (
        CheckConstraint("kind IN ('road', 'metro', 'closure')", name="scenario_edit_kind_known"),
        CheckConstraint("kind <> 'metro' OR stations IS NOT NULL", name="metro_has_stations"),
    )
