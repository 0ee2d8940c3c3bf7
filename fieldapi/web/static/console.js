// The console's entry: logs in, then shows one view at a time from the address's #hash.

import { onLoginNeeded, tokens } from "./api.js";
import { askLogin, logOut, setUpLogin } from "./login.js";
import { clearNotice, showError } from "./messages.js";
import { showBoard } from "./board.js";
import { showCalendar } from "./calendar.js";
import { showJob } from "./job.js";
import { showMap } from "./map.js";

let leaveView = null; // what the current view does when left (stop polling)

function route() {
  const hash = window.location.hash || "#/map";
  const [, view, id] = hash.split("/");
  if (leaveView) leaveView();
  leaveView = null;
  clearNotice();
  const main = document.getElementById("view");
  main.replaceChildren();
  document.querySelectorAll("#nav a[data-view]").forEach((link) => {
    link.classList.toggle("current", link.dataset.view === (view === "job" ? "jobs" : view));
  });
  const shows = { map: showMap, jobs: showBoard, job: showJob, calendar: showCalendar };
  const show = shows[view] || showMap;
  Promise.resolve(show(main, id))
    .then((leave) => { leaveView = typeof leave === "function" ? leave : null; })
    .catch(showError);
}

function loggedIn(user) {
  document.getElementById("nav").hidden = false;
  document.getElementById("logout").hidden = false;
  document.getElementById("who").textContent = user ? `${user.name} · ${user.organization.name}` : "";
}

async function start() {
  onLoginNeeded(askLogin);
  setUpLogin((user) => {
    const first = !document.getElementById("view").hasChildNodes();
    loggedIn(user);
    if (first) route();
  });
  document.getElementById("logout").addEventListener("click", async () => {
    await logOut().catch(() => {});
    window.location.reload();
  });
  window.addEventListener("hashchange", route);
  const current = tokens();
  if (current) {
    loggedIn(current.user);
    route();
  } else {
    askLogin();
  }
}

start();
