// The password-reset page (templates/site/reset_password.html): checks that the two entries
// agree, posts {token, newPassword} to the API with fetch() and shows its answer. A file, not an
// inline script: the page's Content-Security-Policy allows scripts from 'self' only.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("reset");
  const outcome = document.getElementById("outcome");
  if (!form) return;

  const show = (text, kind) => {
    outcome.textContent = text;
    outcome.className = kind;
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const password = form.elements.password.value;
    if (!password) return show("Enter a new password.", "error");
    if (password !== form.elements.confirmation.value) {
      return show("The two entries differ: type the same password twice.", "error");
    }
    const button = form.querySelector("button");
    button.disabled = true;
    show("Saving…", "");
    try {
      const response = await fetch(form.dataset.endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ token: form.elements.token.value, newPassword: password }),
        credentials: "omit",
      });
      const body = await response.json().catch(() => null);
      if (response.ok) {
        form.hidden = true;
        return show(body?.data?.message || "Password changed.", "ok");
      }
      const error = body?.error || {};
      const details = (error.details || []).map((item) => item.message).filter(Boolean);
      show([error.message || `The server answered ${response.status}.`, ...details].join(" "), "error");
    } catch (failure) {
      show("The server could not be reached. Try again.", "error");
    }
    button.disabled = false;
  });
});
