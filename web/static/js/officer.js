/* Officers' results map: each school as a circle sized by its places and coloured by how full
   the stored run left it, and the homes of applicants left unplaced. */
(function () {
  "use strict";
  var el = document.getElementById("results-map");
  if (!el) { return; }
  var text = function (k) { return el.getAttribute("data-text-" + k); };
  var map = L.map(el, {maxZoom: 18});
  map.fitBounds(edugisBounds(el));
  edugisBasemap(map, el.getAttribute("data-tiles-url"));

  function colour(placed, places) {
    if (!places) { return "#888"; }
    var fill = placed / places;
    return fill >= 1 ? "#c92a2a" : fill >= 0.8 ? "#e8a33d" : "#2b8a3e";
  }

  var legend = L.control({position: "bottomright"});
  legend.onAdd = function () {
    var box = L.DomUtil.create("div", "legend");
    [["#c92a2a", text("full")], ["#e8a33d", "≥ 80 %"], ["#2b8a3e", text("room")], ["#555", text("unplaced")]]
      .forEach(function (pair) {
        var row = document.createElement("div");
        var swatch = document.createElement("span");
        swatch.className = "swatch";
        swatch.style.background = pair[0];
        row.appendChild(swatch);
        row.appendChild(document.createTextNode(" " + pair[1]));
        box.appendChild(row);
      });
    return box;
  };
  legend.addTo(map);

  fetch(el.getAttribute("data-url"), {credentials: "same-origin"})
    .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
    .then(function (data) {
      var schools = 0, unplaced = 0;
      data.features.forEach(function (f) {
        var at = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
        var p = f.properties;
        if (p.kind === "school") {
          schools += 1;
          L.circleMarker(at, {radius: 4 + Math.sqrt(p.places || 0) / 2, color: colour(p.placed, p.places),
                              weight: 2, fillOpacity: 0.5})
            .bindTooltip(edugisText(p.code + " " + p.name + " — " + text("placed") + " " + p.placed +
                                  " / " + text("places") + " " + p.places))
            .addTo(map);
        } else {
          unplaced += 1;
          L.circleMarker(at, {radius: 2, color: "#555", weight: 1, fillOpacity: 0.6, interactive: false}).addTo(map);
        }
      });
      el.setAttribute("data-schools", String(schools));
      el.setAttribute("data-unplaced", String(unplaced));
    });
})();
