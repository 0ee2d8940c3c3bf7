// Today's calendar: one column per technician, their appointments in time order.

import { allItems } from "./api.js";
import { el, statusLabel, time } from "./format.js";

export async function showCalendar(main) {
  // Without from/to the API answers today in the organization's timezone.
  const appointments = await allItems("/v1/appointments");
  const byTechnician = new Map();
  for (const a of appointments) {
    const name = a.technician ? a.technician.name : "Unassigned";
    if (!byTechnician.has(name)) byTechnician.set(name, []);
    byTechnician.get(name).push(a);
  }
  const names = [...byTechnician.keys()].sort((x, y) => (x === "Unassigned") - (y === "Unassigned") || x.localeCompare(y));
  main.append(el("section", {},
    el("h2", {}, `Today, ${new Date().toLocaleDateString([], { weekday: "long", month: "long", day: "numeric" })}`),
    names.length
      ? el("div", { class: "calendar" }, names.map((name) => el("div", { class: "day-column", dataset: { technician: name } },
        el("h3", {}, name),
        el("ul", {}, byTechnician.get(name)
          .sort((x, y) => x.starts_at.localeCompare(y.starts_at))
          .map((a) => el("li", { class: `slot status-${a.job.status}` },
            el("strong", {}, `${time(a.starts_at)}–${time(a.ends_at)}`), " ",
            el("a", { href: `#/job/${a.job.id}` }, a.job.title),
            el("div", { class: "muted" }, `${a.customer ? a.customer.name : ""} · ${statusLabel(a.status)}`)))))))
      : el("p", { class: "muted" }, "No appointments today.")));
}
