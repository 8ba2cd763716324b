"""Disk cache of compiled graphs, keyed by basemap version, mode rules and component.

A second start loads the CSR arrays with one ``np.load`` instead of recompiling the
layer. The key contains :attr:`RoadLayer.version`, so a changed basemap never reuses a
stale graph; files of old versions are simply left unused.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gis_service.settings import get_settings
from routing.graph import Component, ModeGraph, compile_graph
from routing.speeds import ModeProfile, profile_for

if TYPE_CHECKING:
    from basemaps.road_layer import RoadLayer

_FORMAT = "2"


def default_cache_dir() -> Path:
    """Return the one folder of compiled graphs, shared by the web finder and the services.

    It is :attr:`Settings.graph_cache_path <gis_service.settings.Settings.graph_cache_path>`
    (``EDUGIS_ROUTING_CACHE``, default ``<data_dir>/cache/graphs``).
    """
    return get_settings().graph_cache_path


def cache_path(cache_dir: Path, version: str, profile: ModeProfile, component: str) -> Path:
    """File that holds the graph of ``version`` compiled with ``profile``."""
    return cache_dir / f"{version}-{profile.name}-{profile.digest()}-{component}-v{_FORMAT}.npz"


def build_graph(
    layer: RoadLayer,
    mode: str | ModeProfile = "motorbike",
    *,
    component: Component = "largest",
    cache_dir: Path | str | None = None,
    use_cache: bool = True,
) -> ModeGraph:
    """Return the graph of ``layer`` for ``mode``, from the disk cache when possible.

    Parameters
    ----------
    layer
        Road layer; its ``version`` keys the cache.
    mode
        ``walk``, ``bicycle``, ``motorbike`` (default), ``car`` or a custom profile.
    component
        See :func:`routing.graph.compile_graph`.
    cache_dir
        Cache folder (default :func:`default_cache_dir`).
    use_cache
        ``False`` compiles without reading or writing the cache.

    Returns
    -------
    ModeGraph
        ``loaded_from`` names the cache file when the graph came from it.
    """
    profile = profile_for(mode)
    if not use_cache:
        return compile_graph(layer, profile, component)
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = cache_path(folder, layer.version, profile, component)
    if path.exists():
        return _load(path, profile)
    graph = compile_graph(layer, profile, component)
    _save(graph, path)
    return graph


def _save(graph: ModeGraph, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "mode": graph.mode, "version": graph.version, "component": graph.component,
        "metric_epsg": str(graph.metric_epsg), "profile": graph.profile.digest(),
    }
    # Write then rename, so a reader never sees a half-written file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            arrays: dict[str, Any] = {"__meta__": np.array(json.dumps(meta)),
                                      **graph.array_fields()}
            np.savez(handle, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _load(path: Path, profile: ModeProfile) -> ModeGraph:
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["__meta__"]))
        arrays = {name: data[name] for name in data.files if name != "__meta__"}
    if meta["profile"] != profile.digest():
        raise ValueError(f"cache file {path} was built with other mode rules")
    meta["loaded_from"] = str(path)
    return ModeGraph.from_arrays(meta, profile, arrays)
