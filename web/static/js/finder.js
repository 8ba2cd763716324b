/* Parents' finder: address search, draggable home pin, nearest schools by road. */
(function () {
  "use strict";
  var el = document.getElementById("finder-map");
  var lang = document.body.getAttribute("data-lang");
  var text = function (k) { return el.getAttribute("data-text-" + k); };
  var map = L.map(el, {maxZoom: 19});
  map.fitBounds(edugisBounds(el));
  edugisBasemap(map, el.getAttribute("data-tiles-url"));
  var pin = null;
  var isoLayer = L.layerGroup().addTo(map);
  var schoolLayer = L.layerGroup().addTo(map);
  var ISO_COLOURS = {"5": "#2b8a3e", "10": "#e8a33d", "15": "#d9480f"};
  var places = document.getElementById("places");
  var results = document.getElementById("results");

  function item(parent, label) {
    var li = document.createElement("li");
    li.textContent = label;
    parent.appendChild(li);
    return li;
  }

  function rank() {
    if (!pin) { return; }
    var at = pin.getLatLng();
    var params = new URLSearchParams({lon: at.lng.toFixed(6), lat: at.lat.toFixed(6),
      level: document.getElementById("level").value, mode: document.getElementById("mode").value, k: "5"});
    fetch("/api/nearest?" + params.toString())
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (data) {
        results.textContent = "";
        schoolLayer.clearLayers();
        document.getElementById("results-title").textContent = data.method === "road" ? text("road") : text("crow");
        data.schools.forEach(function (s) {
          var li = item(results, "");
          var a = document.createElement("a");
          a.href = "/schools/" + encodeURIComponent(s.code) + (lang === "en" ? "?lang=en" : "");
          a.textContent = s.name;
          li.appendChild(a);
          var km = (s.distance_m / 1000).toFixed(2) + " km";
          var detail = " — " + text("distance") + ": " + km;
          if (s.time_s !== null) { detail += ", " + text("time") + ": " + Math.max(1, Math.round(s.time_s / 60)) + " " + text("minutes"); }
          li.appendChild(document.createTextNode(detail));
          L.circleMarker([s.lat, s.lon], {radius: 7, color: "#1b6ac9"}).bindTooltip(s.rank + ". " + s.name).addTo(schoolLayer);
        });
        results.setAttribute("data-method", data.method);
      });
  }

  function reach() {
    var at = pin.getLatLng();
    var params = new URLSearchParams({lon: at.lng.toFixed(6), lat: at.lat.toFixed(6),
      mode: document.getElementById("mode").value, minutes: "5,10,15"});
    fetch("/api/isochrone?" + params.toString())
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        isoLayer.clearLayers();
        if (!data) { return; }
        L.geoJSON(data, {interactive: false, style: function (f) {
          var colour = ISO_COLOURS[String(f.properties.minutes)] || "#555";
          return {color: colour, weight: 1, fillColor: colour, fillOpacity: 0.12};
        }}).addTo(isoLayer);
        el.setAttribute("data-isochrones", String(data.features.length));
      });
  }

  function place(lat, lon) {
    if (pin) { pin.setLatLng([lat, lon]); } else {
      pin = L.marker([lat, lon], {draggable: true, title: "home", alt: "home", autoPan: true}).addTo(map);
      pin.on("dragend", function () { rank(); reach(); });
    }
    map.setView([lat, lon], 15);
    rank();
    reach();
  }

  document.getElementById("finder-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var q = document.getElementById("address").value;
    fetch("/api/geocode?" + new URLSearchParams({q: q}).toString())
      .then(function (r) { return r.json(); })
      .then(function (data) {
        places.textContent = "";
        (data.places || []).forEach(function (p, i) {
          var li = item(places, "");
          var b = document.createElement("button");
          b.type = "button";
          b.textContent = p.label;
          b.addEventListener("click", function () { place(p.lat, p.lon); });
          li.appendChild(b);
          if (i === 0) { place(p.lat, p.lon); }
        });
        if (!data.places || !data.places.length) { item(places, "—"); }
      });
  });
  document.getElementById("level").addEventListener("change", rank);
  document.getElementById("mode").addEventListener("change", function () { rank(); if (pin) { reach(); } });
  map.on("click", function (e) { place(e.latlng.lat, e.latlng.lng); });
})();
