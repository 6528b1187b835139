//! The files the README's tour uses.

use super::*;

/// The request of docs/examples/request.json, which every test parses.
pub(super) const EXAMPLE_REQUEST: &str = include_str!("../../../../docs/examples/request.json");

/// What the README's tour uses, written into the demo's directory so that the tour runs
/// as written on any demo ledger: the node key an auditor pins (`node.vkey`), the
/// disputed case and the record that raised its dispute (`tour/disputed-case`,
/// `tour/dispute-raised-at`), a request the Agreement refuses (Art. 4.1(5): the
/// decision's copy is not certified) and an event the ledger accepts (a language
/// arrangement proposed by TM-MVD), each naming its signer's key in `keys/`.
pub(super) fn write_tour(
    root: &std::path::Path,
    vkey: &str,
    disputed: &coop_core::CaseId,
    raised: u64,
) -> anyhow::Result<()> {
    let tour = root.join("tour");
    std::fs::create_dir_all(&tour)?;
    std::fs::write(root.join("node.vkey"), format!("{vkey}\n"))?;
    std::fs::write(tour.join("disputed-case"), format!("{disputed}\n"))?;
    std::fs::write(tour.join("dispute-raised-at"), format!("{raised}\n"))?;
    let mut request: serde_json::Value = serde_json::from_str(EXAMPLE_REQUEST)?;
    let obj = request
        .as_object_mut()
        .ok_or_else(|| anyhow!("docs/examples/request.json is not an object"))?;
    obj.insert("key".into(), "../keys/KZ-MVD.pem".into());
    obj.remove("case");
    let copy = obj
        .get_mut("payload")
        .and_then(|p| p.get_mut("Request"))
        .and_then(|r| r.get_mut("elements"))
        .and_then(|e| e.get_mut("decision_copy"))
        .ok_or_else(|| anyhow!("docs/examples/request.json has no decision_copy"))?;
    // One document or a list of them: every one becomes a plain original.
    match copy {
        serde_json::Value::Array(docs) => {
            docs.iter_mut().for_each(|d| d["role"] = "Original".into())
        }
        d => d["role"] = "Original".into(),
    }
    std::fs::write(
        tour.join("request-uncertified.json"),
        serde_json::to_string_pretty(&request)? + "\n",
    )?;
    std::fs::write(
        tour.join("language-arrangement.toml"),
        "# TM-MVD proposes Russian for its communications with KZ-MVD (Art. 4.2).\n\
         signer = \"TM-MVD\"\n\
         key = \"../keys/TM-MVD.pem\"\n\
         [payload.LanguageArrangementProposed]\n\
         with = \"KZ-MVD\"\n\
         languages = [\"Ru\"]\n",
    )?;
    Ok(())
}

pub(super) fn doc_bytes(bytes: &[u8], language: Language) -> coop_treaty::DocumentRef {
    coop_treaty::DocumentRef {
        digest: Hash(*blake3::hash(bytes).as_bytes()),
        size: bytes.len() as u64,
        media_type: "text/plain; charset=utf-8".into(),
        language,
        role: DocRole::Original,
    }
}

/// Who asks whom: the ministries of internal affairs both ways, the security services
/// under their Russian-language arrangement, the financial-monitoring agency and the
/// prosecutor's office both ways, and the Art. 1.2 agreement's pair.
pub(super) fn pairs<'a>(
    kz: [&'a Actor; 3],
    tm: [&'a Actor; 3],
    other_crime: Hash,
    arrangement: Hash,
) -> Vec<Pair<'a>> {
    let [kz_mvd, kz_knb, kz_afm] = kz;
    let [tm_mvd, tm_mns, tm_gpo] = tm;
    let pair = |requester, requested, arranged: Option<(Vec<Language>, Hash)>, other_crime| Pair {
        requester,
        requested,
        arranged,
        other_crime,
    };
    let ru = || Some((vec![Language::Ru], arrangement));
    vec![
        pair(kz_mvd, tm_mvd, None, None),
        pair(tm_mvd, kz_mvd, None, None),
        pair(kz_knb, tm_mns, ru(), None),
        pair(tm_gpo, kz_afm, None, None),
        pair(kz_afm, tm_gpo, None, None),
        pair(tm_mns, kz_knb, ru(), None),
        pair(kz_mvd, tm_mvd, None, Some(other_crime)),
    ]
}
