/* A school's location on the base map, with its catchment outline when it has one. */
(function () {
  "use strict";
  var el = document.getElementById("school-map");
  var at = [parseFloat(el.getAttribute("data-lat")), parseFloat(el.getAttribute("data-lon"))];
  var map = L.map(el, {maxZoom: 19}).setView(at, 16);
  edugisBasemap(map, el.getAttribute("data-tiles-url"));
  var catchment = el.getAttribute("data-catchment");
  if (catchment) {
    var outline = L.geoJSON(JSON.parse(catchment), {interactive: false,
      style: {color: "#7b2cbf", weight: 2, fillOpacity: 0.08, dashArray: "4 4"}}).addTo(map);
    map.fitBounds(outline.getBounds().extend(at), {padding: [12, 12]});
  }
  L.marker(at, {title: el.getAttribute("data-name"), alt: el.getAttribute("data-name")}).addTo(map);
})();
