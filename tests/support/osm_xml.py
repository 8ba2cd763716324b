"""Write small OSM XML files of boundary relations for tests (squares given by corners)."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr


class OsmXml:
    """Collect nodes, ways and boundary relations, then write them as one OSM XML file."""

    def __init__(self) -> None:
        self.nodes: list[str] = []
        self.ways: list[str] = []
        self.relations: list[str] = []
        self._next = 1

    def _id(self) -> int:
        self._next += 1
        return self._next

    def ring(self, lon0: float, lat0: float, lon1: float, lat1: float, closed: bool = True) -> int:
        """Add a rectangle as one way (left open when ``closed`` is false); return its id."""
        ids = []
        for lon, lat in ((lon0, lat0), (lon1, lat0), (lon1, lat1), (lon0, lat1)):
            node = self._id()
            self.nodes.append(f'<node id="{node}" version="1" lat="{lat}" lon="{lon}"/>')
            ids.append(node)
        refs = [*ids, ids[0]] if closed else ids
        way = self._id()
        nds = "".join(f'<nd ref="{n}"/>' for n in refs)
        self.ways.append(f'<way id="{way}" version="1">{nds}</way>')
        return way

    def boundary(self, osm_id: int, name: str, admin_level: int, outer: list[int],
                 inner: tuple[int, ...] = (), missing: tuple[int, ...] = (),
                 tags: dict[str, str] | None = None) -> None:
        """Add a boundary relation of these ways (``missing`` ways are named but not in the file)."""
        members = [f'<member type="way" ref="{w}" role="outer"/>' for w in [*outer, *missing]]
        members += [f'<member type="way" ref="{w}" role="inner"/>' for w in inner]
        all_tags = {"type": "boundary", "boundary": "administrative",
                    "admin_level": str(admin_level), "name": name, **(tags or {})}
        tag_xml = "".join(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in all_tags.items())
        self.relations.append(
            f'<relation id="{osm_id}" version="1">{"".join(members)}{tag_xml}</relation>')

    def write(self, path: Path) -> Path:
        """Write the file and return its path."""
        body = "\n".join(self.nodes + self.ways + self.relations)
        path.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n{body}\n</osm>\n',
                        encoding="utf-8")
        return path
