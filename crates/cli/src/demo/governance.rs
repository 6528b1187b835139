//! The demo's governance: the Agreement constituted and in force, the context events, and the changes midway (keys rotated and revoked, a protocol).

use super::*;

/// Step 2: the genesis (a test ledger), its acceptance, the designations and
/// registrations, and both notifications: the Agreement in force. Returns the ledger, its
/// id and how many one-off events were submitted.
pub(super) fn constitute(
    dir: &LedgerDir,
    cast: &Cast,
    rng: &mut OsRng,
    st: &mut Steps,
) -> anyhow::Result<(Ledger<SledStore>, LedgerId, u64)> {
    st.say("\n2. Constituting the Agreement (Art. 3, 10).");
    st.say(&format!("   {}", show::TEST_LEDGER));
    let node_key = dir.prepare(None, rng)?;
    let kk = doc_bytes(AGREEMENT_KK, Language::Kk);
    let genesis = Payload::Genesis {
        roots: vec![
            RootKey {
                party: Party::Kz,
                authority: cast.kz_root.id.clone(),
                key: cast.kz_root.key.public(),
            },
            RootKey {
                party: Party::Tm,
                authority: cast.tm_root.id.clone(),
                key: cast.tm_root.key.public(),
            },
        ],
        // The repository holds the Kazakh original only; the Turkmen and Russian
        // digests here stand in for theirs.
        agreement_texts: vec![
            kk,
            doc(
                "Agreement, Turkmen text (stand-in)",
                Language::Tk,
                DocRole::Original,
            ),
            doc(
                "Agreement, Russian text (stand-in)",
                Language::Ru,
                DocRole::Original,
            ),
        ],
        params: Params::default(),
        node_key: node_key.public(),
        // The demo moves its clock to show deadlines and termination at work: only a
        // test ledger accepts that, and it says so everywhere.
        test_ledger: true,
    };
    let gen_event = coop_treaty::Draft {
        signer: cast.kz_root.id.clone(),
        ledger: None,
        event_id: EventId(rng.id16()),
        at: Timestamp(files::now_ms()),
        case: None,
        answers: vec![],
        payload: &genesis,
    }
    .sign(&cast.kz_root.key)?;
    let config = Config {
        checkpoint_every: 2_000,
        ..Config::default()
    };
    let (ledger, receipt) = dir.create(gen_event, node_key, config)?;
    let id = ledger.ledger_id().ok_or_else(|| anyhow!("no ledger id"))?;
    st.say(&format!(
        "   genesis by {} at record {}: ledger {id}\n   it commits to the Kazakh original (blake3 {})",
        cast.kz_root.id,
        receipt.seq,
        show::short(&doc_bytes(AGREEMENT_KK, Language::Kk).digest)
    ));
    let mut gov = Gov {
        ledger: &ledger,
        id,
        n: 0,
    };
    gov.submit(&cast.tm_root, Payload::GenesisAccepted)?;
    for (root, list) in [(&cast.kz_root, &cast.kz), (&cast.tm_root, &cast.tm)] {
        for a in list {
            gov.submit(
                root,
                Payload::AuthorityDesignated {
                    authority: a.id.clone(),
                    key: a.key.public(),
                    name: a.name.into(),
                },
            )?;
        }
    }
    for (root, who, role) in [
        (&cast.kz_root, &cast.auditor, Role::Auditor),
        (&cast.kz_root, &cast.kz_witness, Role::Witness),
        (&cast.tm_root, &cast.tm_witness, Role::Witness),
    ] {
        gov.submit(
            root,
            Payload::ObserverRegistered {
                id: who.id.clone(),
                role,
                key: who.key.public(),
            },
        )?;
    }
    for (root, list) in [(&cast.kz_root, &cast.kz), (&cast.tm_root, &cast.tm)] {
        gov.submit(
            root,
            Payload::InternalProceduresCompleted {
                authorities: list.iter().map(|a| a.id.clone()).collect(),
            },
        )?;
    }
    let in_force = ledger.with_state(|s| s.agreement.in_force_from())?;
    st.say(&format!(
        "   accepted by {}; 6 competent authorities designated; auditor and witnesses registered\n   both notifications of completed internal procedures received: in force from {}",
        cast.tm_root.id,
        in_force.map_or("?".into(), show::time)
    ));
    st.done("constitution");

    let n = gov.n;
    Ok((ledger, id, n))
}

/// Step 3, first part: an Art. 1.2 agreement on another crime, an Art. 4.2 language
/// arrangement and other forms of cooperation. Returns the agreement's and the
/// arrangement's event hashes, which cases cite.
pub(super) fn context_events(
    gov: &mut Gov<'_>,
    cast: &Cast,
    st: &mut Steps,
) -> anyhow::Result<(Hash, Hash)> {
    // Context events: an Art. 1.2 agreement on another crime, an Art. 4.2 language
    // arrangement, and other forms of cooperation (Art. 2.3-2.6).
    st.say("\n3. Cooperation: agreements between authorities, then the cases.");
    let [kz_mvd, kz_knb, kz_afm] = &cast.kz;
    let [tm_mvd, tm_mns, tm_gpo] = &cast.tm;
    let (_, other_crime) = gov.submit(
        tm_mvd,
        Payload::CategoryAgreed {
            with: kz_mvd.id.clone(),
            description: "illegal mining of cryptocurrency with stolen electricity".into(),
        },
    )?;
    let (_, proposal) = gov.submit(
        kz_knb,
        Payload::LanguageArrangementProposed {
            with: tm_mns.id.clone(),
            languages: vec![Language::Ru],
        },
    )?;
    let (_, arrangement) = gov.submit(tm_mns, Payload::LanguageArrangementAccepted { proposal })?;
    for (by, with, form, what) in [
        (
            kz_mvd,
            tm_mvd,
            coop_treaty::Form::ExchangeExperience,
            "seminar on drug-trafficking routes",
        ),
        (
            tm_gpo,
            kz_afm,
            coop_treaty::Form::ExchangeLegalActs,
            "exchange of anti-laundering regulations",
        ),
        (
            kz_knb,
            tm_mns,
            coop_treaty::Form::Training,
            "joint training in forensic IT",
        ),
        (
            tm_mvd,
            kz_mvd,
            coop_treaty::Form::ExchangeSpecialists,
            "exchange of forensic specialists",
        ),
    ] {
        gov.submit(
            by,
            Payload::OtherCooperation {
                form,
                with: with.id.clone(),
                summary: doc(what, Language::Ru, DocRole::Original),
            },
        )?;
    }
    st.say("   TM-MVD agreed with KZ-MVD to cooperate on a crime outside Art. 1.1 (Art. 1.2)");
    st.say("   KZ-KNB and TM-MNS agreed to write to each other in Russian (Art. 4.2)");
    st.say("   4 other forms of cooperation recorded (Art. 2.3-2.6)");

    Ok((other_crime, arrangement))
}

/// Step 4: keys rotated and revoked, a protocol in force. Returns KZ-AFM's and TM-GPO's
/// new actors and the record that revoked TM-GPO's old key.
pub(super) fn changes_midway(
    gov: &mut Gov<'_>,
    cast: &Cast,
    keydir: &std::path::Path,
    rng: &mut OsRng,
    st: &mut Steps,
) -> anyhow::Result<(Actor, Actor, u64)> {
    let [_, _, kz_afm] = &cast.kz;
    let [_, _, tm_gpo] = &cast.tm;
    st.say("\n4. Changes midway (Art. 3, 9): keys rotated and revoked, a protocol in force.");
    let afm_new = Actor::new("KZ-AFM", Party::Kz, kz_afm.name, keys::generate(rng))?;
    gov.submit(
        &cast.kz_root,
        Payload::AuthorityKeyChanged {
            authority: kz_afm.id.clone(),
            new_key: afm_new.key.public(),
        },
    )?;
    let (revoked_at, _) = gov.submit(
        &cast.tm_root,
        Payload::KeyRevoked {
            authority: tm_gpo.id.clone(),
            key: tm_gpo.key.public(),
        },
    )?;
    let gpo_new = Actor::new("TM-GPO", Party::Tm, tm_gpo.name, keys::generate(rng))?;
    gov.submit(
        &cast.tm_root,
        Payload::AuthorityKeyChanged {
            authority: tm_gpo.id.clone(),
            new_key: gpo_new.key.public(),
        },
    )?;
    keys::save(&afm_new.key, &keydir.join("KZ-AFM.2.pem"), None, rng)?;
    keys::save(&gpo_new.key, &keydir.join("TM-GPO.2.pem"), None, rng)?;
    let protocol = Params {
        refusal_notice_ms: 48 * 3_600_000,
        ..Params::default()
    };
    gov.submit(
        &cast.kz_root,
        Payload::ProtocolProposed {
            id: 1,
            text: doc(
                "Protocol No. 1: reasons for refusal within 48 hours",
                Language::Ru,
                DocRole::Original,
            ),
            params: protocol,
            effective_from: files::now_ms(),
        },
    )?;
    gov.submit(&cast.tm_root, Payload::ProtocolAccepted { id: 1 })?;
    // Art. 9: in force "as in Article 10", once both Parties completed their procedures.
    gov.submit(
        &cast.tm_root,
        Payload::ProtocolProceduresCompleted { id: 1 },
    )?;
    gov.submit(
        &cast.kz_root,
        Payload::ProtocolProceduresCompleted { id: 1 },
    )?;
    st.say("   KZ-AFM rotated its key; TM-GPO's key was revoked (compromised) and replaced");
    st.say("   Protocol No. 1 proposed by Kazakhstan, accepted by Turkmenistan, in force once both notified completing their internal procedures: reasons for refusal now due within 48 h");

    Ok((afm_new, gpo_new, revoked_at))
}
