/* Public school map: clustered markers from /api/schools, filters without a page reload.
   The map zooms to the filtered schools (the whole city when none match); the top menu's
   map and list links, the list link and the language link keep the filters. */
(function () {
  "use strict";
  var el = document.getElementById("map");
  var form = document.getElementById("filters");
  var lang = document.body.getAttribute("data-lang");
  var map = L.map(el, {maxZoom: 19, minZoom: 9});
  var city = L.latLngBounds(JSON.parse(el.getAttribute("data-city-bounds")));
  var generation = 0;  /* an answer to older filters is dropped */
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

  function fit(markers) {
    var bounds = markers.length ? L.latLngBounds(markers.map(function (m) { return m.getLatLng(); }))
      : city;
    map.fitBounds(bounds, {padding: [24, 24], maxZoom: 16, animate: false});
    var view = map.getBounds();
    el.setAttribute("data-view", [view.getSouth(), view.getWest(), view.getNorth(),
      view.getEast()].join(","));
  }

  function keepFilters(params) {
    var q = params.toString();
    var nav = document.getElementById("nav-map");
    var list = document.getElementById("nav-list");
    if (nav) { nav.href = "/" + (q ? "?" + q : ""); }
    if (list) { list.href = "/schools" + (q ? "?" + q : ""); }
    document.getElementById("list-link").href = "/schools?" + q;
    var other = document.querySelector("a.lang");
    if (other) {
      var switched = new URLSearchParams(params);
      switched.set("lang", other.getAttribute("hreflang"));
      other.href = "?" + switched.toString();
    }
  }

  function load() {
    var params = query();
    var mine = ++generation;
    return fetch(el.getAttribute("data-schools-url") + "?" + params.toString())
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (data) {
        if (mine !== generation) { return; }
        cluster.clearLayers();
        var markers = data.features.map(function (f) {
          var c = f.geometry.coordinates;
          var m = L.marker([c[1], c[0]], {title: f.properties.name, alt: f.properties.name});
          m.bindPopup(popup(f.properties));
          return m;
        });
        cluster.addLayers(markers);
        fit(markers);
        document.getElementById("count").textContent = String(data.features.length);
        keepFilters(params);
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
