/* The features of an OGC API page on the base map, each with its id as tooltip. */
(function () {
  "use strict";
  var el = document.getElementById("ogc-map");
  var data = JSON.parse(document.getElementById("ogc-features").textContent);
  var map = L.map(el, {maxZoom: 19}).setView([10.78, 106.70], 12);
  edugisBasemap(map, el.getAttribute("data-tiles-url"));
  var shown = L.geoJSON(data, {
    style: {color: "#1d4ed8", weight: 2, fillOpacity: 0.1},
    onEachFeature: function (feature, layer) { layer.bindTooltip(edugisText(String(feature.id))); }
  }).addTo(map);
  if (shown.getLayers().length) {
    map.fitBounds(shown.getBounds(), {padding: [12, 12], maxZoom: 17});
  }
})();
