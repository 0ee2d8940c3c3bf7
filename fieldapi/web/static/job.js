// A job's page: the customer, the appointments (add, reschedule, reassign, delete), the
// actions the API allows as buttons, the activity log, notes and photos, and the texts sent.

import { allItems, api } from "./api.js";
import { actionLabel, dateTime, el, localInput, statusLabel } from "./format.js";
import { showError, showNotice } from "./messages.js";

const JOB_LEVEL = ["accept", "decline", "cancel", "reopen"];
const APPOINTMENT_ACTIONS = ["on-my-way", "start", "pause", "complete"];

function technicianSelect(team, chosen) {
  return el("select", { name: "technician_id" },
    el("option", { value: "" }, "unassigned"),
    team.filter((u) => u.active && u.role !== "dispatcher").map((u) =>
      el("option", { value: u.id, selected: chosen === u.id }, u.name)));
}

function appointmentForm(team, values, submitLabel, onSubmit) {
  const startsAt = el("input", { type: "datetime-local", name: "starts_at", required: true, value: values.starts_at ? localInput(values.starts_at) : "" });
  const duration = el("input", { type: "number", name: "duration_min", min: "5", max: "1440", required: true, value: String(values.duration_min || 60) });
  const technician = technicianSelect(team, values.technician_id);
  return el("form", {
    class: "inline-form",
    onsubmit: async (event) => {
      event.preventDefault();
      await onSubmit({
        starts_at: new Date(startsAt.value).toISOString(),
        duration_min: Number(duration.value),
        technician_id: technician.value || null,
      });
    },
  }, el("label", {}, "Starts ", startsAt), el("label", {}, "Minutes ", duration),
  el("label", {}, "Technician ", technician), el("button", { type: "submit" }, submitLabel));
}

export async function showJob(main, jobId) {
  const page = el("section", { class: "job" });
  main.append(page);

  async function act(label, request) {
    try {
      await request();
      showNotice(`${label}: done.`, "info");
      await draw();
    } catch (error) {
      showError(error);
      // Someone else changed the job meanwhile: show it as it is now, buttons included.
      if (error.status === 409) await draw().catch(() => {});
    }
  }

  async function draw() {
    const [job, team, reasons, activity, notes, photos, texts] = await Promise.all([
      api("GET", `/v1/jobs/${jobId}`),
      api("GET", "/v1/team"),
      api("GET", "/v1/settings/complete-reasons"),
      allItems(`/v1/jobs/${jobId}/activity`),
      allItems(`/v1/jobs/${jobId}/notes`),
      allItems(`/v1/jobs/${jobId}/photos`),
      allItems(`/v1/messages?job_id=${jobId}`),
    ]);
    const customer = job.customer;
    const jobButtons = job.allowed_actions.filter((a) => JOB_LEVEL.includes(a)).map((action) =>
      el("button", {
        type: "button", class: `action ${action}`,
        onclick: () => act(actionLabel(action), () => api("POST", `/v1/jobs/${job.id}/actions/${action}`, {})),
      }, actionLabel(action)));

    page.replaceChildren(...[
      el("p", {}, el("a", { href: "#/jobs" }, "← Job board")),
      el("h2", {}, job.title, " ", el("span", { class: `chip status-${job.status}`, id: "job-status" }, statusLabel(job.status))),
      job.description ? el("p", {}, job.description) : null,
      job.provider_name ? el("p", { class: "muted" }, `Offered by ${job.provider_name}`) : null,
      el("div", { class: "buttons", id: "job-actions" }, jobButtons),
      el("h3", {}, "Customer"),
      el("p", {}, el("strong", {}, customer.name), ` · ${customer.phone} · ${customer.address}`,
        customer.texts_opted_out ? el("span", { class: "badge stale" }, "texts opted out: call instead") : null),
      el("h3", {}, "Appointments"),
      appointmentsTable(job, team, reasons),
      job.allowed_actions.includes("add_appointment")
        ? el("details", { id: "add-appointment" }, el("summary", {}, "Add appointment"),
          appointmentForm(team, {}, "Add", (body) => act("Appointment added", () => api("POST", `/v1/jobs/${job.id}/appointments`, body))))
        : null,
      el("h3", {}, "Notes"),
      el("ul", { class: "notes" }, notes.map((note) => el("li", {},
        el("span", { class: `badge ${note.visibility}` }, note.visibility), " ", note.body,
        el("span", { class: "muted" }, ` · ${note.author ? note.author.name : ""} ${dateTime(note.created_at)}`)))),
      noteForm(job, act),
      el("h3", {}, "Photos"),
      photoGallery(photos),
      photoForm(job, act),
      el("h3", {}, "Texts sent"),
      el("table", { class: "texts" },
        el("tr", {}, el("th", {}, "Queued"), el("th", {}, "To"), el("th", {}, "Text"), el("th", {}, "Delivery")),
        texts.map((m) => el("tr", {}, el("td", {}, dateTime(m.queued_at)), el("td", {}, m.to), el("td", {}, m.body),
          el("td", { class: `delivery ${m.status}` }, m.status, m.error_message ? ` (${m.error_message})` : "")))),
      el("h3", {}, "Activity"),
      el("ol", { class: "activity", id: "activity" }, activity.map((entry) => el("li", {},
        el("span", { class: "muted" }, dateTime(entry.at)), " ",
        entry.actor && entry.actor.name ? `${entry.actor.name}: ` : "",
        actionLabel(entry.action),
        entry.from_status !== entry.to_status ? ` (${entry.from_status || "—"} → ${entry.to_status || "—"})` : ""))),
    ].filter(Boolean));
  }

  function appointmentsTable(job, team, reasons) {
    if (!job.appointments.length) return el("p", { class: "muted" }, "No appointments.");
    return el("table", { class: "appointments" },
      el("tr", {}, el("th", {}, "When"), el("th", {}, "Technician"), el("th", {}, "Status"), el("th", {}, "Actions"), el("th", {}, "Change")),
      job.appointments.map((a) => {
        const reasonSelect = el("select", { name: "reason_code", "aria-label": "Complete reason" },
          reasons.map((r) => el("option", { value: r.code }, r.label)));
        const buttons = a.allowed_actions.filter((x) => APPOINTMENT_ACTIONS.includes(x)).map((action) =>
          el("button", {
            type: "button", class: `action ${action}`,
            onclick: () => act(actionLabel(action), () => api("POST", `/v1/appointments/${a.id}/actions/${action}`,
              action === "complete" ? { reason_code: reasonSelect.value } : {})),
          }, actionLabel(action)));
        if (a.allowed_actions.includes("complete")) buttons.push(reasonSelect);
        if (a.allowed_actions.includes("delete_appointment")) {
          buttons.push(el("button", {
            type: "button", class: "action delete",
            onclick: () => act("Appointment deleted", () => api("DELETE", `/v1/appointments/${a.id}`)),
          }, actionLabel("delete_appointment")));
        }
        return el("tr", { dataset: { appointmentId: a.id } },
          el("td", {}, `${dateTime(a.starts_at)} · ${a.duration_min} min`),
          el("td", {}, a.technician ? a.technician.name : "unassigned"),
          el("td", {}, statusLabel(a.status), a.pause_reason ? ` (${a.pause_reason})` : ""),
          el("td", { class: "buttons" }, buttons),
          el("td", {}, el("details", {}, el("summary", {}, "Reschedule / reassign"),
            appointmentForm(team, { starts_at: a.starts_at, duration_min: a.duration_min, technician_id: a.technician && a.technician.id },
              "Save", (body) => act("Appointment changed", () => api("PATCH", `/v1/appointments/${a.id}`, body))))));
      }));
  }

  await draw();
}

function visibilitySelect() {
  return el("select", { name: "visibility", "aria-label": "Visibility" },
    el("option", { value: "private" }, "private (your organization)"),
    el("option", { value: "public" }, "public (also the enterprise that sent the job)"));
}

function noteForm(job, act) {
  const body = el("textarea", { name: "body", rows: "2", required: true, placeholder: "A note on this job" });
  const visibility = visibilitySelect();
  return el("form", {
    class: "inline-form", id: "note-form",
    onsubmit: async (event) => {
      event.preventDefault();
      await act("Note added", () => api("POST", `/v1/jobs/${job.id}/notes`, { body: body.value, visibility: visibility.value }));
    },
  }, body, visibility, el("button", { type: "submit" }, "Add note"));
}

function photoForm(job, act) {
  const file = el("input", { type: "file", name: "file", accept: "image/jpeg,image/png,image/heic", required: true });
  const visibility = visibilitySelect();
  return el("form", {
    class: "inline-form",
    onsubmit: async (event) => {
      event.preventDefault();
      const form = new FormData();
      form.append("file", file.files[0]);
      form.append("visibility", visibility.value);
      await act("Photo added", () => api("POST", `/v1/jobs/${job.id}/photos`, form));
    },
  }, file, visibility, el("button", { type: "submit" }, "Add photo"));
}

function photoGallery(photos) {
  if (!photos.length) return el("p", { class: "muted" }, "No photos.");
  const gallery = el("div", { class: "photos" });
  for (const photo of photos) {
    const image = el("img", { alt: `photo (${photo.visibility})` });
    gallery.append(el("figure", {}, image, el("figcaption", {}, el("span", { class: `badge ${photo.visibility}` }, photo.visibility))));
    // The photo needs the bearer token, so it is fetched here rather than by <img src>.
    api("GET", `/v1/photos/${photo.id}`).then((blob) => { image.src = URL.createObjectURL(blob); }).catch(showError);
  }
  return gallery;
}
