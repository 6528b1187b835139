// A node's receipt, verified in the browser exactly as docs/FORMAT.md §12 says, so that
// a clerk's "recorded" does not rest on the node's word: the checkpoint is signed by a
// node key the ledger names (§8), the record is in that checkpoint's tree (§7), and the
// record is the event the clerk signed (§6). Ed25519 and SHA-256 are the browser's
// (WebCrypto); blake3 is @noble/hashes' (vendored, pinned: static/noble/MANIFEST).
import { blake3 } from "./noble/blake3.js";

const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (h) => Uint8Array.from(h.match(/../g) || [], (x) => parseInt(x, 16));
const unb64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const cat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
};
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const tagged = (tag, ...parts) => blake3(cat(Uint8Array.of(tag), ...parts));

/// bincode's varint (docs/FORMAT.md §1), for a seq or a time (< 2^53 here).
export function varint(v) {
  const le = (n, bytes) => {
    const out = new Uint8Array(bytes);
    for (let i = 0; i < bytes; i++) { out[i] = n % 256; n = Math.floor(n / 256); }
    return out;
  };
  if (v < 251) return Uint8Array.of(v);
  if (v < 2 ** 16) return cat(Uint8Array.of(0xfb), le(v, 2));
  if (v < 2 ** 32) return cat(Uint8Array.of(0xfc), le(v, 4));
  return cat(Uint8Array.of(0xfd), le(v, 8));
}

/// RFC 9162 §2.1.3.2: the root an inclusion proof leads to from `leaf` at `index` in a
/// tree of `size` leaves (`null`: the proof does not fit the tree).
export function rootFrom(index, size, leaf, proof) {
  if (index >= size) return null;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = tagged(0x01, p, r);
      while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = tagged(0x01, r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

/// Verifies `receipt` (receipt v2 JSON) for the event whose canonical bytes are
/// `eventBytes` (body || signature) and whose hash is `eventHash` (hex), under the node
/// keys the ledger names (`nodeKeys`: [{key: hex, from_size, until_size}]). Answers
/// `{ok: true, size}` or `{ok: false, why}`.
export async function verifyReceipt(receipt, eventBytes, eventHash, nodeKeys) {
  const fail = (why) => ({ ok: false, why });
  if (receipt.format !== "coopledger/receipt/v2") return fail("format");
  // §8: the note's text, then its signature lines.
  const note = receipt.checkpoint;
  const split = note.indexOf("\n\n");
  if (split < 0) return fail("checkpoint: no signature");
  const text = note.slice(0, split + 1);
  const lines = text.split("\n");
  const origin = lines[0];
  if (origin !== "coopledger/" + receipt.ledger_id) return fail("checkpoint: another ledger");
  const size = Number(lines[1]);
  if (!/^(0|[1-9][0-9]*)$/.test(lines[1])) return fail("checkpoint: size");
  const root = unb64(lines[2]);
  const chainHead = unb64((lines[3] || "").replace(/^chain /, ""));
  const key = nodeKeys.find((k) => k.from_size <= size && (k.until_size === null || size < k.until_size));
  if (!key) return fail("checkpoint: no node key the ledger names for size " + size);
  const pub = unhex(key.key);
  const name = new TextEncoder().encode(origin);
  const id = new Uint8Array(await crypto.subtle.digest("SHA-256",
    cat(name, Uint8Array.of(0x0a, 0x01), pub))).slice(0, 4);
  const sigLine = note.slice(split + 2).split("\n").find((l) => l.startsWith("\u2014 " + origin + " "));
  if (!sigLine) return fail("checkpoint: not signed by the node");
  const raw = unb64(sigLine.slice(("\u2014 " + origin + " ").length));
  if (!same(raw.slice(0, 4), id)) return fail("checkpoint: another node key");
  const verifier = await crypto.subtle.importKey("raw", pub, { name: "Ed25519" }, false, ["verify"]);
  if (!(await crypto.subtle.verify({ name: "Ed25519" }, verifier, raw.slice(4),
    new TextEncoder().encode(text)))) {
    return fail("checkpoint: the node's signature does not verify");
  }
  // §12 steps 3-5: the record is in the signed tree.
  if (!(receipt.seq < size)) return fail("the record is beyond the checkpoint");
  const leaf = unhex(receipt.leaf);
  const prev = unhex(receipt.prev_chain);
  const chain = tagged(0x02, prev, leaf);
  if (hex(chain) !== receipt.chain) return fail("chain");
  if (receipt.seq === size - 1 && !same(chain, chainHead)) return fail("chain head");
  const r = rootFrom(receipt.seq, size, leaf, receipt.proof.map(unhex));
  if (!r || !same(r, root)) return fail("inclusion proof");
  // Step 6: the record is this event.
  if (receipt.event_hash !== eventHash) return fail("another event");
  const record = cat(varint(receipt.seq), prev, varint(receipt.received_at),
    unhex(receipt.governance), eventBytes);
  if (hex(tagged(0x00, record)) !== receipt.leaf) return fail("the record is not this event");
  return { ok: true, size };
}
