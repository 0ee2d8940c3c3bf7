// Words and times as the dispatcher reads them.

const ACTION_LABELS = {
  accept: "Accept",
  decline: "Decline",
  cancel: "Cancel job",
  reopen: "Reopen",
  add_appointment: "Add appointment",
  delete_appointment: "Delete appointment",
  "on-my-way": "On my way",
  start: "Start",
  pause: "Pause",
  complete: "Complete",
};

export const JOB_STATUSES = [
  "offered", "unscheduled", "scheduled", "in_progress", "paused", "complete", "canceled",
];

export function actionLabel(action) {
  return ACTION_LABELS[action] || action.replaceAll("_", " ").replaceAll("-", " ");
}

export function statusLabel(status) {
  const text = status.replaceAll("_", " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function time(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
}

export function dateTime(iso) {
  return new Date(iso).toLocaleString([], {
    month: "short", day: "numeric", hour: "numeric", minute: "2-digit",
  });
}

export function age(iso) {
  const seconds = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

// The value of a datetime-local input for an ISO time, in the browser's timezone.
export function localInput(iso) {
  const at = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

// Builds an element: el("li", {class: "x", onclick: f}, "text", child, ...).
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
