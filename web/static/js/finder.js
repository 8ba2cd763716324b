/* Parents' finder: address search, draggable home pin, nearest schools by road, the route to a
   school, the catchment the home falls in, grade-10 cut-off outlook, and a share/print link. */
(function () {
  "use strict";
  var el = document.getElementById("finder-map");
  var lang = document.body.getAttribute("data-lang");
  var text = function (k) { return el.getAttribute("data-text-" + k); };
  var map = L.map(el, {maxZoom: 19});
  map.fitBounds(edugisBounds(el));
  edugisBasemap(map, el.getAttribute("data-tiles-url"));
  var pin = null;
  var rankings = 0;
  var generation = 0;  /* answers to an older pin or choice are dropped */
  var reaches = 0;
  var isoLayer = L.layerGroup().addTo(map);
  var catchmentLayer = L.layerGroup().addTo(map);
  var routeLayer = L.layerGroup().addTo(map);
  var schoolLayer = L.layerGroup().addTo(map);
  var ISO_COLOURS = {"10": "#2b8a3e", "15": "#e8a33d", "20": "#d9480f"};
  var CATCHMENT_LEVELS = {"primary": true, "lower_secondary": true};
  var places = document.getElementById("places");
  var results = document.getElementById("results");
  var levelInput = document.getElementById("level");
  var modeInput = document.getElementById("mode");
  var scoreInput = document.getElementById("score");
  var shareLink = document.getElementById("share-link");
  var compareLink = document.getElementById("compare-link");
  var MAX_COMPARED = 4;
  var picked = [];  /* codes ticked for comparison, in the order ticked */

  function item(parent, label) {
    var li = document.createElement("li");
    li.textContent = label;
    parent.appendChild(li);
    return li;
  }

  function getJSON(url) {
    return fetch(url).then(function (r) { return r.ok ? r.json() : null; });
  }

  function minutes(seconds) { return Math.max(1, Math.round(seconds / 60)) + " " + text("minutes"); }

  function pinParams(extra) {
    var at = pin.getLatLng();
    var params = new URLSearchParams({lon: at.lng.toFixed(6), lat: at.lat.toFixed(6)});
    Object.keys(extra).forEach(function (k) { params.set(k, extra[k]); });
    return params;
  }

  /* Keep the page's address in step with the pin and choices, so it can be shared or printed. */
  function remember() {
    var params = pinParams({level: levelInput.value, mode: modeInput.value});
    if (scoreInput.value && levelInput.value === "upper_secondary") { params.set("score", scoreInput.value); }
    if (lang === "en") { params.set("lang", "en"); }
    var url = "/finder?" + params.toString();
    window.history.replaceState(null, "", url);
    shareLink.href = url;
  }

  /* The comparison page of the ticked schools, from this home and mode (and score). */
  function updateCompare() {
    var params = pinParams({schools: picked.join(","), mode: modeInput.value});
    if (scoreInput.value && levelInput.value === "upper_secondary") { params.set("score", scoreInput.value); }
    if (lang === "en") { params.set("lang", "en"); }
    compareLink.href = "/compare?" + params.toString();
    compareLink.hidden = picked.length < 2;
    var full = picked.length >= MAX_COMPARED;
    Array.prototype.forEach.call(results.querySelectorAll("input.compare"), function (box) {
      box.disabled = full && !box.checked;
    });
  }

  function compareBox(li, school) {
    var label = document.createElement("label");
    label.className = "compare";
    var box = document.createElement("input");
    box.type = "checkbox";
    box.className = "compare";
    box.value = school.code;
    box.addEventListener("change", function () {
      picked = picked.filter(function (c) { return c !== school.code; });
      if (box.checked) { picked.push(school.code); }
      updateCompare();
    });
    label.appendChild(box);
    label.appendChild(document.createTextNode(" " + text("compare")));
    li.appendChild(label);
  }

  function drawRoute(school, asked) {
    var params = pinParams({school: school.code, mode: modeInput.value});
    getJSON("/api/route?" + params.toString()).then(function (feature) {
      if (asked !== generation) { return; }
      routeLayer.clearLayers();
      var summary = document.getElementById("route-summary");
      if (!feature) { summary.textContent = ""; return; }
      L.geoJSON(feature, {interactive: false, style: {color: "#1b6ac9", weight: 5, opacity: 0.8}}).addTo(routeLayer);
      summary.textContent = text("route") + " → " + school.name + ": " +
        (feature.properties.distance_m / 1000).toFixed(2) + " km, " + minutes(feature.properties.time_s);
      el.setAttribute("data-route", school.code);
    });
  }

  function showCatchment(asked) {
    var box = document.getElementById("catchment");
    catchmentLayer.clearLayers();
    box.textContent = "";
    if (!CATCHMENT_LEVELS[levelInput.value]) { return; }
    getJSON("/api/catchment?" + pinParams({level: levelInput.value}).toString()).then(function (data) {
      if (!data || asked !== generation) { return; }
      if (!data.features.length) { box.textContent = text("catchment-none"); return; }
      var names = data.features.map(function (f) { return f.properties.school_name; });
      box.textContent = text("catchment") + " (" + data.ward.name + "): " + names.join(", ");
      L.geoJSON(data, {interactive: false, style: {color: "#7b2cbf", weight: 2, fillOpacity: 0.06, dashArray: "4 4"}})
        .addTo(catchmentLayer);
      el.setAttribute("data-catchment-schools", String(data.features.length));
    });
  }

  function showOutlook(schools, asked) {
    if (levelInput.value !== "upper_secondary" || !schools.length) { return; }
    var params = new URLSearchParams({schools: schools.map(function (s) { return s.code; }).join(",")});
    if (scoreInput.value) { params.set("score", scoreInput.value); }
    getJSON("/api/cutoff-outlook?" + params.toString()).then(function (data) {
      if (!data || asked !== generation) { return; }
      data.schools.forEach(function (s, i) {
        var li = results.children[i];
        if (!li) { return; }
        var parts = s.history.map(function (h) { return h.year + ": " + h.cutoff; });
        if (s.forecast) {
          var f = s.forecast, pct = function (x) { return Math.round(x * 100) + " %"; };
          parts.push(text("forecast") + " " + f.year + ": " + f.lower + "–" + f.upper + " (" + pct(f.coverage) + "; " +
            (f.backtest_coverage === null ? text("not-backtested")
              : text("backtest") + " " + pct(f.backtest_coverage) + ", n = " + f.backtest_n) + ")");
        }
        if (s.chance) { parts.push(lang === "en" ? s.chance.label_en : s.chance.label_vi); }
        var line = document.createElement("span");
        line.className = "outlook";
        line.textContent = "NV1 " + parts.join("; ");
        li.appendChild(line);
      });
      results.setAttribute("data-outlook", String(data.schools.length));
    });
  }

  function rank() {
    if (!pin) { return; }
    remember();
    generation += 1;
    var asked = generation;
    showCatchment(asked);
    var params = pinParams({level: levelInput.value, mode: modeInput.value, k: "5"});
    fetch("/api/nearest?" + params.toString())
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (data) {
        if (asked !== generation) { return; }
        results.textContent = "";
        picked = [];
        schoolLayer.clearLayers();
        routeLayer.clearLayers();
        document.getElementById("results-title").textContent = data.method === "road" ? text("road") : text("crow");
        data.schools.forEach(function (s) {
          var li = item(results, "");
          var a = document.createElement("a");
          a.href = "/schools/" + encodeURIComponent(s.code) + (lang === "en" ? "?lang=en" : "");
          a.textContent = s.name;
          li.appendChild(a);
          var km = (s.distance_m / 1000).toFixed(2) + " km";
          var detail = " — " + text("distance") + ": " + km;
          if (s.time_s !== null) { detail += ", " + text("time") + ": " + minutes(s.time_s); }
          li.appendChild(document.createTextNode(detail));
          if (data.method === "road") {
            var b = document.createElement("button");
            b.type = "button";
            b.className = "route";
            b.textContent = text("show-route");
            b.addEventListener("click", function () { drawRoute(s, generation); });
            li.appendChild(b);
          }
          compareBox(li, s);
          L.circleMarker([s.lat, s.lon], {radius: 7, color: "#1b6ac9"}).bindTooltip(edugisText(s.rank + ". " + s.name)).addTo(schoolLayer);
        });
        updateCompare();
        results.setAttribute("data-method", data.method);
        rankings += 1;
        el.setAttribute("data-rankings", String(rankings));
        if (data.method === "road" && data.schools.length) { drawRoute(data.schools[0], asked); }
        showOutlook(data.schools, asked);
      });
  }

  function reach() {
    var params = pinParams({mode: modeInput.value, minutes: "10,15,20"});
    getJSON("/api/isochrone?" + params.toString()).then(function (data) {
      isoLayer.clearLayers();
      if (!data) { return; }
      L.geoJSON(data, {interactive: false, style: function (f) {
        var colour = ISO_COLOURS[String(f.properties.minutes)] || "#555";
        return {color: colour, weight: 1, fillColor: colour, fillOpacity: 0.12};
      }}).addTo(isoLayer);
      el.setAttribute("data-isochrones", String(data.features.length));
      reaches += 1;
      el.setAttribute("data-reaches", String(reaches));
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

  function showScore() {
    document.getElementById("score-label").hidden = levelInput.value !== "upper_secondary";
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
          b.textContent = p.detail ? p.label + " — " + p.detail : p.label;
          b.addEventListener("click", function () { place(p.lat, p.lon); });
          li.appendChild(b);
          if (i === 0) { place(p.lat, p.lon); }
        });
        if (!data.places || !data.places.length) { item(places, "—"); }
      });
  });
  levelInput.addEventListener("change", function () { showScore(); rank(); });
  scoreInput.addEventListener("change", rank);
  modeInput.addEventListener("change", function () { rank(); if (pin) { reach(); } });
  document.getElementById("print").addEventListener("click", function () { window.print(); });
  map.on("click", function (e) { place(e.latlng.lat, e.latlng.lng); });

  /* A shared link (?lon=&lat=&level=&mode=&score=) opens with the same pin and choices. */
  var shared = new URLSearchParams(window.location.search);
  ["level", "mode", "score"].forEach(function (k) {
    var input = {level: levelInput, mode: modeInput, score: scoreInput}[k];
    var known = k === "score" || Array.prototype.some.call(input.options, function (o) { return o.value === shared.get(k); });
    if (shared.get(k) && known) {
      input.value = shared.get(k);
    }
  });
  showScore();
  var lon = parseFloat(shared.get("lon")), lat = parseFloat(shared.get("lat"));
  if (isFinite(lon) && isFinite(lat)) { place(lat, lon); }
})();
