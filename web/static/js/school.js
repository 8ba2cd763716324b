/* A school's location on the base map. */
(function () {
  "use strict";
  var el = document.getElementById("school-map");
  var at = [parseFloat(el.getAttribute("data-lat")), parseFloat(el.getAttribute("data-lon"))];
  var map = L.map(el, {maxZoom: 19}).setView(at, 16);
  edugisBasemap(map, el.getAttribute("data-tiles-url"));
  L.marker(at, {title: el.getAttribute("data-name"), alt: el.getAttribute("data-name")}).addTo(map);
})();
