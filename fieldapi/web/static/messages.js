// Turns API errors into sentences for the dispatcher: never raw JSON or a stack trace.

import { actionLabel } from "./format.js";

export function describeError(error) {
  if (!error || typeof error.status !== "number") {
    return "Something went wrong in the console. Reload the page and try again.";
  }
  const message = error.message || "The request failed.";
  const errors = error.errors || {};
  if (error.status === 409) {
    const allowed = errors.allowed_actions || [];
    if (!allowed.length) return message;
    // The allowed actions, in the words of the buttons (instead of the server's wire names).
    const said = message.replace(/\s*Allowed now:[^.]*\.\s*$/, "");
    return `${said} What can be done now: ${allowed.map(actionLabel).join(", ")}.`;
  }
  if (error.status === 429) {
    const saysWhen = /try again/i.test(message);
    if (error.retryAfter) {
      const at = new Date(Date.now() + error.retryAfter * 1000);
      const time = at.toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
      if (saysWhen) return `${message.replace(/\.$/, "")} (at ${time}).`;
      return `${message} Try again in ${waitWords(error.retryAfter)} (at ${time}).`;
    }
    return saysWhen ? message : `${message} Try again in a little while.`;
  }
  if (error.status === 422 || error.status === 400) {
    const fields = Object.entries(errors)
      .filter(([name]) => name !== "allowed_actions")
      .map(([name, reasons]) => `${name.replaceAll("_", " ")}: ${flatten(reasons).join(" ")}`);
    return fields.length ? `${message} (${fields.join("; ")})` : message;
  }
  if (error.status >= 500) {
    return "The server could not do this just now. Try again in a moment.";
  }
  return message;
}

function waitWords(seconds) {
  if (seconds < 90) return `${Math.ceil(seconds)} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return minutes < 90 ? `${minutes} minutes` : `${Math.ceil(minutes / 60)} hours`;
}

function flatten(reasons) {
  if (Array.isArray(reasons)) return reasons.flatMap(flatten);
  if (reasons && typeof reasons === "object") return Object.values(reasons).flatMap(flatten);
  return [String(reasons)];
}

let hideTimer = null;

export function showNotice(text, kind = "error") {
  const notice = document.getElementById("notice");
  notice.textContent = text;
  notice.className = `notice ${kind}`;
  notice.hidden = false;
  clearTimeout(hideTimer);
  if (kind !== "error") hideTimer = setTimeout(() => { notice.hidden = true; }, 4000);
}

export function showError(error) {
  if (!(error && typeof error.status === "number")) console.error(error);
  showNotice(describeError(error), "error");
}

export function clearNotice() {
  document.getElementById("notice").hidden = true;
}
