// The job board: one column per status, in the lifecycle's colours; offers are accepted or
// declined from their card when the API lists those actions.

import { allItems, api } from "./api.js";
import { actionLabel, dateTime, el, JOB_STATUSES, statusLabel } from "./format.js";
import { showError, showNotice } from "./messages.js";

const CARD_ACTIONS = ["accept", "decline"];

function nextVisit(job) {
  const active = job.appointments.filter((a) => ["scheduled", "enroute", "started"].includes(a.status));
  const visit = active[0] || job.appointments[0];
  if (!visit) return "no appointment";
  const who = visit.technician ? visit.technician.name : "unassigned";
  return `${dateTime(visit.starts_at)} · ${who}`;
}

function card(job, redraw) {
  const buttons = job.allowed_actions
    .filter((action) => CARD_ACTIONS.includes(action))
    .map((action) => el("button", {
      type: "button",
      class: `action ${action}`,
      onclick: async (event) => {
        event.preventDefault();
        try {
          await api("POST", `/v1/jobs/${job.id}/actions/${action}`, {});
          showNotice(`${actionLabel(action)}: ${job.title}`, "info");
          redraw();
        } catch (error) {
          showError(error);
        }
      },
    }, actionLabel(action)));
  return el("li", { class: `card status-${job.status}`, dataset: { jobId: job.id } },
    el("a", { href: `#/job/${job.id}` }, el("strong", {}, job.title)),
    el("div", {}, job.customer ? job.customer.name : ""),
    job.provider_name ? el("div", { class: "muted" }, `offered by ${job.provider_name}`) : null,
    el("div", { class: "muted" }, nextVisit(job)),
    buttons.length ? el("div", { class: "buttons" }, buttons) : null);
}

export async function showBoard(main) {
  const filter = el("select", { id: "status-filter", "aria-label": "Show" },
    el("option", { value: "" }, "every status"),
    JOB_STATUSES.map((status) => el("option", { value: status }, statusLabel(status))));
  const columns = el("div", { class: "board" });
  main.append(el("section", {},
    el("div", { class: "toolbar" }, el("h2", {}, "Jobs"), el("label", {}, "Show ", filter),
      el("button", { type: "button", onclick: () => draw() }, "Refresh")),
    columns));

  async function draw() {
    try {
      const wanted = filter.value;
      const jobs = await allItems(wanted ? `/v1/jobs?status=${wanted}` : "/v1/jobs");
      const shown = wanted ? [wanted] : JOB_STATUSES;
      columns.replaceChildren(...shown.map((status) => {
        const here = jobs.filter((job) => job.status === status);
        return el("div", { class: `column status-${status}`, dataset: { status } },
          el("h3", {}, `${statusLabel(status)} (${here.length})`),
          el("ul", {}, here.map((job) => card(job, draw))));
      }));
    } catch (error) {
      showError(error);
    }
  }
  filter.addEventListener("change", draw);
  await draw();
}
