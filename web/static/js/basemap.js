/* The app's own base map: OGC API - Tiles vector tiles (roads, wards) drawn by VectorGrid. */
(function () {
  "use strict";
  var ROAD_WIDTH = {motorway: 3.5, trunk: 3, primary: 3, secondary: 2.5, tertiary: 2, residential: 1, service: 0.7};
  window.edugisBasemap = function (map, url) {
    var layer = L.vectorGrid.protobuf(url, {
      rendererFactory: L.canvas.tile,
      maxNativeZoom: 18,
      attribution: "© OpenStreetMap contributors · edugis",
      vectorTileLayerStyles: {
        wards: {weight: 1, color: "#8c7ae6", fill: true, fillColor: "#f4f1ff", fillOpacity: 0.5, opacity: 0.7},
        roads: function (p) {
          var major = p.highway === "motorway" || p.highway === "primary" || p.highway === "secondary";
          return {weight: ROAD_WIDTH[p.highway] || 1, color: major ? "#e8a33d" : "#9aa0a6", opacity: 0.9};
        },
        schools: []
      }
    });
    layer.addTo(map);
    map.attributionControl.setPrefix("Leaflet");
    return layer;
  };
  /* Leaflet writes string tooltips as HTML: names from the data go in as a text node. */
  window.edugisText = function (value) {
    var span = document.createElement("span");
    span.textContent = value;
    return span;
  };
  window.edugisBounds = function (el) {
    return L.latLngBounds(JSON.parse(el.getAttribute("data-bounds")));
  };
})();
