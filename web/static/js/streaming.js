/* Streaming page: the remainder per ward (grade-9 leavers without a public grade-10 place in
   reach) as a choropleth on the OSM basemap; the figures come with the page. */
(function () {
  "use strict";
  var el = document.getElementById("streaming-map");
  if (!el) { return; }
  var map = L.map(el, {maxZoom: 18, minZoom: 9});
  map.fitBounds(edugisBounds(el));
  edugisBasemap(map, el.getAttribute("data-tiles-url"));
  var scale = edugisScale([0, 1, 50, 200], ["#f7f7f7", "#c6dbef", "#6baed6", "#08519c"]);
  var format = new Intl.NumberFormat(el.getAttribute("data-lang") === "en" ? "en" : "vi",
                                     {maximumFractionDigits: 0});

  var data = JSON.parse(el.getAttribute("data-features"));
  var layer = L.geoJSON(data, {
    className: "streaming-ward",
    style: function (f) {
      return {color: "#555", weight: 1, fillOpacity: 0.7, fillColor: scale.colour(f.properties.remainder || 0)};
    },
    onEachFeature: function (f, l) {
      var p = f.properties;
      l.bindTooltip(edugisText(p.name + ": " + el.getAttribute("data-legend") + " " + format.format(p.remainder || 0) +
                               " · " + el.getAttribute("data-leavers") + " " + format.format(p.leavers || 0) +
                               " · " + el.getAttribute("data-public") + " " + format.format(p.public_seats || 0)));
    }
  }).addTo(map);
  el.setAttribute("data-wards", String(data.features.length));
  if (data.features.length) { map.fitBounds(layer.getBounds()); }

  scale.legend(map, el.getAttribute("data-legend"));
})();
