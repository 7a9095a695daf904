// Optional: the page works without it. While a reply is being sent (a live check
// may take a few seconds), say so, and keep a second click from sending it twice.
"use strict";
document.documentElement.setAttribute("data-script", "on");
document.addEventListener("submit", function (event) {
  var form = event.target;
  var progress = document.getElementById("progress");
  if (progress && form.getAttribute("action") === "/") {
    progress.hidden = false;
  }
  if (form.dataset.sent === "yes") {
    event.preventDefault();
    return;
  }
  if (form.getAttribute("action") === "/") {
    form.dataset.sent = "yes";
  }
});
