// The booking page: first "text me a code" (POST .../passcode), then the request with the
// code (POST /v1/bookings/<slug>). Errors come from the API's JSON and are shown as is.
(function () {
  "use strict";
  var body = document.body;
  var form = document.getElementById("request");
  var error = document.getElementById("error");
  var button = document.getElementById("submit");
  var codeStep = document.getElementById("code-step");
  var codeSent = false;

  function value(name) { return form.elements[name].value.trim(); }

  function post(url, payload) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(payload),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) throw new Error(data.message || "Something went wrong; try again.");
        return data;
      });
    });
  }

  function windows() {
    var found = [];
    for (var n = 0; n < 3; n++) {
      var start = form.elements["start" + n].value, end = form.elements["end" + n].value;
      if (start && end) {
        found.push({ start: new Date(start).toISOString(), end: new Date(end).toISOString() });
      }
    }
    return found;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    error.textContent = "";
    button.disabled = true;
    var step = codeSent
      ? post(body.dataset.bookingUrl, {
          name: value("name"), phone: value("phone"), address: value("address"),
          description: value("description"), passcode: value("passcode"),
          preferred_windows: windows(),
        }).then(function () {
          form.hidden = true;
          document.getElementById("headline").textContent = "Request sent";
          document.getElementById("done").hidden = false;
        })
      : post(body.dataset.passcodeUrl, { phone: value("phone") }).then(function () {
          codeSent = true;
          codeStep.hidden = false;
          button.textContent = "Send my request";
          form.elements.passcode.focus();
        });
    step.catch(function (failure) { error.textContent = failure.message; })
      .then(function () { button.disabled = false; });
  });
})();
