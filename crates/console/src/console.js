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

// Sign-in on a node: the key file is read here and imported into WebCrypto as a
// non-extractable Ed25519 key; only the signature of the one-time challenge is sent.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("login-form");
  if (!form) return;
  const status = document.getElementById("login-status");
  const say = (msg) => { status.textContent = msg; };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      if (!window.crypto || !crypto.subtle) throw new Error(form.dataset.msgNocrypto);
      const file = document.getElementById("key-file").files[0];
      const id = document.getElementById("login-id").value.trim();
      const pem = await file.text();
      if (pem.includes("ENCRYPTED")) throw new Error(form.dataset.msgEncrypted);
      const b64 = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
      const der = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      say(form.dataset.msgSigning);
      let key;
      try {
        key = await crypto.subtle.importKey("pkcs8", der, { name: "Ed25519" }, false, ["sign"]);
      } catch (_) {
        throw new Error(form.dataset.msgNocrypto);
      }
      const msg = "coopledger console login\n" + location.host + "\n" + id + "\n" +
        form.dataset.challenge + "\n";
      const sig = new Uint8Array(
        await crypto.subtle.sign({ name: "Ed25519" }, key, new TextEncoder().encode(msg)));
      document.getElementById("login-signature").value =
        btoa(String.fromCharCode.apply(null, Array.from(sig)));
      form.submit();
    } catch (err) {
      say(err.message);
    }
  });
});
