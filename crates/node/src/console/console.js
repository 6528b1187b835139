// The console's only script. Pages work without it; it adds two conveniences:
// a dropped or chosen file is hashed by the console (blake3, which browsers lack) and
// looked up; a print-ready page's button opens the browser's print dialog.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const print = document.getElementById("print");
  if (print) print.addEventListener("click", () => window.print());

  const file = document.getElementById("doc-file");
  const drop = document.getElementById("drop");
  const digest = document.getElementById("digest");
  const form = document.getElementById("doc-form");
  if (!file || !digest || !form) return;
  const check = async (f) => {
    if (!f) return;
    const r = await fetch(file.dataset.digestUrl, { method: "POST", body: f });
    if (!r.ok) return;
    digest.value = (await r.text()).trim();
    form.submit();
  };
  file.addEventListener("change", () => check(file.files[0]));
  if (drop) {
    drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (e) => {
      e.preventDefault();
      drop.classList.remove("over");
      check(e.dataTransfer.files[0]);
    });
    drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") file.click(); });
  }
});
