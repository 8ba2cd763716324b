/* Planner's page: the siting job (started without leaving the page, its progress polled), the
   capacity-gap choropleth (OGC capacity-gaps items) and proposed sites on the map. */
(function () {
  "use strict";
  var box = document.getElementById("sites-job");
  var form = document.querySelector("form.run-sites");
  if (!box) { return; }
  var statusLine = box.querySelector(".job-status");
  var stageLine = box.querySelector(".job-stage");
  var bar = box.querySelector(".job-progress");
  var errorBox = document.getElementById("sites-error");
  var timer = null;

  function fill(template, name, value) { return template.split("{" + name + "}").join(String(value)); }

  function showError(message) {
    box.hidden = true;
    errorBox.textContent = "";
    var p = document.createElement("p");
    p.textContent = message;
    errorBox.appendChild(p);
    errorBox.hidden = false;
    if (form) { form.querySelector("button[type=submit]").disabled = false; }
  }

  function show(status) {
    box.setAttribute("data-state", status.state);
    if (status.state === "running") {
      box.hidden = false;
      errorBox.hidden = true;
      var text = status.text + " " + fill(box.getAttribute("data-elapsed-text"), "elapsed", status.elapsed_s);
      if (status.expected_s) {
        text += " " + fill(box.getAttribute("data-expected-text"), "expected", status.expected_s);
        bar.value = Math.min(95, Math.round(100 * status.elapsed_s / status.expected_s));
      } else {
        bar.removeAttribute("value");  // indeterminate: no earlier run to compare with
      }
      statusLine.textContent = text;
      stageLine.textContent = status.stage || "";
      if (form) { form.querySelector("button[type=submit]").disabled = true; }
      timer = window.setTimeout(poll, 1000);
    } else if (status.state === "done") {
      box.hidden = false;
      bar.value = 100;
      statusLine.textContent = status.text;
      stageLine.textContent = "";
      window.location.assign(status.result_url);
    } else if (status.state === "failed") {
      showError(status.message);
    }
  }

  function poll() {
    fetch(box.getAttribute("data-status-url"), {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (r) {
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json();
      })
      .then(show)
      .catch(function (e) {
        // a network hiccup: keep the job, try again a little later
        console.warn(e);
        timer = window.setTimeout(poll, 3000);
      });
  }

  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (timer !== null) { window.clearTimeout(timer); }
      form.querySelector("button[type=submit]").disabled = true;
      show({state: "running", text: box.getAttribute("data-running-text"), elapsed_s: 0});
      window.clearTimeout(timer);  // polled once the job is started
      fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin",
                          headers: {Accept: "application/json"}})
        .then(function (r) {
          return r.json().catch(function () { return {state: "failed", message: box.getAttribute("data-error-prefix") + " (HTTP " + r.status + ")"}; });
        })
        .then(function (status) {
          if (!status.state) {  // a refusal of the app (sign-in, form token): its own words
            showError(status.description || box.getAttribute("data-error-prefix"));
          } else {
            show(status);
          }
        })
        .catch(function () { showError(box.getAttribute("data-error-prefix")); });
    });
  }
  if (box.getAttribute("data-state") === "running") { timer = window.setTimeout(poll, 1000); }
})();

(function () {
  "use strict";
  var el = document.getElementById("planner-map");
  if (!el) { return; }
  var map = L.map(el, {maxZoom: 18, minZoom: 9});
  map.fitBounds(edugisBounds(el));
  edugisBasemap(map, el.getAttribute("data-tiles-url"));
  // sites above the wards whichever answer arrives first
  map.createPane("sites").style.zIndex = "650";
  var scale = edugisScale([0, 1, 50, 200], ["#f7f7f7", "#fdcc8a", "#fc8d59", "#d7301f"]);

  function getJson(url) {
    return fetch(url, {credentials: "same-origin"}).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status + " " + url); }
      return r.json();
    });
  }

  var gapsUrl = el.getAttribute("data-gaps-url");
  if (gapsUrl) {
    getJson(gapsUrl).then(function (data) {
      var layer = L.geoJSON(data, {
        className: "gap-ward",
        style: function (f) {
          return {color: "#555", weight: 1, fillOpacity: 0.7, fillColor: scale.colour(f.properties.shortfall_seats)};
        },
        onEachFeature: function (f, l) {
          var p = f.properties;
          l.bindTooltip(edugisText(p.code + " " + p.name + ": " + el.getAttribute("data-legend") + " " +
                                   Math.round(p.shortfall_seats) + " · " + el.getAttribute("data-demand") +
                                   " " + Math.round(p.demand)));
        }
      }).addTo(map);
      el.setAttribute("data-gap-wards", String(data.features.length));
      scale.legend(map, el.getAttribute("data-legend"));
      if (data.features.length) { map.fitBounds(layer.getBounds()); }
    }).catch(function (e) { console.error(e); });
  }
  var sitesUrl = el.getAttribute("data-sites-url");
  if (sitesUrl) {
    getJson(sitesUrl).then(function (data) {
      L.geoJSON(data, {
        pointToLayer: function (f, latlng) {
          return L.circleMarker(latlng, {radius: 9, color: "#08306b", weight: 2, fillColor: "#4292c6",
                                         fillOpacity: 0.9, className: "proposed-site",
                                         pane: "sites"});
        },
        onEachFeature: function (f, l) {
          l.bindTooltip(edugisText("#" + f.properties.rank + " " + (f.properties.ward_name || "")));
        }
      }).addTo(map);
      el.setAttribute("data-sites", String(data.features.length));
    }).catch(function (e) { console.error(e); });
  }
})();
