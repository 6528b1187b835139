// "Check a document": the chosen or dropped file is hashed here, in the browser, with
// blake3 from @noble/hashes (pinned and vendored: static/noble/MANIFEST), and only its
// digest is looked up. The documents of a case are restricted information; the node
// never receives the file (it takes no file bodies at all).
import { blake3 } from "./noble/blake3.js";

const CHUNK = 1 << 20;

/// The blake3 digest (hex) of a File, read a megabyte at a time.
export async function digestOf(file) {
  const h = blake3.create();
  for (let at = 0; at < file.size; at += CHUNK) {
    h.update(new Uint8Array(await file.slice(at, at + CHUNK).arrayBuffer()));
  }
  return Array.from(h.digest(), (b) => b.toString(16).padStart(2, "0")).join("");
}

const file = document.getElementById("doc-file");
const drop = document.getElementById("drop");
const digest = document.getElementById("digest");
const form = document.getElementById("doc-form");
const status = document.getElementById("doc-status");
if (file && digest && form) {
  const check = async (f) => {
    if (!f) return;
    if (status) status.textContent = form.dataset.msgHashing;
    digest.value = await digestOf(f);
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
}

// The request form (/compose/Request): each element's file is hashed here, like a
// document to check; its digest, size and type fill the form's hidden fields, and only
// they are sent when the draft is checked.
const requestForm = document.getElementById("request-form");
if (requestForm) {
  for (const input of requestForm.querySelectorAll("input[type=file][data-doc]")) {
    input.addEventListener("change", async () => {
      const f = input.files[0];
      if (!f) return;
      const name = input.dataset.doc;
      const status = document.getElementById("request-status");
      if (status) status.textContent = requestForm.dataset.msgHashing;
      const hex = await digestOf(f);
      requestForm.elements[name + ".digest"].value = hex;
      requestForm.elements[name + ".size"].value = String(f.size);
      requestForm.elements[name + ".type"].value = f.type || "application/octet-stream";
      document.getElementById(name + "-shown").textContent = hex.slice(0, 16) + "…";
      if (status) status.textContent = "";
    });
  }
}

// Drafts are kept in this browser only (localStorage), never on the node: a clerk may
// stop halfway and come back. A draft holds the form's fields — documents as their
// digests, sizes and types, never the files — under its kind and case. It is restored
// into an unchecked form (a checked one shows what the clerk sent), and forgotten when
// the clerk asks or the act lands (static/console.js).
export function draftKey(form) {
  const kind = form.dataset.draft || "";
  // A new request chooses its case id when drafted: its draft keeps that id.
  const caseField = kind === "Request" ? null : form.elements["case"];
  return "coopledger.draft." + kind + "." + (caseField ? caseField.value : "");
}

if (requestForm && requestForm.dataset.draft) {
  const key = draftKey(requestForm);
  const status = document.getElementById("request-status");
  const fields = () => {
    const out = {};
    for (const el of requestForm.elements) {
      if (!el.name || el.type === "file" || el.name === "check") continue;
      if (el.type === "checkbox") out[el.name] = el.checked;
      else out[el.name] = el.value;
    }
    return out;
  };
  const save = document.getElementById("draft-save");
  if (save) {
    save.addEventListener("click", () => {
      try {
        localStorage.setItem(key, JSON.stringify(fields()));
        if (status) status.textContent = requestForm.dataset.msgSaved || "";
      } catch (e) {
        if (status) status.textContent = String(e);
      }
    });
  }
  const forget = document.getElementById("draft-forget");
  if (forget) forget.addEventListener("click", () => { localStorage.removeItem(key); if (status) status.textContent = ""; });
  const checked = new URLSearchParams(location.search).has("check");
  const kept = localStorage.getItem(key);
  if (kept && !checked) {
    try {
      const values = JSON.parse(kept);
      for (const [name, value] of Object.entries(values)) {
        const el = requestForm.elements[name];
        if (!el || el.type === "file") continue;
        if (el.type === "checkbox") el.checked = value === true;
        else el.value = value;
        if (name.endsWith(".digest") && value) {
          const shown = document.getElementById(name.slice(0, -".digest".length) + "-shown");
          if (shown) shown.textContent = value.slice(0, 16) + "…";
        }
      }
      if (status) status.textContent = requestForm.dataset.msgRestored || "";
    } catch (_) {
      localStorage.removeItem(key);
    }
  }
}
