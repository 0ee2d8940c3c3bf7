// Logging in by phone and texted code, in a dialog over the page: when a session ends
// mid-work the dialog opens over what the dispatcher was doing, and closes back onto it.

import { api, forgetTokens, saveTokens } from "./api.js";
import { describeError } from "./messages.js";

const dialog = () => document.getElementById("login");
let waiting = [];

function showStep(step) {
  document.getElementById("login-phone-form").hidden = step !== "phone";
  document.getElementById("login-code-form").hidden = step !== "code";
  document.getElementById("login-error").hidden = true;
  document.getElementById(step === "phone" ? "login-phone" : "login-code").focus();
}

function fail(error) {
  const box = document.getElementById("login-error");
  box.textContent = describeError(error);
  box.hidden = false;
}

export function askLogin(reason = "") {
  document.getElementById("login-reason").textContent = reason;
  if (!dialog().open) {
    dialog().showModal();
    showStep("phone");
  }
  return new Promise((resolve) => waiting.push(resolve));
}

export function setUpLogin(onLoggedIn) {
  const phone = document.getElementById("login-phone");
  const code = document.getElementById("login-code");
  dialog().addEventListener("cancel", (event) => event.preventDefault()); // no way around it
  document.getElementById("login-phone-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("POST", "/v1/auth/passcode", { phone: phone.value });
      document.getElementById("login-code-phone").textContent = phone.value;
      code.value = "";
      showStep("code");
    } catch (error) {
      fail(error);
    }
  });
  document.getElementById("login-code-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const pair = await api("POST", "/v1/auth/session", {
        phone: phone.value,
        passcode: code.value.trim(),
        device: { platform: "web", app: "console", app_version: "1" },
      });
      saveTokens(pair);
      dialog().close();
      onLoggedIn(pair.user);
      const resolved = waiting;
      waiting = [];
      resolved.forEach((resolve) => resolve());
    } catch (error) {
      fail(error);
    }
  });
  document.getElementById("login-back").addEventListener("click", () => showStep("phone"));
}

export async function logOut() {
  try {
    await api("DELETE", "/v1/auth/session");
  } finally {
    forgetTokens();
  }
}
