// The team map: on-duty members' latest positions, polled so markers move as pings arrive;
// a click shows that member's track of the last hours.

import { api } from "./api.js";
import { age, el, statusLabel } from "./format.js";
import { showError } from "./messages.js";

const POLL_MS = 3000;
const TRACK_HOURS = 4;
const CHICAGO = [41.88, -87.63]; // where the map opens before any position is known

function tileLayer(map) {
  const url = document.body.dataset.tileUrl;
  if (!url) return;
  L.tileLayer(url, { maxZoom: 19, attribution: document.body.dataset.tileAttribution || "" })
    .addTo(map);
}

function describe(member) {
  const appointment = member.appointment;
  return [
    el("strong", {}, member.name),
    member.stale ? el("span", { class: "badge stale" }, "stale") : null,
    el("div", { class: "muted" }, `fix ${age(member.recorded_at)}`,
      member.battery_pct === null || member.battery_pct === undefined ? "" : ` · battery ${Math.round(member.battery_pct)}%`),
    appointment
      ? el("div", {}, `${statusLabel(appointment.status)}: ${appointment.job_title} (${appointment.customer_name})`)
      : el("div", { class: "muted" }, "no current appointment"),
  ];
}

export async function showMap(main) {
  const list = el("ul", { class: "members", id: "members" });
  const trackInfo = el("p", { class: "muted", id: "track-info" }, "Click a member to see their track of the last hours.");
  const mapBox = el("div", { id: "map", class: "map" });
  main.append(el("section", { class: "map-view" }, mapBox,
    el("aside", { class: "side" }, el("h2", {}, "On duty"), list, trackInfo)));

  const map = L.map(mapBox, { zoomControl: true }).setView(CHICAGO, 11);
  tileLayer(map);
  const markers = new Map();
  let track = null;
  let framed = false;
  let timer = null;
  let stopped = false;

  async function showTrack(member) {
    const since = new Date(Date.now() - TRACK_HOURS * 3600 * 1000).toISOString();
    try {
      const feature = await api("GET", `/v1/users/${member.user_id}/track?since=${encodeURIComponent(since)}`);
      if (track) track.remove();
      track = L.geoJSON(feature, { style: { color: "#7b2cbf", weight: 4 } }).addTo(map);
      const fixes = (feature.properties.times || []).length;
      trackInfo.textContent = `${member.name}: ${fixes} fixes in the last ${TRACK_HOURS} hours.`;
      if (fixes > 1) map.fitBounds(track.getBounds(), { padding: [40, 40], animate: false });
    } catch (error) {
      showError(error);
    }
  }

  async function refresh() {
    try {
      const collection = await api("GET", "/v1/team/locations");
      const seen = new Set();
      const items = [];
      for (const feature of collection.features) {
        const member = feature.properties;
        const [lon, lat] = feature.geometry.coordinates;
        seen.add(member.user_id);
        let marker = markers.get(member.user_id);
        if (!marker) {
          marker = L.circleMarker([lat, lon], { radius: 9, weight: 3 }).addTo(map);
          marker.bindTooltip(member.name, { permanent: true, direction: "right", offset: [10, 0] });
          markers.set(member.user_id, marker);
        }
        marker.setLatLng([lat, lon]);
        marker.setStyle(member.stale
          ? { color: "#777", fillColor: "#bbb", fillOpacity: 0.7, dashArray: "4 3" }
          : { color: "#0b5394", fillColor: "#3d85c6", fillOpacity: 0.9, dashArray: null });
        marker.off("click").on("click", () => showTrack(member));
        items.push(el("li", {
          class: member.stale ? "member stale" : "member",
          dataset: { userId: member.user_id, lat: String(lat), lon: String(lon) },
          onclick: () => showTrack(member),
        }, describe(member)));
      }
      for (const [userId, marker] of markers) {
        if (!seen.has(userId)) { marker.remove(); markers.delete(userId); }
      }
      list.replaceChildren(...(items.length ? items : [el("li", { class: "muted" }, "No one on duty has sent a position yet.")]));
      if (!framed && markers.size) {
        map.fitBounds(L.featureGroup([...markers.values()]).getBounds(), { padding: [60, 60], maxZoom: 14, animate: false });
        framed = true;
      }
    } catch (error) {
      showError(error);
    }
    if (!stopped) timer = setTimeout(refresh, POLL_MS);
  }

  await refresh();
  return () => { stopped = true; clearTimeout(timer); map.remove(); };
}
