/* Parents' finder: address search, draggable home pin, nearest schools by road (public/private
   filter, more on request), the school the home is zoned for, the route to a school, the areas
   reachable in 10/15/20 minutes, grade-10 cut-off outlook, and a share/print link.

   Every kind of request (ranking, isochrones, route, outlook, address search) has its own
   counter: an answer is drawn only when it belongs to the latest request of its kind, so a late
   answer (motorbike isochrones after walk was chosen) never overwrites a newer one. */
(function () {
  "use strict";
  var el = document.getElementById("finder-map");
  var lang = document.body.getAttribute("data-lang");
  var text = function (k) { return el.getAttribute("data-text-" + k); };
  var $ = function (id) { return document.getElementById(id); };
  var map = L.map(el, {maxZoom: 19});
  map.fitBounds(edugisBounds(el));
  edugisBasemap(map, el.getAttribute("data-tiles-url"));
  var pin = null;
  var rankings = 0;
  var reaches = 0;
  var latest = {rank: 0, reach: 0, route: 0, outlook: 0, places: 0, zoned: 0};
  var busy = {rank: false, reach: false};
  var isoLayer = L.layerGroup().addTo(map);
  var catchmentLayer = L.layerGroup().addTo(map);
  var routeLayer = L.layerGroup().addTo(map);
  var schoolLayer = L.layerGroup().addTo(map);
  var ISO_COLOURS = {"10": "#2b8a3e", "15": "#e8a33d", "20": "#d9480f"};
  var CATCHMENT_LEVELS = {"primary": true, "lower_secondary": true};
  var PAGE = 5;      /* results shown at first, and added by "show more" */
  var FETCHED = 20;  /* results asked of the server (its most): "show more" needs no request */
  var MAX_SCORE = 30;
  var places = $("places");
  var results = $("results");
  var zonedList = $("zoned");
  var levelInput = $("level");
  var modeInput = $("mode");
  var ownershipInput = $("ownership");
  var scoreInput = $("score");
  var shareLink = $("share-link");
  var compareLink = $("compare-link");
  var moreButton = $("more");
  var MAX_COMPARED = 4;
  var picked = [];   /* codes ticked for comparison, in the order ticked */
  var ranking = null;  /* the latest answer: {method, schools, zoned: [{code, name, lon, lat}]} */
  var shown = PAGE;

  function next(kind) { latest[kind] += 1; return latest[kind]; }
  function stale(kind, token) { return token !== latest[kind]; }

  function item(parent, label) {
    var li = document.createElement("li");
    li.textContent = label;
    parent.appendChild(li);
    return li;
  }

  function getJSON(url) {
    return fetch(url).then(function (r) { return r.ok ? r.json() : null; });
  }

  /* What is loading, said in words (role=status) and as aria-busy on what it will fill. */
  function setBusy(kind, on) {
    busy[kind] = on;
    results.setAttribute("aria-busy", String(busy.rank));
    el.setAttribute("aria-busy", String(busy.reach));
    $("finder-status").textContent = busy.rank ? text("loading-schools") : busy.reach ? text("loading-reach") : "";
  }

  function minutes(seconds) { return Math.max(1, Math.round(seconds / 60)) + " " + text("minutes"); }

  function pinParams(extra) {
    var at = pin.getLatLng();
    var params = new URLSearchParams({lon: at.lng.toFixed(6), lat: at.lat.toFixed(6)});
    Object.keys(extra).forEach(function (k) { params.set(k, extra[k]); });
    return params;
  }

  function optionText(select) { return select.options[select.selectedIndex].textContent; }

  function gradeTen() { return levelInput.value === "upper_secondary"; }

  /* The score when it is usable: a number within 0..30; "" when none is given; null when wrong. */
  function score() {
    var raw = scoreInput.value.trim();
    if (!raw) { return scoreInput.validity.badInput ? null : ""; }
    var value = Number(raw);
    return isFinite(value) && value >= 0 && value <= MAX_SCORE ? raw : null;
  }

  /* Say plainly when the score is not one the admissions could give (above 30, negative). */
  function checkScore() {
    var ok = !gradeTen() || score() !== null;
    $("score-error").hidden = ok;
    if (ok) { scoreInput.removeAttribute("aria-invalid"); } else { scoreInput.setAttribute("aria-invalid", "true"); }
    return ok;
  }

  /* Keep the page's address in step with the pin and choices, so it can be shared or printed. */
  function remember() {
    var params = pinParams({level: levelInput.value, mode: modeInput.value});
    if (ownershipInput.value) { params.set("ownership", ownershipInput.value); }
    if (gradeTen() && score()) { params.set("score", score()); }
    if (lang === "en") { params.set("lang", "en"); }
    var url = "/finder?" + params.toString();
    window.history.replaceState(null, "", url);
    shareLink.href = url;
    /* what the answer was asked with, kept in the print view */
    var parts = [text("level") + ": " + optionText(levelInput), text("mode") + ": " + optionText(modeInput),
      text("ownership") + ": " + optionText(ownershipInput)];
    if (gradeTen()) { parts.push(text("score") + ": " + (score() || text("no-score"))); }
    $("search-summary").textContent = text("searched") + " — " + parts.join("; ");
  }

  /* The comparison page of the ticked schools, from this home and mode (and score). */
  function updateCompare() {
    var params = pinParams({schools: picked.join(","), mode: modeInput.value});
    if (gradeTen() && score()) { params.set("score", score()); }
    if (lang === "en") { params.set("lang", "en"); }
    compareLink.href = "/compare?" + params.toString();
    compareLink.hidden = picked.length < 2;
    var full = picked.length >= MAX_COMPARED;
    Array.prototype.forEach.call(document.querySelectorAll("input.compare"), function (box) {
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
    box.checked = picked.indexOf(school.code) >= 0;
    box.addEventListener("change", function () {
      picked = picked.filter(function (c) { return c !== school.code; });
      if (box.checked) { picked.push(school.code); }
      updateCompare();
    });
    label.appendChild(box);
    label.appendChild(document.createTextNode(" " + text("compare")));
    li.appendChild(label);
  }

  function drawRoute(school) {
    var asked = next("route");
    var params = pinParams({school: school.code, mode: modeInput.value});
    getJSON("/api/route?" + params.toString()).then(function (feature) {
      if (stale("route", asked)) { return; }
      routeLayer.clearLayers();
      var summary = $("route-summary");
      if (!feature) { summary.textContent = ""; return; }
      L.geoJSON(feature, {interactive: false, style: {color: "#1b6ac9", weight: 5, opacity: 0.8}}).addTo(routeLayer);
      summary.textContent = text("route") + " → " + school.name + ": " +
        (feature.properties.distance_m / 1000).toFixed(2) + " km, " + minutes(feature.properties.time_s);
      el.setAttribute("data-route", school.code);
    });
  }

  /* One school's line: its name (a link), distance and time, a route button, a compare box. */
  function schoolLine(parent, s, method, zoned) {
    var li = item(parent, "");
    li.setAttribute("data-code", s.code);
    var a = document.createElement("a");
    a.href = "/schools/" + encodeURIComponent(s.code) + (lang === "en" ? "?lang=en" : "");
    a.textContent = s.name;
    li.appendChild(a);
    if (zoned) {
      var badge = document.createElement("span");
      badge.className = "badge zoned";
      badge.textContent = text("zoned");
      li.appendChild(badge);
      li.classList.add("is-zoned");
    }
    var detail = document.createElement("span");
    detail.className = "detail";
    li.appendChild(detail);
    function measure(distance_m, time_s) {
      var words = " — " + text("distance") + ": " + (distance_m / 1000).toFixed(2) + " km";
      if (time_s !== null && time_s !== undefined) { words += ", " + text("time") + ": " + minutes(time_s); }
      detail.textContent = words;
    }
    if (s.distance_m !== undefined) { measure(s.distance_m, s.time_s); }
    if (method === "road") {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "route";
      b.textContent = text("show-route");
      b.addEventListener("click", function () { drawRoute(s); });
      li.appendChild(b);
    }
    compareBox(li, s);
    return {li: li, measure: measure};
  }

  /* The zoned schools not in the list shown: their own lines, with time and route by road. */
  function showZoned(visible) {
    var asked = next("zoned");
    zonedList.textContent = "";
    var codes = {};
    visible.forEach(function (s) { codes[s.code] = true; });
    var missing = ranking.zoned.filter(function (z) { return !codes[z.code]; });
    $("zoned-box").hidden = !missing.length;
    var known = {};
    ranking.schools.forEach(function (s) { known[s.code] = s; });
    missing.forEach(function (z) {
      var line = schoolLine(zonedList, known[z.code] || z, ranking.method, true);
      var far = document.createElement("span");
      far.className = "hint";
      far.textContent = " (" + text("zoned-far") + ")";
      line.li.insertBefore(far, line.li.querySelector(".detail"));
      if (known[z.code] || ranking.method !== "road") { return; }
      getJSON("/api/route?" + pinParams({school: z.code, mode: modeInput.value}).toString()).then(function (f) {
        if (stale("zoned", asked) || !f) { return; }
        line.measure(f.properties.distance_m, f.properties.time_s);
        line.li.setAttribute("data-time", String(f.properties.time_s));
      });
    });
    el.setAttribute("data-zoned", String(ranking.zoned.length));
  }

  /* The list: the first `shown` schools of the ranking, the zoned ones marked, and more on request. */
  function render() {
    results.textContent = "";
    schoolLayer.clearLayers();
    var zoned = {};
    ranking.zoned.forEach(function (z) { zoned[z.code] = true; });
    var visible = ranking.schools.slice(0, shown);
    visible.forEach(function (s, i) {
      schoolLine(results, s, ranking.method, zoned[s.code]);
      L.circleMarker([s.lat, s.lon], {radius: 7, color: zoned[s.code] ? "#7b2cbf" : "#1b6ac9"})
        .bindTooltip(edugisText((i + 1) + ". " + s.name)).addTo(schoolLayer);
    });
    if (!visible.length) { item(results, text("filter-none")).className = "hint"; }
    moreButton.hidden = shown >= ranking.schools.length;
    results.setAttribute("data-shown", String(visible.length));
    showZoned(visible);
    updateCompare();
    showOutlook(visible);
  }

  function showCatchment(data) {
    var box = $("catchment");
    catchmentLayer.clearLayers();
    box.textContent = "";
    if (!data) { return; }
    if (!data.features.length) { box.textContent = text("catchment-none"); return; }
    var names = data.features.map(function (f) { return f.properties.school_name; });
    box.textContent = text("catchment") + " (" + data.ward.name + "): " + names.join(", ");
    L.geoJSON(data, {interactive: false, style: {color: "#7b2cbf", weight: 2, fillOpacity: 0.06, dashArray: "4 4"}})
      .addTo(catchmentLayer);
    el.setAttribute("data-catchment-schools", String(data.features.length));
  }

  function showOutlook(schools) {
    var asked = next("outlook");
    var help = $("band-help");
    if (!gradeTen() || !schools.length) { help.hidden = true; return; }
    var params = new URLSearchParams({schools: schools.map(function (s) { return s.code; }).join(",")});
    if (score()) { params.set("score", score()); }
    getJSON("/api/cutoff-outlook?" + params.toString()).then(function (data) {
      if (!data || stale("outlook", asked)) { return; }
      var pct = function (x) { return Math.round(x * 100) + " %"; };
      var level = null;
      data.schools.forEach(function (s, i) {
        var li = results.children[i];
        if (!li) { return; }
        var parts = s.history.map(function (h) { return h.year + ": " + h.cutoff; });
        if (s.forecast) {
          var f = s.forecast;
          level = level || pct(f.coverage);
          parts.push(text("forecast") + " " + f.year + ": " + f.lower + "–" + f.upper + " (" + pct(f.coverage) + "; " +
            (f.backtest_coverage === null ? text("not-backtested")
              : text("backtest") + " " + pct(f.backtest_coverage) + ", n = " + f.backtest_n) + ")");
        }
        if (s.chance) { parts.push(lang === "en" ? s.chance.label_en : s.chance.label_vi); }
        var line = document.createElement("span");
        line.className = "outlook";
        line.textContent = text("past-cutoffs") + " — " + parts.join("; ");
        li.appendChild(line);
      });
      /* what the band is, at which level, from which cut-offs: in plain words, printed too */
      $("band-text").textContent = text("band-help").split("{level}").join(level || "80 %");
      help.hidden = false;
      results.setAttribute("data-outlook", String(data.schools.length));
    });
  }

  function rank() {
    if (!pin) { return; }
    remember();
    if (!checkScore()) { return; }
    var asked = next("rank");
    setBusy("rank", true);
    var own = ownershipInput.value;
    var params = pinParams({level: levelInput.value, mode: modeInput.value, k: String(FETCHED)});
    var nearest = fetch("/api/nearest" + (own ? "/" + own : "") + "?" + params.toString())
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); });
    var catchment = CATCHMENT_LEVELS[levelInput.value]
      ? getJSON("/api/catchment?" + pinParams({level: levelInput.value}).toString()).catch(function () { return null; })
      : Promise.resolve(null);
    Promise.all([nearest, catchment]).then(function (answers) {
      if (stale("rank", asked)) { return; }
      var data = answers[0];
      showCatchment(answers[1]);
      ranking = {method: data.method, schools: data.schools, zoned: (answers[1] ? answers[1].features : []).map(function (f) {
        var p = f.properties;
        return {code: p.school_code, name: p.school_name, lon: p.school_lon, lat: p.school_lat};
      })};
      shown = PAGE;
      picked = [];
      routeLayer.clearLayers();
      $("route-summary").textContent = "";
      $("results-title").textContent = data.method === "road" ? text("road") : text("crow");
      render();
      results.setAttribute("data-method", data.method);
      rankings += 1;
      el.setAttribute("data-rankings", String(rankings));
      if (data.method === "road" && data.schools.length) { drawRoute(data.schools[0]); }
      setBusy("rank", false);
    }).catch(function () {
      if (stale("rank", asked)) { return; }
      setBusy("rank", false);
      $("finder-status").textContent = text("failed");
    });
  }

  function reach() {
    var asked = next("reach");
    var mode = modeInput.value;
    setBusy("reach", true);
    var params = pinParams({mode: mode, minutes: "10,15,20"});
    getJSON("/api/isochrone?" + params.toString()).then(function (data) {
      if (stale("reach", asked)) { return; }  /* a newer pin or mode was asked meanwhile */
      setBusy("reach", false);
      isoLayer.clearLayers();
      var legend = $("iso-legend");
      legend.hidden = !data;
      if (!data) { el.removeAttribute("data-isochrone-mode"); return; }
      L.geoJSON(data, {interactive: false, style: function (f) {
        var colour = ISO_COLOURS[String(f.properties.minutes)] || "#555";
        return {color: colour, weight: 1, fillColor: colour, fillOpacity: 0.12};
      }}).addTo(isoLayer);
      $("iso-legend-mode").textContent = modeInput.querySelector("option[value='" + mode + "']").textContent.toLowerCase();
      legend.setAttribute("data-mode", mode);
      el.setAttribute("data-isochrones", String(data.features.length));
      el.setAttribute("data-isochrone-mode", mode);
      reaches += 1;
      el.setAttribute("data-reaches", String(reaches));
    }, function () {
      if (!stale("reach", asked)) { setBusy("reach", false); }
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

  /* Show the suggestions, or fold them under the chosen one (a phone keeps the map in view). */
  function showPlaces(open) {
    places.hidden = !open;
    $("other-places").setAttribute("aria-expanded", String(open));
  }

  function choose(p, button) {
    Array.prototype.forEach.call(places.querySelectorAll("button"), function (b) { b.removeAttribute("aria-current"); });
    button.setAttribute("aria-current", "true");
    $("chosen-label").textContent = button.textContent;
    $("chosen").hidden = false;
    $("other-places").hidden = places.children.length < 2;
    showPlaces(false);
    place(p.lat, p.lon);
  }

  function showScore() {
    /* hidden (not shown, out of the tab order) unless the level is grade 10 */
    $("score-label").hidden = !gradeTen();
    scoreInput.disabled = !gradeTen();
    checkScore();
  }

  $("finder-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var asked = next("places");
    var q = $("address").value.trim();
    var message = $("places-message");
    var answer = q.length >= 2
      ? fetch("/api/geocode?" + new URLSearchParams({q: q}).toString()).then(function (r) { return r.ok ? r.json() : {places: []}; })
      : Promise.resolve({places: []});
    answer.then(function (data) {
      if (stale("places", asked)) { return; }
      places.textContent = "";
      var found = data.places || [];
      message.hidden = found.length > 0;
      $("chosen").hidden = true;
      showPlaces(true);
      var buttons = found.map(function (p) {
        var li = item(places, "");
        var b = document.createElement("button");
        b.type = "button";
        b.textContent = p.detail ? p.label + " — " + p.detail : p.label;
        b.addEventListener("click", function () { choose(p, b); });
        li.appendChild(b);
        return b;
      });
      if (found.length) { choose(found[0], buttons[0]); }
    });
  });
  $("other-places").addEventListener("click", function () { showPlaces(places.hidden); });
  levelInput.addEventListener("change", function () { showScore(); rank(); });
  scoreInput.addEventListener("change", rank);
  scoreInput.addEventListener("input", checkScore);
  ownershipInput.addEventListener("change", rank);
  modeInput.addEventListener("change", function () { rank(); if (pin) { reach(); } });
  moreButton.addEventListener("click", function () {
    if (!ranking) { return; }
    shown += PAGE;
    render();
    var first = results.children[shown - PAGE];
    if (first) { first.querySelector("a").focus(); }
  });
  $("print").addEventListener("click", function () { window.print(); });
  map.on("click", function (e) { place(e.latlng.lat, e.latlng.lng); });

  /* A shared link (?lon=&lat=&level=&mode=&ownership=&score=) opens with the same pin and choices. */
  var shared = new URLSearchParams(window.location.search);
  ["level", "mode", "ownership", "score"].forEach(function (k) {
    var input = {level: levelInput, mode: modeInput, ownership: ownershipInput, score: scoreInput}[k];
    var known = k === "score" || Array.prototype.some.call(input.options, function (o) { return o.value === shared.get(k); });
    if (shared.get(k) && known) {
      input.value = shared.get(k);
    }
  });
  showScore();
  var lon = parseFloat(shared.get("lon")), lat = parseFloat(shared.get("lat"));
  if (isFinite(lon) && isFinite(lat)) { place(lat, lon); }
})();
