/* Transport scenarios page: the scenario's edits (new roads, metro and stations, closures)
   over the OSM basemap and, after a comparison, the wards coloured by the change of the time
   to the nearest school (before -> after in the tooltip). The data come with the page. */
(function () {
  "use strict";
  var el = document.getElementById("scen-map");
  if (!el) { return; }
  var map = L.map(el, {maxZoom: 18, minZoom: 9});
  map.fitBounds(edugisBounds(el));
  edugisBasemap(map, el.getAttribute("data-tiles-url"));
  var format = new Intl.NumberFormat(el.getAttribute("data-lang") === "en" ? "en" : "vi",
                                     {maximumFractionDigits: 1});
  var scale = edugisScale([-Infinity, -60, -10, -1, 1, 10],
                          ["#1a9850", "#91cf60", "#d9ef8b", "#f7f7f7", "#fc8d59", "#d73027"],
                          ["< −60", "−60…−10", "−10…−1", "±1", "1…10", "> 10"]);

  var wardsText = el.getAttribute("data-wards");
  if (wardsText) {
    var wards = L.geoJSON(JSON.parse(wardsText), {
      className: "scen-ward",
      style: function (f) {
        return {color: "#555", weight: 1, fillOpacity: 0.6, fillColor: scale.colour(f.properties.change_s)};
      },
      onEachFeature: function (f, l) {
        var p = f.properties;
        function minutes(s) { return s === null || s === undefined ? "—" : format.format(s / 60); }
        l.bindTooltip(edugisText(p.name + ": " + el.getAttribute("data-before") + " " +
                                 minutes(p.time_before_s) + " min → " + el.getAttribute("data-after") +
                                 " " + minutes(p.time_after_s) + " min (" +
                                 (p.change_s === null ? "—" : format.format(p.change_s)) + " s)"));
      }
    }).addTo(map);
    el.setAttribute("data-ward-count", String(wards.getLayers().length));
    scale.legend(map, el.getAttribute("data-legend"));
  }

  var editsText = el.getAttribute("data-edits");
  if (editsText) {
    var STYLE = {road: {color: "#0b57d0", weight: 5}, metro: {color: "#8e24aa", weight: 5, dashArray: "8 4"},
                 closure: {color: "#c62828", weight: 4, fillOpacity: 0.2}};
    var edits = L.geoJSON(JSON.parse(editsText), {
      className: "scen-edit",
      style: function (f) { return STYLE[f.properties.kind] || {color: "#333"}; },
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, {radius: 6, color: "#8e24aa", fillColor: "#fff", fillOpacity: 1, weight: 3});
      },
      onEachFeature: function (f, l) {
        l.bindTooltip(edugisText((f.properties.label || f.properties.kind) + " (" + f.properties.kind + ")"));
      }
    }).addTo(map);
    el.setAttribute("data-edit-count", String(edits.getLayers().length));
    if (edits.getLayers().length && !wardsText) { map.fitBounds(edits.getBounds().pad(0.5)); }
  }
})();
