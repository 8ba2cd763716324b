/* Planner's map: the capacity-gap choropleth (OGC capacity-gaps items) and proposed sites. */
(function () {
  "use strict";
  var el = document.getElementById("planner-map");
  if (!el) { return; }
  var map = L.map(el, {maxZoom: 18, minZoom: 9});
  map.fitBounds(edugisBounds(el));
  edugisBasemap(map, el.getAttribute("data-tiles-url"));
  // sites above the wards whichever answer arrives first
  map.createPane("sites").style.zIndex = "650";
  var BREAKS = [0, 1, 50, 200];
  var COLOURS = ["#f7f7f7", "#fdcc8a", "#fc8d59", "#d7301f"];

  function colour(shortfall) {
    var i = BREAKS.length - 1;
    while (i > 0 && shortfall < BREAKS[i]) { i -= 1; }
    return COLOURS[i];
  }

  function getJson(url) {
    return fetch(url, {credentials: "same-origin"}).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status + " " + url); }
      return r.json();
    });
  }

  function legend(title) {
    var control = L.control({position: "bottomright"});
    control.onAdd = function () {
      var box = L.DomUtil.create("div", "legend");
      var head = document.createElement("strong");
      head.textContent = title;
      box.appendChild(head);
      BREAKS.forEach(function (b, i) {
        var row = document.createElement("div");
        var swatch = document.createElement("span");
        swatch.className = "swatch";
        swatch.style.background = COLOURS[i];
        row.appendChild(swatch);
        row.appendChild(document.createTextNode(
          i === 0 ? " 0" : " " + b + (i + 1 < BREAKS.length ? "–" + (BREAKS[i + 1] - 1) : "+")));
        box.appendChild(row);
      });
      return box;
    };
    control.addTo(map);
  }

  var gapsUrl = el.getAttribute("data-gaps-url");
  if (gapsUrl) {
    getJson(gapsUrl).then(function (data) {
      var layer = L.geoJSON(data, {
        className: "gap-ward",
        style: function (f) {
          return {color: "#555", weight: 1, fillOpacity: 0.7, fillColor: colour(f.properties.shortfall_seats)};
        },
        onEachFeature: function (f, l) {
          var p = f.properties;
          l.bindTooltip(edugisText(p.code + " " + p.name + ": " + Math.round(p.shortfall_seats) + " / " +
                                   Math.round(p.demand)));
        }
      }).addTo(map);
      el.setAttribute("data-gap-wards", String(data.features.length));
      legend(el.getAttribute("data-legend"));
      if (data.features.length) { map.fitBounds(layer.getBounds()); }
    }).catch(function (e) { console.error(e); });
  }
  var sitesUrl = el.getAttribute("data-sites-url");
  if (sitesUrl) {
    getJson(sitesUrl).then(function (data) {
      L.geoJSON(data, {
        pointToLayer: function (f, latlng) {
          return L.circleMarker(latlng, {radius: 9, color: "#08306b", weight: 2, fillColor: "#4292c6",
                                         fillOpacity: 0.9, className: "proposed-site",
                                         pane: "sites"});
        },
        onEachFeature: function (f, l) {
          l.bindTooltip(edugisText("#" + f.properties.rank + " " + (f.properties.ward_name || "")));
        }
      }).addTo(map);
      el.setAttribute("data-sites", String(data.features.length));
    }).catch(function (e) { console.error(e); });
  }
})();
