// The console's script. Pages work without it; it adds the sign-in (below) and a
// print-ready page's button, which opens the browser's print dialog. "Check a document"
// hashes files in static/digest.js, a module.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const print = document.getElementById("print");
  if (print) print.addEventListener("click", () => window.print());
});

// An encrypted PKCS#8 key (`coopledger keygen --encrypt`): PBES2 with PBKDF2-HMAC-SHA256
// and AES-256-CBC, decrypted with WebCrypto alone (ADR 0024). A few lines of DER reading
// find the salt, the iteration count and the IV; everything cryptographic is the
// browser's. A key protected with scrypt (earlier versions) is named as such, since
// browsers have no scrypt: `coopledger keygen --from OLD --out NEW --encrypt` re-protects it.
const OID = {
  pbes2: "2a864886f70d01050d",
  pbkdf2: "2a864886f70d01050c",
  scrypt: "2b06010401da470b",
  hmacSha256: "2a864886f70d0209",
  aes256cbc: "60864801650304012a",
};
const hexOf = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
// One DER element at `at`: its tag and where its contents start and end.
function derAt(b, at) {
  const tag = b[at];
  let len = b[at + 1];
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[start + i];
    start += n;
  }
  if (start + len > b.length) throw new Error("truncated");
  return { tag, start, end: start + len, body: () => b.subarray(start, start + len) };
}
function derKids(b, e) {
  const out = [];
  for (let at = e.start; at < e.end; at = out[out.length - 1].end) out.push(derAt(b, at));
  return out;
}
async function decryptPkcs8(der, passphrase, msgs) {
  const [alg, data] = derKids(der, derAt(der, 0));
  const [algOid, pbes2] = derKids(der, alg);
  if (hexOf(algOid.body()) !== OID.pbes2) throw new Error(msgs.unsupported);
  const [kdf, scheme] = derKids(der, pbes2);
  const [kdfOid, kdfParams] = derKids(der, kdf);
  if (hexOf(kdfOid.body()) === OID.scrypt) throw new Error(msgs.scrypt);
  if (hexOf(kdfOid.body()) !== OID.pbkdf2) throw new Error(msgs.unsupported);
  const p = derKids(der, kdfParams);
  const salt = p[0].body();
  const iterations = p[1].body().reduce((n, x) => n * 256 + x, 0);
  const prf = p.find((e) => e.tag === 0x30);
  if (!prf || hexOf(derKids(der, prf)[0].body()) !== OID.hmacSha256) throw new Error(msgs.unsupported);
  const [encOid, iv] = derKids(der, scheme);
  if (hexOf(encOid.body()) !== OID.aes256cbc) throw new Error(msgs.unsupported);
  const base = await crypto.subtle.importKey("raw", new TextEncoder().encode(passphrase),
    "PBKDF2", false, ["deriveKey"]);
  const aes = await crypto.subtle.deriveKey(
    { name: "PBKDF2", salt, iterations, hash: "SHA-256" }, base,
    { name: "AES-CBC", length: 256 }, false, ["decrypt"]);
  try {
    return new Uint8Array(await crypto.subtle.decrypt({ name: "AES-CBC", iv: iv.body() }, aes,
      data.body()));
  } catch (_) {
    throw new Error(msgs.wrong);
  }
}

// The person's key, from the file chosen on the page (and its passphrase, if the file
// is protected), imported into WebCrypto as a non-extractable Ed25519 signing key. The
// form's data-msg-* attributes give the messages in the reader's language.
async function openKey(form) {
  if (!window.crypto || !crypto.subtle) throw new Error(form.dataset.msgNocrypto);
  const file = document.getElementById("key-file").files[0];
  const pem = await file.text();
  const b64 = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  let der = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  if (pem.includes("ENCRYPTED")) {
    const pass = document.getElementById("key-pass").value;
    if (!pass) throw new Error(form.dataset.msgPassphrase);
    document.getElementById(form.dataset.status || "login-status").textContent =
      form.dataset.msgOpening;
    der = await decryptPkcs8(der, pass, {
      scrypt: form.dataset.msgScrypt,
      wrong: form.dataset.msgWrongPassphrase,
      unsupported: form.dataset.msgUnsupported,
    });
  }
  try {
    return await crypto.subtle.importKey("pkcs8", der, { name: "Ed25519" }, false, ["sign"]);
  } catch (_) {
    throw new Error(form.dataset.msgNocrypto);
  }
}

const fromHex = (h) => Uint8Array.from(h.match(/../g) || [], (x) => parseInt(x, 16));

// Sign-in on a node: only the signature of the one-time challenge is sent; neither the
// key file nor the passphrase leaves the page.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("login-form");
  if (!form) return;
  const status = document.getElementById("login-status");
  const say = (msg) => { status.textContent = msg; };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const id = document.getElementById("login-id").value.trim();
      const key = await openKey(form);
      say(form.dataset.msgSigning);
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

// Signing an act (the compose page): the node drafted the body and computed the bytes
// to sign from it (shown above in readable form); the key signs them here, the signature
// is checked against the key the ledger registers for this person before anything is
// sent, and the signed event goes to the node's API. The receipt is then checked
// against what was signed and shown.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("sign-form");
  if (!form) return;
  form.dataset.status = "sign-status";
  const status = document.getElementById("sign-status");
  const say = (msg) => { status.textContent = msg; };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const button = document.getElementById("sign-submit");
    button.disabled = true;
    try {
      const key = await openKey(form);
      say(form.dataset.msgSigning);
      const message = fromHex(form.dataset.signingMessage);
      const sig = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key, message));
      const registered = await crypto.subtle.importKey("raw", fromHex(form.dataset.key),
        { name: "Ed25519" }, false, ["verify"]);
      if (!(await crypto.subtle.verify({ name: "Ed25519" }, registered, sig, message))) {
        throw new Error(form.dataset.msgNotYours);
      }
      const event = { body: JSON.parse(form.dataset.body), signature: hexOf(sig) };
      const r = await fetch("/v2/events", {
        method: "POST",
        headers: { "content-type": "application/json",
                   "accept-language": document.documentElement.lang },
        body: JSON.stringify(event),
      });
      const answer = await r.json();
      if (!r.ok) throw new Error(answer.message || String(r.status));
      if (answer.event_hash !== form.dataset.eventHash ||
          answer.ledger_id !== event.body.ledger_id) {
        throw new Error(form.dataset.msgMismatch);
      }
      // The receipt, checked here against what was signed (docs/FORMAT.md §12).
      const { verifyReceipt } = await import("/static/receipt.js");
      const eventBytes = new Uint8Array([...fromHex(form.dataset.bodyBytes), ...sig]);
      const checked = await verifyReceipt(answer, eventBytes, form.dataset.eventHash,
        JSON.parse(form.dataset.nodeKeys));
      const verdict = document.getElementById("receipt-verified");
      verdict.textContent = checked.ok ? form.dataset.msgVerified
        : form.dataset.msgUnverified + " (" + checked.why + ")";
      verdict.className = checked.ok ? "ok" : "bad";
      // Kept on the page, as the clerk's evidence (and for the browser tests).
      document.getElementById("receipt").dataset.receipt = JSON.stringify(answer);
      document.getElementById("receipt").dataset.event = hexOf(eventBytes);
      document.getElementById("receipt-seq").textContent = "#" + answer.seq;
      document.getElementById("receipt-event-hash").textContent = answer.event_hash;
      const size = (answer.checkpoint.split("\n")[1] || "").trim();
      document.getElementById("receipt-checkpoint").textContent = size;
      // The act is recorded: the draft kept in this browser is done with.
      const drafted = document.getElementById("request-form");
      if (drafted && drafted.dataset.draft) {
        const { draftKey } = await import("/static/digest.js");
        localStorage.removeItem(draftKey(drafted));
      }
      document.getElementById("receipt").hidden = false;
      form.hidden = true;
      say(form.dataset.msgLanded);
    } catch (err) {
      say(err.message);
      button.disabled = false;
    }
  });
});

// A live desk (/inbox, /outbox on a node as it stands now): the node announces each new
// ledger size (/desk/live, server-sent events) and the page fetches itself again — the
// same page, under the same checks — and swaps in the fresh list. The stream carries no
// record.
const desk = document.getElementById("desk");
if (desk && desk.dataset.live && window.EventSource) {
  let shown = Number(desk.dataset.size);
  let latest = shown;
  let busy = false;
  const refresh = async () => {
    busy = true;
    try {
      while (latest > shown) {
        const target = latest;
        const r = await fetch(location.href, { credentials: "same-origin" });
        if (!r.ok) break;
        const fresh = new DOMParser().parseFromString(await r.text(), "text/html").getElementById("desk");
        if (!fresh) break;
        desk.innerHTML = fresh.innerHTML;
        shown = Math.max(Number(fresh.dataset.size), target);
        desk.dataset.size = String(shown);
        const note = document.getElementById("desk-live");
        if (note) note.textContent = note.dataset.msgUpdated + " " + new Date().toLocaleTimeString();
      }
    } finally {
      busy = false;
    }
  };
  new EventSource(desk.dataset.live).addEventListener("size", (e) => {
    latest = Math.max(latest, Number(e.data));
    if (!busy && latest > shown) refresh();
  });
}
