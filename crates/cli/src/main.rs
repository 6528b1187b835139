//! `coopledger`: the command line of coopledger, for each of its three kinds of user —
//! agencies (keys, submissions, cases), auditors (export, verify, reports, proofs) and
//! dispute consultations (case history as of any point, evidence bundles) — and the
//! demo that shows all of it on an embedded ledger.
//!
//! The key design decision: the CLI holds no logic of its own about bytes or rules. It
//! parses input files, calls the engine (`coop-ledger`) or the verifier (`coop-verify`),
//! and renders what they return; `--json` on every read gives the same data to scripts.
//!
//! Exit codes: 0 success; 1 error (bad input, I/O, unavailable); 2 refused under the
//! Agreement (nothing was written); 3 verification failed; 64 the command line does not
//! parse (an unknown command, flag or value).

// A command-line tool's output is its product.
#![allow(clippy::print_stdout)]

mod cmd;
mod demo;
mod dir;
mod event;
mod files;
mod keys;
mod net;
mod ops;
mod pin;
mod promote;
mod show;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// A verifiable ledger for the Kazakhstan–Turkmenistan Agreement on cooperation in
/// combating crime (Ashgabat, 10 October 2024).
#[derive(Debug, Parser)]
#[command(name = "coopledger", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    passphrase: keys::Passphrase,
    /// Free space (MiB) to keep on the ledger's disk: an append that would leave less is
    /// refused ("storage full", nothing written) and appends resume once there is room.
    #[arg(
        long,
        global = true,
        value_name = "MIB",
        env = "COOPLEDGER_MIN_FREE_MIB",
        default_value_t = 64
    )]
    min_free_mib: u64,
    /// Log format on standard error: `text` (coloured only on a terminal, and not when
    /// NO_COLOR is set) or `json` (one object per line, for log collectors). What is logged
    /// is chosen by RUST_LOG (default `warn`; `info` adds one line per HTTP request — who
    /// read what — and per checkpoint: docs/OPERATIONS.md).
    #[arg(
        long,
        global = true,
        value_name = "FORMAT",
        env = "COOPLEDGER_LOG_FORMAT",
        value_parser = ["text", "json"],
        default_value = "text"
    )]
    log_format: String,
    /// The language of refusals under the Agreement: `ru`, `kk`, `tk` or `en` (a node is
    /// asked for it with `Accept-Language`).
    #[arg(
        long,
        global = true,
        value_name = "LANG",
        env = "COOPLEDGER_LANG",
        value_parser = ["ru", "kk", "tk", "en"],
        default_value = "en"
    )]
    lang: String,
}

/// The language `--lang` chose (English until it is set).
static LANG: std::sync::OnceLock<coop_i18n::Lang> = std::sync::OnceLock::new();

/// The language of refusals.
pub fn lang() -> coop_i18n::Lang {
    LANG.get().copied().unwrap_or(coop_i18n::Lang::En)
}

/// Where the ledger directory is.
#[derive(Debug, Clone, clap::Args)]
struct Data {
    /// The ledger directory.
    #[arg(long, short = 'd', value_name = "DIR", env = "COOPLEDGER_DATA")]
    data: PathBuf,
}

/// How the HTTP server treats slow clients.
#[derive(Debug, Clone, clap::Args)]
struct HttpArgs {
    /// Seconds a client has to send a request's headers, from the moment its connection
    /// opens or its previous answer ends: slow (slowloris) and idle keep-alive
    /// connections are closed after it.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    header_timeout_secs: f64,
}

impl HttpArgs {
    fn header_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.header_timeout_secs.clamp(0.1, 86_400.0))
    }
}

/// A point in the ledger's history: a record seq (`1234`) or a time (`2026-11-25T10:00:00Z`).
#[derive(Debug, Clone, clap::Args)]
struct AsOfArg {
    /// Show the state just after this record seq, or at this time (RFC 3339, UTC).
    #[arg(long, value_name = "SEQ|TIME")]
    as_of: Option<String>,
}

#[derive(Debug, Subcommand)]
enum EventCmd {
    /// Sign an event file (TOML or JSON, as `submit` reads it) and write the signed
    /// event's canonical bytes: what `POST /v1/events` takes as application/octet-stream.
    #[command(
        after_help = "Example:\n  coopledger event build demo/tour/language-arrangement.toml --data demo --out event.bin"
    )]
    Build {
        /// The event file.
        event: PathBuf,
        /// Where to write the canonical bytes.
        #[arg(long, short = 'o', value_name = "FILE")]
        out: PathBuf,
        /// The signer's private key (instead of the file's `key`).
        #[arg(long, value_name = "KEY")]
        key: Option<PathBuf>,
        /// The ledger the event is for (64 hex digits, as `/v1/info` gives it); not for a
        /// genesis. The case version is the file's `expected_version` (0 if absent).
        #[arg(long, value_name = "HEX", conflicts_with_all = ["data", "node"])]
        ledger_id: Option<String>,
        /// Take the ledger id, the case's current version and a test ledger's clock from
        /// a ledger directory instead.
        #[arg(long, short = 'd', value_name = "DIR", conflicts_with = "node")]
        data: Option<PathBuf>,
        /// Or from a running node (http://HOST:PORT), the case's version read with the
        /// signer's own key.
        #[arg(long, value_name = "URL")]
        node: Option<String>,
        /// Write the event even if the ledger (--data or --node) would refuse it now: to
        /// submit later, once what it relies on has landed.
        #[arg(long)]
        anyway: bool,
    },
    /// Show a signed event (its canonical bytes) as JSON, its payload readable, after
    /// checking its shape and signature (not whether a ledger would accept it).
    #[command(after_help = "Example:\n  coopledger event show event.bin")]
    Show {
        /// The file of canonical bytes.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate a private key (PKCS#8 PEM; `--encrypt` protects it with a passphrase).
    #[command(
        after_help = "Example:\n  coopledger keygen --out kz-mvd.pem --encrypt   (the passphrase from COOPLEDGER_PASSPHRASE)"
    )]
    Keygen {
        /// Where to write the key (never overwritten).
        #[arg(long, short = 'o', value_name = "FILE")]
        out: PathBuf,
        /// Encrypt the key with the passphrase from --passphrase-env / --passphrase-file
        /// (default variable COOPLEDGER_PASSPHRASE).
        #[arg(long)]
        encrypt: bool,
        /// Write this existing key again instead of a new one (the same passphrase opens
        /// it if it is encrypted): to protect a plain key, or to re-protect one encrypted
        /// with scrypt by an earlier version so that the console can open it.
        #[arg(long, value_name = "FILE")]
        from: Option<PathBuf>,
    },
    /// Print the public key of a private key file (hex, as event and genesis files use it).
    #[command(after_help = "Example:\n  coopledger pubkey demo/keys/KZ-MVD.pem")]
    Pubkey {
        /// The private key file.
        key: PathBuf,
    },
    /// Print the document reference (blake3 digest, size, type, language, role) of a file.
    #[command(
        after_help = "Example:\n  coopledger digest decision.pdf --language kk --role certified-copy"
    )]
    Digest {
        /// The document.
        file: PathBuf,
        /// Language of its text.
        #[arg(long, value_parser = ["kk", "tk", "ru"])]
        language: String,
        /// Role: original, certified-copy, legal-provision, or translation-of:<digest hex>.
        #[arg(long, default_value = "original")]
        role: String,
        /// Media type.
        #[arg(long, default_value = "application/pdf")]
        media_type: String,
    },
    /// Create a ledger from a genesis file, signed by one Party's root key.
    #[command(
        after_help = "Example:\n  coopledger init --genesis genesis.toml --root-key kz-root.pem --accept-key tm-root.pem --data ledger"
    )]
    Init {
        #[command(flatten)]
        data: Data,
        /// The genesis (TOML): both roots, the texts' digests, parameters.
        #[arg(
            long,
            value_name = "FILE",
            required_unless_present = "signed_genesis",
            requires = "root_key"
        )]
        genesis: Option<PathBuf>,
        /// The private key of the root that signs the genesis.
        #[arg(long, value_name = "KEY", requires = "genesis")]
        root_key: Option<PathBuf>,
        /// A genesis event a root signed elsewhere (its canonical bytes, as `event build`
        /// or a client library writes them), instead of --genesis and --root-key. Needs
        /// --node-key: the key it names.
        #[arg(
            long,
            value_name = "FILE",
            conflicts_with_all = ["genesis", "root_key", "accept_key"],
            requires = "node_key"
        )]
        signed_genesis: Option<PathBuf>,
        /// The other root's private key: also record its acceptance now.
        #[arg(long, value_name = "KEY")]
        accept_key: Option<PathBuf>,
        /// The node's key (signs checkpoints and receipts); a new one if absent.
        #[arg(long, value_name = "KEY")]
        node_key: Option<PathBuf>,
    },
    /// Sign an event described in a TOML or JSON file and append it; prints the receipt.
    #[command(
        after_help = "Example:\n  coopledger submit demo/tour/language-arrangement.toml --data demo\n  coopledger submit request.toml --node http://127.0.0.1:8080"
    )]
    Submit {
        /// The ledger directory (an embedded ledger).
        #[arg(
            long,
            short = 'd',
            value_name = "DIR",
            env = "COOPLEDGER_DATA",
            required_unless_present = "node"
        )]
        data: Option<PathBuf>,
        /// Submit to a running node instead (http://HOST:PORT); the receipt is checked
        /// against the node's key.
        #[arg(long, value_name = "URL", conflicts_with = "data")]
        node: Option<String>,
        /// A PEM certificate to trust for the node's TLS (a self-signed node).
        #[arg(long, value_name = "FILE")]
        ca_cert: Option<PathBuf>,
        /// The event file.
        event: PathBuf,
        /// The signer's private key (instead of the file's `key`).
        #[arg(long, value_name = "KEY")]
        key: Option<PathBuf>,
        /// Print the receipt as JSON.
        #[arg(long)]
        json: bool,
        /// With --node: keep resending the same signed event for this many seconds while
        /// the node cannot be reached or answers 503 (it lands once; a resent event that
        /// landed gets its first receipt).
        #[arg(long, value_name = "SECS", default_value_t = 30.0)]
        retry_for: f64,
    },
    /// Events as files: the canonical bytes of a signed event, or one shown as JSON.
    #[command(subcommand)]
    #[command(
        after_help = "Example:\n  coopledger event build demo/tour/language-arrangement.toml --data demo --out event.bin"
    )]
    Event(EventCmd),
    /// Cases: one case, the list, a timeline — now or as of an earlier point.
    #[command(subcommand)]
    #[command(after_help = "Example:\n  coopledger case list --data demo --overdue")]
    Case(CaseCmd),
    /// The Article 7 compliance report.
    #[command(
        after_help = "Example:\n  coopledger report --data demo --format markdown > article7.md"
    )]
    Report {
        #[command(flatten)]
        data: Data,
        #[command(flatten)]
        as_of: AsOfArg,
        /// Output format.
        #[arg(long, value_parser = ["text", "json", "markdown"], default_value = "text")]
        format: String,
        /// Same as --format json.
        #[arg(long)]
        json: bool,
    },
    /// Merkle proofs, checked before they are printed.
    #[command(subcommand)]
    #[command(after_help = "Example:\n  coopledger proof inclusion --data demo --seq 5")]
    Proof(ProofCmd),
    /// Signed checkpoints.
    #[command(subcommand)]
    #[command(after_help = "Example:\n  coopledger checkpoint show --data demo")]
    Checkpoint(CheckpointCmd),
    /// The registered authorities, auditors, witnesses and roots, with their keys.
    #[command(after_help = "Example:\n  coopledger authorities --data demo")]
    Authorities {
        #[command(flatten)]
        data: Data,
        #[command(flatten)]
        as_of: AsOfArg,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Write every record and checkpoint to one export file.
    #[command(after_help = "Example:\n  coopledger export --data demo --out demo/audit.export")]
    Export {
        #[command(flatten)]
        data: Data,
        /// The export file to write.
        #[arg(long, short = 'o', value_name = "FILE")]
        out: PathBuf,
    },
    /// Rebuild a ledger directory from an export file, verifying every record as it goes.
    #[command(
        after_help = "Example:\n  coopledger import --from audit.export --data copy --trust-node demo/node.vkey"
    )]
    Import {
        /// The export file.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        #[command(flatten)]
        data: Data,
        /// This node's key; a new one if absent.
        #[arg(long, value_name = "KEY")]
        node_key: Option<PathBuf>,
        /// Pin the exporting node's checkpoint key (vkey text or a file holding it);
        /// repeatable.
        #[arg(long, value_name = "VKEY")]
        trust_node: Vec<String>,
    },
    /// Write the evidence bundle of one case for an Article 8 consultation.
    #[command(
        after_help = "Example:\n  coopledger bundle --data demo --case $(cat demo/tour/disputed-case) --out case.bundle"
    )]
    Bundle {
        #[command(flatten)]
        data: Data,
        /// The case id (hex).
        #[arg(long)]
        case: String,
        /// The bundle file to write.
        #[arg(long, short = 'o', value_name = "FILE")]
        out: PathBuf,
    },
    /// Verify a ledger directory, an export file or an evidence bundle, offline.
    #[command(
        after_help = "Example:\n  coopledger verify demo/audit.export --node-key demo/node.vkey\n  coopledger verify case.bundle --as-of 1234"
    )]
    Verify {
        /// A ledger directory, an export file or a bundle file.
        path: PathBuf,
        /// A node checkpoint key to trust (vkey text or a file holding it); repeatable.
        /// Without it the keys the input claims are used, and the output says so.
        #[arg(long, value_name = "VKEY")]
        node_key: Vec<String>,
        /// A checkpoint you hold from elsewhere (a witness, an earlier audit); repeatable.
        /// One beyond the input's end shows records removed from the end.
        #[arg(long, value_name = "FILE")]
        checkpoint: Vec<PathBuf>,
        /// For a bundle: also show the case as it stood just after this record seq.
        #[arg(long, value_name = "SEQ")]
        as_of: Option<u64>,
        /// Accept the node's word alone where no checkpoint is cosigned by a witness of
        /// each Party (otherwise: exit 4, nothing VERIFIED); every line of the verdict then
        /// says so.
        #[arg(long)]
        accept_node_word: bool,
        /// JSON output.
        #[arg(long)]
        json: bool,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Verify a ledger directory, a follower's copy, an export or an evidence bundle, then
    /// show it in a browser (the console, in ru/kk/tk/en) on 127.0.0.1 until interrupted.
    #[command(
        after_help = "Example:\n  coopledger console demo/audit.export --node-key demo/node.vkey"
    )]
    Console {
        /// A ledger directory, an export file or a bundle file.
        path: PathBuf,
        /// A node checkpoint key to trust (vkey text or a file holding it); repeatable.
        #[arg(long, value_name = "VKEY")]
        node_key: Vec<String>,
        /// A checkpoint you hold from elsewhere; repeatable.
        #[arg(long, value_name = "FILE")]
        checkpoint: Vec<PathBuf>,
        /// Address to serve on (loopback by default; port 0 picks a free port).
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: String,
        /// Serve on an address other than loopback. The console has no sign-in: anyone
        /// who reaches it sees the whole ledger.
        #[arg(long)]
        allow_remote: bool,
        /// Serve a copy no checkpoint of which is cosigned by a witness of each Party
        /// (otherwise: exit 4); every page then says it rests on the node's word alone.
        #[arg(long)]
        accept_node_word: bool,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Show or move a TEST ledger's clock (deadlines and termination end to end). Only a
    /// ledger whose genesis marks it a test ledger accepts a moved clock; it never runs
    /// backwards. A node reads the offset when it starts.
    #[command(after_help = "Example:\n  coopledger clock --data demo --advance 25h")]
    Clock {
        #[command(flatten)]
        data: Data,
        /// Move the clock forward by this much (e.g. `25h`, `183days`).
        #[arg(long, value_name = "DURATION", conflicts_with = "set")]
        advance: Option<String>,
        /// Move the clock to this time (RFC 3339, UTC); not before the ledger's time now.
        #[arg(long, value_name = "TIME")]
        set: Option<String>,
    },
    /// Rebuild a ledger directory's database from its journal (the second copy of every
    /// append), checking every record and checkpoint; the old database is kept aside.
    /// Opening a ledger does this by itself when the database refuses to open or has
    /// lost records; run it by hand when told to (docs/OPERATIONS.md).
    #[command(after_help = "Example:\n  coopledger repair --data ledger")]
    Repair {
        #[command(flatten)]
        data: Data,
        /// Rebuild even a database that opens and agrees with the journal (it is then
        /// left alone: nothing to repair).
        #[arg(long)]
        force: bool,
    },
    /// Serve a ledger over HTTP (docs/API.md) until interrupted.
    #[command(after_help = "Example:\n  coopledger serve --data demo --listen 127.0.0.1:8080")]
    Serve {
        #[command(flatten)]
        data: Data,
        /// Address to listen on (loopback by default; port 0 picks a free port).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// A name (HOST:PORT) clients reach this node by, besides the listening address:
        /// signed reads are accepted only for this node's names; repeatable.
        #[arg(long, value_name = "HOST:PORT")]
        authority: Vec<String>,
        /// TLS certificate chain (PEM); with --tls-key, serve HTTPS.
        #[arg(long, value_name = "FILE", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// TLS private key (PEM).
        #[arg(long, value_name = "FILE", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Accept signed reads made within this many seconds of the node's clock.
        #[arg(long, default_value_t = 300)]
        skew_secs: u64,
        /// Sign a checkpoint at least this often while records arrive (seconds).
        #[arg(long, default_value_t = 5.0)]
        checkpoint_secs: f64,
        #[command(flatten)]
        http: HttpArgs,
    },
    /// Keep a verified copy of a leader's ledger, cosign its checkpoints as a witness, and
    /// stop with evidence if the leader ever rewrites its history.
    #[command(
        after_help = "Example:\n  coopledger follow --leader http://127.0.0.1:8080 --data copy --witness-key demo/keys/TM-WITNESS.pem --name TM-WITNESS --listen 127.0.0.1:8081"
    )]
    Follow {
        /// The leader's address (http://HOST:PORT).
        #[arg(long, value_name = "URL")]
        leader: String,
        #[command(flatten)]
        data: Data,
        /// The witness's private key (registered in the ledger as a witness).
        #[arg(long, value_name = "KEY")]
        witness_key: PathBuf,
        /// The witness's registered id.
        #[arg(long)]
        name: String,
        /// The leader's checkpoint key (vkey text or a file); without it the key the leader
        /// states on first contact is pinned in DIR/leader.vkey.
        #[arg(long, value_name = "VKEY")]
        leader_key: Option<String>,
        /// Also serve reads of the copy on this address.
        #[arg(long)]
        listen: Option<String>,
        #[command(flatten)]
        http: HttpArgs,
        /// A name (HOST:PORT) clients reach the copy by, besides the listening address;
        /// repeatable.
        #[arg(long, value_name = "HOST:PORT", requires = "listen")]
        authority: Vec<String>,
        /// Seconds between checks of the leader's checkpoint.
        #[arg(long, default_value_t = 1.0)]
        poll_secs: f64,
        /// Longest wait (seconds) between attempts to reach a lost leader: the follower
        /// keeps trying, the wait doubling up to this, until the leader answers again. It
        /// stops only when told to (Ctrl-C, SIGTERM) or on a fork (exit 3).
        #[arg(long, value_name = "SECS", default_value_t = 5.0)]
        retry_max_secs: f64,
        /// One round (catch up, check and cosign the latest checkpoint), then exit.
        #[arg(long)]
        once: bool,
        /// A PEM certificate to trust for the leader's TLS.
        #[arg(long, value_name = "FILE")]
        ca_cert: Option<PathBuf>,
    },
    /// Make a follower's verified copy the ledger's node when the leader is lost: both
    /// Parties' roots sign a handover to a new node key, appended as the copy's next
    /// records; from then on the copy sequences the ledger (start it with `serve`).
    /// Stop the follower first.
    #[command(
        after_help = "Example:\n  coopledger promote --data copy --root-key kz-root.pem --accept-key tm-root.pem"
    )]
    Promote {
        #[command(flatten)]
        data: Data,
        /// The new node key (a new one if absent; it is written to DIR/node.pem).
        #[arg(long, value_name = "KEY")]
        node_key: Option<PathBuf>,
        /// The private key of the root that proposes the handover.
        #[arg(long, value_name = "KEY")]
        root_key: PathBuf,
        /// The other Party's root's private key, which accepts it.
        #[arg(long, value_name = "KEY")]
        accept_key: PathBuf,
        /// Let the earlier node keys go on signing checkpoints (by default they sign none
        /// from the handover on, so that the lost node, if it comes back, is refused).
        #[arg(long)]
        keep_old_key: bool,
    },
    /// Print the two headers that sign an HTTP read (for curl: `-H @FILE`). They bind the
    /// node (host and port), the ledger (asked of the node) and the moment: make a new pair
    /// for each request.
    #[command(
        after_help = "Example:\n  coopledger sign-request --key demo/keys/KZ-AUDIT.pem --id KZ-AUDIT 'http://127.0.0.1:8080/v1/info' > h.txt"
    )]
    SignRequest {
        /// The reader's private key.
        #[arg(long, value_name = "KEY")]
        key: PathBuf,
        /// The reader's registered id.
        #[arg(long)]
        id: String,
        /// The method.
        #[arg(long, default_value = "GET")]
        method: String,
        /// A PEM certificate to trust for the node's TLS (a self-signed node).
        #[arg(long, value_name = "FILE")]
        ca_cert: Option<PathBuf>,
        /// The full URL, e.g. `http://127.0.0.1:8080/v1/cases?status=open`.
        url: String,
    },
    /// Run the whole story on an embedded ledger: constitute the Agreement, 1,000+ cases
    /// of every kind, refused violations, an auditor's verification, a dispute replayed.
    #[command(after_help = "Example:\n  coopledger demo --data demo")]
    Demo {
        /// Keep the ledger in this (new) directory instead of a temporary one.
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
        /// Number of cases.
        #[arg(long, default_value_t = 1200)]
        cases: u32,
        /// Print less.
        #[arg(long)]
        quiet: bool,
    },
}

#[derive(Debug, Subcommand)]
enum CaseCmd {
    /// One case: parties, status, deadlines, documents, costs, disputes.
    #[command(
        after_help = "Example:\n  coopledger case show $(cat demo/tour/disputed-case) --data demo --as-of 1234"
    )]
    Show {
        #[command(flatten)]
        data: Data,
        /// Case id (hex).
        case: String,
        #[command(flatten)]
        as_of: AsOfArg,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// All cases, optionally filtered.
    #[command(after_help = "Example:\n  coopledger case list --data demo --disputed --limit 5")]
    List {
        #[command(flatten)]
        data: Data,
        #[command(flatten)]
        as_of: AsOfArg,
        /// Only cases with this status.
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(coop_treaty::STATUS_WORDS))]
        status: Option<String>,
        /// Only cases of this crime category (Art. 1.1; `other` is Art. 1.2).
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(coop_treaty::CATEGORY_WORDS))]
        category: Option<String>,
        /// Only cases with an overdue deadline.
        #[arg(long)]
        overdue: bool,
        /// Only cases with a dispute.
        #[arg(long)]
        disputed: bool,
        /// Only cases this authority requested or was asked in.
        #[arg(long)]
        authority: Option<String>,
        /// Only cases whose id, authorities, category or purposes contain this text.
        #[arg(long)]
        search: Option<String>,
        /// Skip this many matching cases (the previous page's `next_offset`).
        #[arg(long, default_value_t = 0)]
        offset: usize,
        /// At most this many lines.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Every event of a case, in order, with signer and event hash.
    #[command(
        after_help = "Example:\n  coopledger case timeline $(cat demo/tour/disputed-case) --data demo"
    )]
    Timeline {
        #[command(flatten)]
        data: Data,
        /// Case id (hex).
        case: String,
        #[command(flatten)]
        as_of: AsOfArg,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ProofCmd {
    /// Inclusion proof of a record in the tree of a given size.
    #[command(after_help = "Example:\n  coopledger proof inclusion --data demo --seq 5")]
    Inclusion {
        #[command(flatten)]
        data: Data,
        /// The record's seq.
        #[arg(long)]
        seq: u64,
        /// Tree size (default: the latest checkpoint's).
        #[arg(long)]
        size: Option<u64>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Consistency proof between two tree sizes.
    #[command(after_help = "Example:\n  coopledger proof consistency --data demo --from 100")]
    Consistency {
        #[command(flatten)]
        data: Data,
        /// The older size.
        #[arg(long)]
        from: u64,
        /// The newer size (default: the latest checkpoint's).
        #[arg(long)]
        to: Option<u64>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum CheckpointCmd {
    /// Print a checkpoint (the latest, or the one at a size) and the node's verifier key.
    #[command(after_help = "Example:\n  coopledger checkpoint show --data demo")]
    Show {
        #[command(flatten)]
        data: Data,
        /// Tree size.
        #[arg(long)]
        size: Option<u64>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Sign a checkpoint of the ledger's head now.
    #[command(after_help = "Example:\n  coopledger checkpoint sign --data demo")]
    Sign {
        #[command(flatten)]
        data: Data,
    },
    /// Cosign the latest checkpoint as a registered witness, if it extends the last one
    /// this witness cosigned (the witness rule: no rollback, no fork).
    #[command(
        after_help = "Example:\n  coopledger checkpoint cosign --data demo --witness-key demo/keys/TM-WITNESS.pem --name TM-WITNESS"
    )]
    Cosign {
        #[command(flatten)]
        data: Data,
        /// The witness's private key.
        #[arg(long, value_name = "KEY")]
        witness_key: PathBuf,
        /// The witness's registered id.
        #[arg(long)]
        name: String,
        /// The witness's own record of the last checkpoint it cosigned, kept by the
        /// witness, not in the ledger directory whose operator it checks [default: the
        /// key file's path with `.cosigned` appended]. Updated after each cosignature.
        #[arg(long, value_name = "FILE")]
        state: Option<PathBuf>,
    },
}

/// Exit code of a command line that does not parse (sysexits' EX_USAGE): not 2, which
/// means "refused under the Agreement".
const USAGE: u8 = 64;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // Help and version go to stdout and succeed; anything else is a usage error.
            return match e.use_stderr() {
                true => ExitCode::from(USAGE),
                false => ExitCode::SUCCESS,
            };
        }
    };
    // Reads piped into `head` end quietly, as other Unix tools do, instead of panicking
    // on the broken pipe. Not for the servers: a client that hangs up must not stop them.
    if !matches!(
        cli.command,
        Command::Serve { .. } | Command::Follow { .. } | Command::Console { .. }
    ) {
        sigpipe::reset();
    }
    init_logs(&cli.log_format);
    let _ = LANG.set(coop_i18n::Lang::parse(&cli.lang).unwrap_or(coop_i18n::Lang::En));
    report_faults_in_words();
    dir::set_min_free(cli.min_free_mib.saturating_mul(1 << 20));
    // Output that cannot be written (a full disk or an I/O error under `> FILE`) makes
    // Rust's `println!` panic; it is an error of the command, said in words (exit 1), not
    // a crash (exit 101).
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cmd::run(cli))) {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
        Err(payload) if panic_text(payload.as_ref()).starts_with(STDOUT_FAILED) => {
            ExitCode::from(1)
        }
        Err(payload) => std::panic::resume_unwind(payload),
    }
}

/// The start of the standard library's panic message when standard output fails.
const STDOUT_FAILED: &str = "failed printing to stdout";

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// A fault inside a library (sled panics on some write errors, e.g. a full disk) is
/// reported in words — "No space left on device (os error 28)" — not as Rust's Debug text
/// of an I/O error (`Os { code: 28, kind: StorageFull, … }`). With RUST_BACKTRACE set
/// the standard report follows, for a bug report.
fn report_faults_in_words() {
    let standard = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = panic_text(info.payload());
        if let Some(why) = msg.strip_prefix(STDOUT_FAILED) {
            eprintln!(
                "error: cannot write the output{}: nothing the command read or did is affected; free space or write elsewhere and run it again",
                fault_in_words(why)
            );
            return;
        }
        eprintln!("error: internal fault: {}", fault_in_words(&msg));
        eprintln!(
            "what was acknowledged before it is kept; see docs/OPERATIONS.md, \"Durability: what an acknowledged append promises\", for what to do"
        );
        if std::env::var_os("RUST_BACKTRACE").is_some() {
            standard(info);
        }
    }));
}

/// `called `Result::unwrap()` on an `Err` value: Os { code: 28, kind: StorageFull,
/// message: "No space left on device" }` → `No space left on device (os error 28)`.
fn fault_in_words(msg: &str) -> String {
    let msg = msg
        .strip_prefix("called `Result::unwrap()` on an `Err` value: ")
        .unwrap_or(msg);
    let mut out = String::new();
    let mut rest = msg;
    while let Some(i) = rest.find("Os { code: ") {
        let (before, from) = rest.split_at(i);
        out.push_str(before);
        let parsed = from.find(" }").and_then(|end| {
            let inner = from.get(..end)?;
            let code = inner
                .get("Os { code: ".len()..)?
                .split(',')
                .next()?
                .trim()
                .to_owned();
            let m = inner.split("message: \"").nth(1)?.trim_end_matches('"');
            Some((end + 2, format!("{m} (os error {code})")))
        });
        match parsed {
            Some((len, words)) => {
                out.push_str(&words);
                rest = from.get(len..).unwrap_or("");
            }
            None => {
                out.push_str(from);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Logs to standard error, filtered by RUST_LOG (default `warn`).
fn init_logs(format: &str) {
    use std::io::IsTerminal as _;
    let (filter, bad) = match tracing_subscriber::EnvFilter::try_from_default_env() {
        Ok(f) => (f, None),
        Err(e) => (
            tracing_subscriber::EnvFilter::new("warn"),
            std::env::var("RUST_LOG").ok().map(|v| (v, e)),
        ),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        "json" => builder.json().try_init(),
        _ => builder
            .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
            .try_init(),
    };
    if let Some((value, e)) = bad {
        tracing::warn!(RUST_LOG = %value, error = %e, "RUST_LOG is not a valid filter; logging warnings only");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn io_faults_are_reported_in_words() {
        assert_eq!(
            super::fault_in_words(
                "called `Result::unwrap()` on an `Err` value: Os { code: 28, kind: StorageFull, message: \"No space left on device\" }"
            ),
            "No space left on device (os error 28)"
        );
        assert_eq!(
            super::fault_in_words(
                "flush failed: Io(Os { code: 5, kind: Uncategorized, message: \"Input/output error\" })"
            ),
            "flush failed: Io(Input/output error (os error 5))"
        );
        assert_eq!(super::fault_in_words("plain words"), "plain words");
    }

    /// clap's own consistency checks over every command and flag.
    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory as _;
        super::Cli::command().debug_assert();
    }

    /// Issue 30: 31 of 33 `--help` pages had no example. Every command's, subcommands'
    /// included, ends with one.
    #[test]
    fn every_command_shows_an_example_in_its_help() {
        use clap::CommandFactory as _;
        fn walk(c: &mut clap::Command, path: &str, missing: &mut Vec<String>) {
            let name = format!("{path} {}", c.get_name());
            let help = c.render_long_help().to_string();
            if !help.contains("Example:\n  coopledger ") && !name.trim().eq("coopledger") {
                missing.push(name.clone());
            }
            for sub in c.get_subcommands_mut() {
                walk(sub, &name, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&mut super::Cli::command(), "", &mut missing);
        missing.retain(|m| !m.ends_with(" help"));
        assert!(missing.is_empty(), "no example: {missing:?}");
    }
}
