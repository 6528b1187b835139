//! The commands: each parses its input, calls the engine or the verifier, and renders.

mod audit;
mod checkpoint;
mod exports;
mod keygen;
mod ledger;
mod reads;

use crate::dir::{JournalSource, LedgerDir};
use crate::files::{self, Context, EventFile, GenesisFile};
use crate::keys::{self, OsRng};
use crate::{AsOfArg, CaseCmd, CheckpointCmd, Cli, Command, ProofCmd, show};
use anyhow::{Context as _, anyhow, bail};
use coop_core::checkpoint::{NoteVerifier, cosign, validate_checkpoint_transition};
use coop_core::merkle::{Blake3Hasher, verify_consistency, verify_inclusion};
use coop_core::{AuthorityId, CaseId, EventId, SealedRecord, Timestamp};
use coop_ledger::read::{self, ReadSource as _};
use coop_ledger::{AsOf, Config, Ledger, SubmitError};
use coop_store::{Log, SledStore};
use coop_treaty::{DocRole, Language, Payload};
use coop_verify::{Bundle, ExportReader, Observer, Options, VerifyError};
use std::io::{BufReader, IsTerminal as _, Read as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Exit code: refused under the Agreement (nothing written).
pub const REFUSED: u8 = 2;
/// Exit code: verification failed.
pub const VERIFY_FAILED: u8 = 3;
/// Exit code: everything checks out, but no checkpoint meets the witness policy (a
/// witness of each Party cosigned it): the history rests on the node's word alone, which
/// the auditor did not accept (`--accept-node-word`).
pub const NOT_WITNESSED: u8 = 4;

/// Runs a command: one call each (the commands by concern in cmd/).
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let pass = cli.passphrase;
    match cli.command {
        Command::Keygen { out, encrypt, from } => {
            keygen::keygen(&out, encrypt, from.as_deref(), &pass)?
        }
        Command::Pubkey { key } => println!("{}", keys::load(&key, &pass)?.public().to_hex()),
        Command::Digest {
            file,
            language,
            role,
            media_type,
        } => keygen::digest(&file, &language, &role, &media_type)?,
        Command::Init {
            data,
            signed_genesis: Some(signed),
            node_key: Some(node_key),
            ..
        } => {
            return ledger::init_signed(&LedgerDir::new(data.data), &signed, &node_key, &pass);
        }
        Command::Init {
            data,
            genesis: Some(genesis),
            root_key: Some(root_key),
            accept_key,
            node_key,
            ..
        } => {
            return ledger::init(
                &LedgerDir::new(data.data),
                &genesis,
                &root_key,
                accept_key.as_deref(),
                node_key.as_deref(),
                &pass,
            );
        }
        Command::Init { .. } => {
            bail!("init needs --genesis and --root-key, or --signed-genesis and --node-key")
        }
        Command::Event(c) => return crate::event::run(c, &pass),
        Command::Submit {
            data,
            node,
            ca_cert,
            event,
            key,
            json,
            retry_for,
        } => {
            return match (data, node) {
                (_, Some(url)) => crate::net::submit(
                    &url,
                    ca_cert.as_deref(),
                    &event,
                    key.as_deref(),
                    json,
                    std::time::Duration::from_secs_f64(retry_for.max(0.0)),
                    &pass,
                ),
                (Some(d), None) => {
                    ledger::submit(&LedgerDir::new(d), &event, key.as_deref(), json, &pass)
                }
                (None, None) => Err(anyhow!("give --data DIR or --node URL")),
            };
        }
        Command::Serve {
            data,
            listen,
            authority,
            tls_cert,
            tls_key,
            skew_secs,
            checkpoint_secs,
            http,
        } => {
            return crate::net::serve(
                &LedgerDir::new(data.data),
                &listen,
                &authority,
                tls_cert.as_deref().zip(tls_key.as_deref()),
                skew_secs,
                std::time::Duration::from_secs_f64(checkpoint_secs.max(0.01)),
                http.header_timeout(),
            );
        }
        Command::Follow {
            leader,
            data,
            witness_key,
            name,
            leader_key,
            listen,
            http,
            authority,
            poll_secs,
            retry_max_secs,
            once,
            ca_cert,
        } => {
            return crate::net::follow(crate::net::FollowArgs {
                leader,
                dir: LedgerDir::new(data.data),
                witness_key,
                name,
                leader_key,
                listen,
                authority,
                header_timeout: http.header_timeout(),
                poll_secs,
                retry_max_secs,
                once,
                ca_cert,
                pass,
            });
        }
        Command::Case(c) => reads::case(c)?,
        Command::Report {
            data,
            as_of,
            format,
            json,
        } => reads::report(data.data, &as_of, &format, json)?,
        Command::Proof(p) => reads::proof(p)?,
        Command::Console {
            path,
            node_key,
            checkpoint,
            listen,
            allow_remote,
            accept_node_word,
            quiet,
        } => {
            return audit::console(
                &path,
                &node_key,
                &checkpoint,
                &listen,
                allow_remote,
                accept_node_word,
                quiet,
            );
        }
        Command::Checkpoint(c) => return checkpoint::checkpoint(c, &pass),
        Command::Authorities { data, as_of, json } => reads::authorities(data.data, &as_of, json)?,
        Command::Export { data, out } => exports::export(&LedgerDir::new(data.data), &out)?,
        Command::Import {
            from,
            data,
            node_key,
            trust_node,
        } => {
            return exports::import(
                &from,
                &LedgerDir::new(data.data),
                node_key.as_deref(),
                &trust_node,
                &pass,
            );
        }
        Command::Bundle { data, case, out } => {
            exports::bundle(&LedgerDir::new(data.data), &case, &out)?
        }
        Command::Verify {
            path,
            node_key,
            checkpoint,
            as_of,
            accept_node_word,
            json,
            quiet,
        } => {
            return audit::verify(
                &path,
                &node_key,
                &checkpoint,
                as_of,
                accept_node_word,
                json,
                quiet,
            );
        }
        Command::Demo { data, cases, quiet } => return crate::demo::run(data, cases, quiet),
        Command::Clock { data, advance, set } => ledger::clock(
            &LedgerDir::new(data.data),
            advance.as_deref(),
            set.as_deref(),
        )?,
        Command::Repair { data, force } => ledger::repair(&LedgerDir::new(data.data), force)?,
        Command::Promote {
            data,
            node_key,
            root_key,
            accept_key,
            keep_old_key,
        } => {
            return crate::promote::promote(crate::promote::PromoteArgs {
                dir: LedgerDir::new(data.data),
                node_key: node_key.as_deref(),
                root_key: &root_key,
                accept_key: &accept_key,
                keep_old_key,
                pass: &pass,
            });
        }
        Command::SignRequest {
            key,
            id,
            method,
            url,
            ca_cert,
        } => keygen::sign_request(&key, &id, &method, &url, ca_cert.as_deref(), &pass)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// A `--as-of` value: a seq, or an RFC 3339 time (the read model's one parser).
pub fn parse_as_of(s: &str) -> anyhow::Result<AsOf> {
    Ok(read::parse_as_of(s)?)
}

fn as_of_of(a: &AsOfArg) -> anyhow::Result<Option<AsOf>> {
    a.as_of.as_deref().map(parse_as_of).transpose()
}

/// The state at `--as-of` (or now) and the time it describes: the read model's one
/// definition (coop_ledger::read).
fn at(ledger: &Ledger<SledStore>, a: &AsOfArg) -> anyhow::Result<read::At> {
    Ok(ledger.at(as_of_of(a)?)?)
}

fn parse_case(s: &str) -> anyhow::Result<CaseId> {
    Ok(read::parse_case(s)?)
}

pub fn read_vkey(s: &str) -> anyhow::Result<NoteVerifier> {
    let text = if Path::new(s).is_file() {
        std::fs::read_to_string(s).with_context(|| format!("cannot read {s}"))?
    } else {
        s.to_owned()
    };
    NoteVerifier::from_vkey(text.trim()).map_err(|e| {
        // A vkey has the form `name+hex+base64`; anything else that looks like a path was
        // meant as a file.
        if !s.contains('+') || s.ends_with(".vkey") || s.contains('/') {
            anyhow::anyhow!(
                "{s}: no such file, and not a verifier key either (a vkey reads `name+<8 hex>+<base64>`; `coopledger checkpoint show` prints the node's)"
            )
        } else {
            anyhow::anyhow!("{s:?} is not a verifier key: {e}")
        }
    })
}

/// A progress display: a bar on a terminal; otherwise a line per tenth of a known total,
/// or one every 5 s when the total is unknown.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    label: &'static str,
    unit: &'static str,
    last_tenth: u64,
    last_line: Instant,
    quiet: bool,
}

impl Progress {
    pub fn new(quiet: bool, label: &'static str) -> Progress {
        Progress::with_unit(quiet, label, "records")
    }

    /// Progress counted in `unit` (`records`, `bytes`).
    pub fn with_unit(quiet: bool, label: &'static str, unit: &'static str) -> Progress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let b = indicatif::ProgressBar::new(0);
            let template = match unit {
                "bytes" => "{msg} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})",
                _ => "{msg} [{bar:40}] {pos}/{len} records ({per_sec}, eta {eta})",
            };
            b.set_style(
                indicatif::ProgressStyle::with_template(template)
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b.set_message(label);
            b
        });
        Progress {
            bar,
            label,
            unit,
            last_tenth: 0,
            last_line: Instant::now(),
            quiet,
        }
    }

    pub fn update(&mut self, done: u64, total: Option<u64>) {
        if let Some(b) = &self.bar {
            match total {
                Some(t) => b.set_length(t),
                // Unknown total (an export being read): count, without a bar to fill.
                None => b.set_length(done.max(1)),
            }
            b.set_position(done);
        } else if self.quiet {
        } else if let Some(t) = total.filter(|t| *t > 0) {
            let tenth = done * 10 / t;
            if tenth > self.last_tenth {
                self.last_tenth = tenth;
                eprintln!("{}: {done}/{t} {}", self.label, self.unit);
            }
        } else if self.last_line.elapsed() >= Duration::from_secs(5) {
            self.last_line = Instant::now();
            eprintln!("{}: {done} {} so far", self.label, self.unit);
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
