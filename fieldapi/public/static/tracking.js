// The tracking page: asks the tracking API every few seconds and redraws what changed.
// The "map" is an SVG of the site and the van's bearing and distance: no tiles to load.
(function () {
  "use strict";
  var body = document.body;
  var api = body.dataset.api;
  var refreshMs = Number(body.dataset.refreshMs) || 15000;
  var RANGE_M = [500, 2000, 5000, 20000, 80000];

  function el(id) { return document.getElementById(id); }

  function headline(data) {
    var who = (data.technician && data.technician.first_name) || "Your technician";
    switch (data.status) {
      case "on_the_way": return who + " is on the way";
      case "arrived": return who + " has arrived";
      case "finished": return "Your visit is finished";
      default: return "This visit was canceled";
    }
  }

  function clock(iso) {
    return new Date(iso).toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
  }

  function offsetMeters(site, pos) {
    var rad = Math.PI / 180;
    var north = (pos.lat - site.lat) * rad * 6371000;
    var east = (pos.lon - site.lon) * rad * 6371000 * Math.cos(site.lat * rad);
    return { north: north, east: east };
  }

  function drawPosition(data) {
    var map = el("map");
    if (!data.position || !data.site) {
      map.setAttribute("hidden", "");  // an SVG element has no .hidden property
      el("distance").textContent = "";
      return;
    }
    map.removeAttribute("hidden");
    var d = offsetMeters(data.site, data.position);
    var meters = Math.sqrt(d.north * d.north + d.east * d.east);
    var range = RANGE_M.find(function (r) { return meters <= r; }) || meters;
    var scale = 90 / range;
    var van = el("van");
    van.setAttribute("cx", (d.east * scale).toFixed(1));
    van.setAttribute("cy", (-d.north * scale).toFixed(1));
    el("distance").textContent = meters < 1000
      ? "About " + Math.round(meters / 100) * 100 + " m away"
      : "About " + (meters / 1000).toFixed(1) + " km away";
  }

  function render(data) {
    var h = el("headline");
    h.textContent = headline(data);
    h.dataset.status = data.status;
    el("eta").textContent = data.eta
      ? "Arriving in about " + data.eta.minutes + " min (around " + clock(data.eta.arrive_by) + ")"
      : "";
    drawPosition(data);
    el("updated").textContent = clock(data.updated_at);
  }

  function refresh() {
    fetch(api, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) {
        if (response.status === 404) {
          el("headline").textContent = "This link has expired";
          el("eta").textContent = "";
          el("map").setAttribute("hidden", "");
          return null;
        }
        return response.ok ? response.json() : undefined;
      })
      .then(function (data) {
        if (data === null) return;  // expired: stop asking
        if (data) render(data);
        setTimeout(refresh, refreshMs);
      })
      .catch(function () { setTimeout(refresh, refreshMs); });
  }

  refresh();
})();
