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
