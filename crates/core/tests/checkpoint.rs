//! Checkpoint notes: signing, cosigning, the one verification entry point, and malformed
//! input.

// In test code a panic is a failed test, so indexing and expect are fine here.
#![allow(
    clippy::indexing_slicing,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic
)]

use coop_core::checkpoint::{
    Checkpoint, CheckpointError, Note, NoteError, NoteVerifier, SigAlg, cosign, keep_verified,
    sign_checkpoint, verify_checkpoint,
};
use coop_core::{Hash, LedgerId, SecretKey, Timestamp};

fn cp() -> Checkpoint {
    Checkpoint {
        ledger_id: LedgerId(Hash([0x11; 32])),
        size: 42,
        root: Hash([0x22; 32]),
        chain_head: Hash([0x33; 32]),
        time: Timestamp(1_764_000_000_123),
    }
}

struct Keys {
    node: SecretKey,
    kz: SecretKey,
    tm: SecretKey,
}

fn keys() -> Keys {
    Keys {
        node: SecretKey::from_seed(&[10; 32]),
        kz: SecretKey::from_seed(&[11; 32]),
        tm: SecretKey::from_seed(&[12; 32]),
    }
}

fn node_v(k: &Keys) -> NoteVerifier {
    coop_core::checkpoint::node_verifier(&cp().ledger_id, k.node.public())
}

const ORIGIN: &str = "coopledger/1111111111111111111111111111111111111111111111111111111111111111";

fn witnesses(k: &Keys) -> Vec<NoteVerifier> {
    vec![
        NoteVerifier {
            name: "witness.kz".into(),
            key: k.kz.public(),
            alg: SigAlg::CosignatureV1,
        },
        NoteVerifier {
            name: "witness.tm".into(),
            key: k.tm.public(),
            alg: SigAlg::CosignatureV1,
        },
    ]
}

#[test]
fn sign_cosign_verify() -> anyhow::Result<()> {
    let k = keys();
    let note = sign_checkpoint(&cp(), &k.node)?;
    let v = verify_checkpoint(&note, &node_v(&k), &witnesses(&k))?;
    assert_eq!(v.checkpoint, cp());
    assert!(v.cosigned.is_empty());

    let note = cosign(&note, "witness.kz", &k.kz, 1_764_000_001)?;
    let note = cosign(&note, "witness.tm", &k.tm, 1_764_000_002)?;
    let v = verify_checkpoint(&note, &node_v(&k), &witnesses(&k))?;
    let names: Vec<_> = v.cosigned.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["witness.kz", "witness.tm"]);
    assert_eq!(v.cosigned[0].time, 1_764_000_001);
    // Re-cosigning replaces, it does not pile up.
    let again = cosign(&note, "witness.kz", &k.kz, 1_764_000_009)?;
    assert_eq!(Note::parse(&again)?.signatures.len(), 3);
    Ok(())
}

#[test]
fn text_form_is_the_c2sp_checkpoint_layout() -> anyhow::Result<()> {
    let k = keys();
    let note = sign_checkpoint(&cp(), &k.node)?;
    let mut lines = note.lines();
    assert_eq!(
        lines.next(),
        Some("coopledger/1111111111111111111111111111111111111111111111111111111111111111")
    );
    assert_eq!(lines.next(), Some("42"));
    assert_eq!(
        lines.next(),
        Some("IiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiI=")
    );
    assert!(lines.next().is_some_and(|l| l.starts_with("chain ")));
    assert_eq!(lines.next(), Some("time 1764000000123"));
    assert_eq!(lines.next(), Some(""));
    assert!(
        lines
            .next()
            .is_some_and(|l| l.starts_with(&format!("\u{2014} {ORIGIN} ")))
    );
    Ok(())
}

#[test]
fn vkey_round_trip() -> anyhow::Result<()> {
    let k = keys();
    for v in std::iter::once(node_v(&k)).chain(witnesses(&k)) {
        assert_eq!(NoteVerifier::from_vkey(&v.to_vkey())?, v);
    }
    let mut bad = node_v(&k).to_vkey();
    bad.replace_range(
        bad.find('+').map_or(0, |i| i + 1)..bad.find('+').map_or(0, |i| i + 3),
        "zz",
    );
    assert!(NoteVerifier::from_vkey(&bad).is_err());
    assert!(NoteVerifier::from_vkey("a+b").is_err());
    Ok(())
}

#[test]
fn altered_checkpoints_are_refused() -> anyhow::Result<()> {
    let k = keys();
    let note = sign_checkpoint(&cp(), &k.node)?;
    let note = cosign(&note, "witness.kz", &k.kz, 1_764_000_001)?;
    // Changing the origin makes it another log's checkpoint: the key is not its key.
    let forged = note.replacen("coopledger/11", "coopledger/12", 1);
    assert!(matches!(
        verify_checkpoint(&forged, &node_v(&k), &witnesses(&k)),
        Err(CheckpointError::KeyName { .. })
    ));
    // Changing the size, the root or the time breaks the node signature.
    for (from, to) in [
        ("\n42\n", "\n43\n"),
        ("IiIiIiIi", "IiIiIiIj"),
        ("time 1764000000123", "time 1764000000124"),
    ] {
        let forged = note.replacen(from, to, 1);
        assert_ne!(forged, note);
        let r = verify_checkpoint(&forged, &node_v(&k), &witnesses(&k));
        assert!(
            matches!(
                r,
                Err(CheckpointError::Note(NoteError::BadSignature { .. }))
            ),
            "{from} -> {to}: {r:?}"
        );
    }
    // A node signature by another key is missing, not "valid".
    let other = sign_checkpoint(&cp(), &k.kz)?;
    assert!(matches!(
        verify_checkpoint(&other, &node_v(&k), &[]),
        Err(CheckpointError::Note(NoteError::MissingSignature(_)))
    ));
    // A cosignature line from a known witness that does not verify is an error.
    let lines: Vec<&str> = note.lines().collect();
    let last = lines.last().copied().unwrap_or_default();
    let mut tampered_sig = last.to_owned();
    let tail = tampered_sig
        .pop()
        .map_or('A', |c| if c == 'A' { 'B' } else { 'A' });
    // Changing the final base64 char before '=' padding, if any, keeps it decodable.
    let fixed = if last.ends_with('=') {
        let mut s = last.trim_end_matches('=').to_owned();
        let c = s.pop().unwrap_or('A');
        s.push(if c == 'A' { 'E' } else { 'A' });
        s + &"=".repeat(last.len() - last.trim_end_matches('=').len())
    } else {
        tampered_sig.push(tail);
        tampered_sig
    };
    let forged = note.replace(last, &fixed);
    assert!(matches!(
        verify_checkpoint(&forged, &node_v(&k), &witnesses(&k)),
        Err(CheckpointError::Note(NoteError::BadSignature { .. }))
    ));
    // Unknown signature lines are ignored.
    let extra = format!("{note}\u{2014} someone.else AAAAAAAAAAAAAAAA\n");
    assert!(verify_checkpoint(&extra, &node_v(&k), &witnesses(&k)).is_ok());
    Ok(())
}

#[test]
fn malformed_notes_are_clean_errors() {
    let k = keys();
    let body = cp().body();
    let cases: Vec<(&str, String)> = vec![
        ("empty", String::new()),
        ("no blank line", body.clone()),
        ("no signatures", format!("{body}\n")),
        ("sig without dash", format!("{body}\nnode AAAAAAAA\n")),
        ("sig not base64", format!("{body}\n\u{2014} node !!!!\n")),
        ("sig too short", format!("{body}\n\u{2014} node AAAA\n")),
        (
            "no final newline",
            format!("{body}\n\u{2014} node AAAAAAAA"),
        ),
        (
            "control char",
            format!("{body}\r\n\u{2014} node AAAAAAAA\n"),
        ),
        ("huge", "x".repeat(70_000)),
        ("garbage", "\u{2014}\n\n\n".into()),
    ];
    for (what, text) in cases {
        let r = verify_checkpoint(&text, &node_v(&k), &[]);
        assert!(r.is_err(), "{what}: accepted");
    }
}

#[test]
fn non_canonical_bodies_are_refused() {
    let good = cp().body();
    for (from, to) in [
        ("\n42\n", "\n042\n"),
        ("\n42\n", "\n+42\n"),
        ("time 1764000000123", "time 01764000000123"),
        ("chain ", "chain  "),
        ("coopledger/1111", "coopledger/1111".to_uppercase().as_str()),
    ] {
        let bad = good.replacen(from, to, 1);
        assert!(Checkpoint::parse_body(&bad).is_err(), "{from} -> {to}");
    }
    assert!(Checkpoint::parse_body(&format!("{good}extra\n")).is_err());
    assert!(Checkpoint::parse_body(&good).is_ok());
}

/// Replaces the last base64 character before any padding of `line` so the line still
/// decodes but the signature no longer verifies.
fn spoil(line: &str) -> String {
    let body = line.trim_end_matches('=');
    let pad = line.len() - body.len();
    let mut s = body.to_owned();
    let c = s.pop().unwrap_or('A');
    s.push(if c == 'A' { 'E' } else { 'A' });
    s + &"=".repeat(pad)
}

#[test]
fn a_second_invalid_line_from_a_known_key_is_refused() -> anyhow::Result<()> {
    let k = keys();
    let note = sign_checkpoint(&cp(), &k.node)?;
    let note = cosign(&note, "witness.kz", &k.kz, 1_764_000_001)?;
    let witness_line = note.lines().last().unwrap_or_default().to_owned();
    let node_line = note
        .lines()
        .find(|l| l.starts_with(&format!("\u{2014} {ORIGIN} ")))
        .unwrap_or_default()
        .to_owned();
    // A forged second line after a valid first one, for the witness and for the node.
    for line in [witness_line.clone(), node_line.clone()] {
        let forged = format!("{note}{}\n", spoil(&line));
        let r = verify_checkpoint(&forged, &node_v(&k), &witnesses(&k));
        assert!(
            matches!(
                r,
                Err(CheckpointError::Note(NoteError::BadSignature { .. }))
            ),
            "{r:?}"
        );
    }
    // The same valid line twice is refused too: a known key signs once.
    let twice = format!("{note}{witness_line}\n");
    assert!(matches!(
        verify_checkpoint(&twice, &node_v(&k), &witnesses(&k)),
        Err(CheckpointError::Duplicate(_))
    ));
    Ok(())
}

#[test]
fn the_node_key_must_be_named_after_the_origin() -> anyhow::Result<()> {
    let k = keys();
    let note = sign_checkpoint(&cp(), &k.node)?;
    let renamed = NoteVerifier {
        name: "coopledger-node".into(),
        key: k.node.public(),
        alg: SigAlg::Ed25519,
    };
    assert!(matches!(
        verify_checkpoint(&note, &renamed, &[]),
        Err(CheckpointError::KeyName { .. })
    ));
    assert_eq!(node_v(&k).name, ORIGIN);
    Ok(())
}

#[test]
fn cosignature_times_beyond_2_63_are_refused() -> anyhow::Result<()> {
    let k = keys();
    let note = sign_checkpoint(&cp(), &k.node)?;
    assert!(cosign(&note, "witness.kz", &k.kz, 1 << 63).is_err());
    // A line claiming such a time, whatever its signature, is refused when verified.
    let good = cosign(&note, "witness.kz", &k.kz, 5)?;
    let parsed = Note::parse(&good)?;
    let mut forged = parsed.clone();
    if let Some(s) = forged.signatures.last_mut() {
        s.sig[..8].copy_from_slice(&u64::MAX.to_be_bytes());
    }
    let r = verify_checkpoint(&forged.render(), &node_v(&k), &witnesses(&k));
    assert!(matches!(r, Err(CheckpointError::Body(_))), "{r:?}");
    Ok(())
}

#[test]
fn a_node_keeps_only_lines_that_verified() -> anyhow::Result<()> {
    let k = keys();
    let note = sign_checkpoint(&cp(), &k.node)?;
    let note = cosign(&note, "witness.kz", &k.kz, 1_764_000_001)?;
    let mut junk = note.clone();
    for i in 0..90 {
        junk.push_str(&format!("\u{2014} junk{i} AAAAAAAAAAAAAAAA\n"));
    }
    let kept = keep_verified(&junk, &node_v(&k), &witnesses(&k))?;
    assert_eq!(kept.note.signatures.len(), 2);
    assert_eq!(kept.note.render(), note);
    // With room freed, the other Party's witness can still cosign.
    let both = cosign(&kept.note.render(), "witness.tm", &k.tm, 1_764_000_002)?;
    assert_eq!(
        verify_checkpoint(&both, &node_v(&k), &witnesses(&k))?
            .cosigned
            .len(),
        2
    );
    Ok(())
}

#[test]
fn a_witness_finds_its_own_cosignature_and_nothing_else() -> anyhow::Result<()> {
    use coop_core::checkpoint::own_cosignature;
    let k = keys();
    let w = witnesses(&k);
    let note = sign_checkpoint(&cp(), &k.node)?;
    assert_eq!(own_cosignature(&note, &w[0])?, None);
    let mine = cosign(&note, "witness.kz", &k.kz, 77)?;
    assert_eq!(own_cosignature(&mine, &w[0])?, Some((cp(), 77)));
    // The other witness's line is not this witness's.
    let theirs = cosign(&note, "witness.tm", &k.tm, 78)?;
    assert_eq!(own_cosignature(&theirs, &w[0])?, None);
    // A line under its name that does not verify is an error, never "not cosigned".
    let mut forged = Note::parse(&mine)?;
    if let Some(s) = forged.signatures.last_mut() {
        s.sig[20] ^= 1;
    }
    assert!(own_cosignature(&forged.render(), &w[0]).is_err());
    // A node key is not a witness key.
    assert!(own_cosignature(&mine, &node_v(&k)).is_err());
    Ok(())
}
