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
  /* Classes of a choropleth: a value's colour (the class whose lower break it reaches; null
     is grey) and a legend. Labels default to "0", "1–49", "50–199", "200+" for counts. */
  window.edugisScale = function (breaks, colours, labels) {
    labels = labels || breaks.map(function (b, i) {
      return i === 0 ? "0" : b + (i + 1 < breaks.length ? "–" + (breaks[i + 1] - 1) : "+");
    });
    return {
      colour: function (value) {
        if (value === null || value === undefined) { return "#cccccc"; }
        var i = breaks.length - 1;
        while (i > 0 && value < breaks[i]) { i -= 1; }
        return colours[i];
      },
      legend: function (map, title) {
        var control = L.control({position: "bottomright"});
        control.onAdd = function () {
          var box = L.DomUtil.create("div", "legend");
          var head = document.createElement("strong");
          head.textContent = title;
          box.appendChild(head);
          colours.forEach(function (c, i) {
            var row = document.createElement("div");
            var swatch = document.createElement("span");
            swatch.className = "swatch";
            swatch.style.background = c;
            row.appendChild(swatch);
            row.appendChild(document.createTextNode(" " + labels[i]));
            box.appendChild(row);
          });
          return box;
        };
        control.addTo(map);
      }
    };
  };
})();
