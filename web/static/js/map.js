/* Public school map: clustered markers from /api/schools, filters without a page reload. */
(function () {
  "use strict";
  var el = document.getElementById("map");
  var form = document.getElementById("filters");
  var lang = document.body.getAttribute("data-lang");
  var map = L.map(el, {maxZoom: 19, minZoom: 9});
  map.fitBounds(edugisBounds(el));
  edugisBasemap(map, el.getAttribute("data-tiles-url"));
  var cluster = L.markerClusterGroup({showCoverageOnHover: false});
  map.addLayer(cluster);

  function popup(p) {
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.href = "/schools/" + encodeURIComponent(p.code) + (lang === "en" ? "?lang=en" : "");
    link.textContent = p.name;
    link.className = "popup-link";
    box.appendChild(link);
    return box;
  }

  function query() {
    var params = new URLSearchParams(new FormData(form));
    Array.from(params.keys()).forEach(function (k) { if (!params.get(k)) { params.delete(k); } });
    return params;
  }

  function load() {
    var params = query();
    return fetch(el.getAttribute("data-schools-url") + "?" + params.toString())
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (data) {
        cluster.clearLayers();
        var markers = data.features.map(function (f) {
          var c = f.geometry.coordinates;
          var m = L.marker([c[1], c[0]], {title: f.properties.name, alt: f.properties.name});
          m.bindPopup(popup(f.properties));
          return m;
        });
        cluster.addLayers(markers);
        document.getElementById("count").textContent = String(data.features.length);
        document.getElementById("list-link").href = "/schools?" + params.toString();
        el.setAttribute("data-loaded", String(data.features.length));
      });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var params = query();
    if (lang === "en") { params.set("lang", "en"); }
    history.replaceState(null, "", "/?" + params.toString());
    load();
  });
  form.querySelectorAll("select").forEach(function (s) {
    s.addEventListener("change", function () { form.requestSubmit(); });
  });
  load();
})();
