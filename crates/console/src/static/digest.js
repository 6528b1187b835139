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
