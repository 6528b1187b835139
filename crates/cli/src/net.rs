//! The commands that talk over the network: `serve`, `follow`, and `submit --node`.

use crate::cmd::{REFUSED, VERIFY_FAILED, read_vkey};
use crate::dir::LedgerDir;
use crate::files::{self, Context, EventFile};
use crate::keys::{self, OsRng, Passphrase};
use anyhow::{Context as _, anyhow};
use coop_core::{AuthorityId, CaseId, LedgerId};
use coop_follower::{FollowError, Follower, FollowerConfig};
use coop_node::{Client, ClientError, Node, NodeConfig, Tls};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Resolves when the process is asked to stop (Ctrl-C or SIGTERM).
async fn stop_signal() {
    #[cfg(unix)]
    {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            _ = term => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn announce(scheme: &str, addr: std::net::SocketAddr, node: &Node) {
    println!("coopledger node listening on {scheme}://{addr}");
    println!(
        "ledger {}; node checkpoint key {}",
        node.ledger()
            .ledger_id()
            .map_or("(none yet)".to_owned(), |l| l.to_string()),
        node.ledger()
            .ledger_node_verifier()
            .map_or("(none yet)".to_owned(), |v| v.to_vkey())
    );
    if node.ledger().is_test_ledger() {
        if crate::lang() == coop_i18n::Lang::En {
            println!("TEST LEDGER: its genesis marks it as a test ledger; its clock may be moved");
        } else {
            println!("{}", crate::lang().t("test-ledger"));
        }
    }
    let _ = std::io::stdout().flush();
}

/// The names a node answers signed reads for: `--authority` values, and the address it
/// listens on (with `localhost:<port>` for loopback).
fn authorities(given: &[String], addr: std::net::SocketAddr) -> anyhow::Result<Vec<String>> {
    let mut all: Vec<String> = given.iter().map(|a| a.to_ascii_lowercase()).collect();
    all.extend(NodeConfig::authorities_for(addr));
    if all.is_empty() {
        anyhow::bail!(
            "listening on {addr}, the node cannot tell which name clients use for it: give --authority HOST:PORT"
        );
    }
    Ok(all)
}

/// `coopledger serve`.
pub fn serve(
    dir: &LedgerDir,
    listen: &str,
    authority: &[String],
    tls: Option<(&Path, &Path)>,
    skew_secs: u64,
    checkpoint_interval: Duration,
    header_timeout: Duration,
) -> anyhow::Result<ExitCode> {
    let ledger = dir.open_with(|c| c.checkpoint_interval = checkpoint_interval)?;
    let rt = runtime()?;
    let config = |addr| -> anyhow::Result<NodeConfig> {
        Ok(NodeConfig {
            skew_secs,
            header_timeout,
            authorities: authorities(authority, addr)?,
            tls: tls.is_some(),
            ..NodeConfig::default()
        })
    };
    rt.block_on(async {
        match tls {
            None => {
                let listener = tokio::net::TcpListener::bind(listen)
                    .await
                    .with_context(|| format!("cannot listen on {listen}"))?;
                let node = Node::new(ledger, config(listener.local_addr()?)?);
                announce("http", listener.local_addr()?, &node);
                coop_node::run(listener, node.clone(), stop_signal()).await?;
            }
            Some((cert, key)) => {
                let tls = Tls {
                    cert_pem: std::fs::read(cert)
                        .with_context(|| format!("cannot read {}", cert.display()))?,
                    key_pem: std::fs::read(key)
                        .with_context(|| format!("cannot read {}", key.display()))?,
                };
                let listener = std::net::TcpListener::bind(listen)
                    .with_context(|| format!("cannot listen on {listen}"))?;
                let node = Node::new(ledger, config(listener.local_addr()?)?);
                announce("https", listener.local_addr()?, &node);
                coop_node::run_tls(listener, node.clone(), tls, stop_signal()).await?;
            }
        }
        anyhow::Ok(())
    })?;
    drop(rt);
    eprintln!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Serves the console over a verified copy until interrupted.
pub fn console(
    copy: coop_ledger::read::VerifiedCopy,
    path: &Path,
    listen: &str,
    allow_remote: bool,
) -> anyhow::Result<ExitCode> {
    let rt = runtime()?;
    let verdict = copy.verdict.clone();
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let addr = listener.local_addr()?;
        // No sign-in here: whoever reaches it sees the whole ledger. Loopback only,
        // unless asked; and on loopback, only under its own names (no DNS rebinding).
        let hosts = if addr.ip().is_loopback() {
            Some(NodeConfig::authorities_for(addr))
        } else if allow_remote {
            eprintln!(
                "WARNING: the console has no sign-in; anyone who reaches {addr} sees the whole ledger"
            );
            None
        } else {
            anyhow::bail!(
                "{addr} is not a loopback address: the console has no sign-in, so anyone who reaches it would see the whole ledger. Serve it on 127.0.0.1 (and reach it through SSH), or give --allow-remote to accept that"
            );
        };
        let console = Arc::new(coop_console::Console {
            source: Arc::new(copy),
            verdict: Some(verdict.clone()),
            label: path.display().to_string(),
            access: None,
            desk: None,
            reach: coop_console::Reach {
                hosts,
                ..coop_console::Reach::default()
            },
        });
        // The verdict in the terminal too (it printed only the address).
        println!(
            "VERIFIED {} {}: {} records, {} signatures; checkpoint at size {}, cosigned by {}; {}",
            verdict.kind,
            path.display(),
            verdict.records,
            verdict.signatures,
            verdict.checkpoint_size,
            if verdict.cosigned_by.is_empty() {
                "no witness".to_owned()
            } else {
                verdict
                    .cosigned_by
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            match (verdict.witnessed_size, verdict.on_node_word) {
                (Some(n), false) => format!("witnessed by both Parties up to record {}", n.saturating_sub(1)),
                (Some(n), true) => format!(
                    "witnessed by both Parties up to record {}; the rest on the node's word alone",
                    n.saturating_sub(1)
                ),
                (None, _) => "on the node's word alone".to_owned(),
            }
        );
        println!("coopledger console on http://{addr}/ (Ctrl-C stops it)");
        let _ = std::io::stdout().flush();
        coop_console::serve(listener, console, stop_signal())
            .await
            .context("the console stopped")?;
        anyhow::Ok(())
    })?;
    drop(rt);
    eprintln!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// `coopledger sign-request`: the two headers that sign a read of `url`.
pub fn sign_request(
    url: &str,
    method: &str,
    id: &AuthorityId,
    key: Arc<coop_core::SecretKey>,
    ca: Option<&[u8]>,
) -> anyhow::Result<(String, String)> {
    Ok(coop_node::client::sign_url(
        url,
        method,
        (id.clone(), key),
        ca,
    )?)
}

/// A node that cannot be reached over `https://` may be serving plain HTTP (`serve`
/// without `--tls-cert`): said, beside the transport's own words (issue 30).
pub fn tls_hint(url: &str, e: coop_node::client::ClientError) -> anyhow::Error {
    match &e {
        coop_node::client::ClientError::Transport(_) if url.starts_with("https://") => {
            anyhow::anyhow!(
                "{e}\nthe node did not answer over TLS: if it serves plain HTTP (`coopledger serve` without --tls-cert), reach it at {}",
                url.replacen("https://", "http://", 1)
            )
        }
        _ => e.into(),
    }
}

/// `coopledger submit --node URL`.
/// What an event file needs from a running node to be signed: its ledger id, its clock
/// (a test ledger's may have been moved) and the case's current version, which the author
/// reads with a request signed by its own key.
pub struct Remote {
    /// An unauthenticated client of the node.
    pub anonymous: Client,
    reader: Client,
    /// `/v1/info`.
    pub info: coop_node::wire::InfoJson,
    /// The ledger id.
    pub ledger: Option<LedgerId>,
    /// The signer's key file.
    pub key_path: PathBuf,
}

impl Remote {
    /// Asks the node at `url` who it is, for the author of `file`.
    pub fn of(
        url: &str,
        ca_cert: Option<&Path>,
        event: &Path,
        file: &EventFile,
        key: Option<&Path>,
        pass: &Passphrase,
    ) -> anyhow::Result<Remote> {
        let ca = ca_cert.map(std::fs::read).transpose()?;
        let anonymous = Client::new(url, None, ca.as_deref())?.with_language(crate::lang().code());
        let info = anonymous.info().map_err(|e| tls_hint(url, e))?;
        let key_path = match (key, &file.key) {
            (Some(k), _) => k.to_path_buf(),
            (None, Some(k)) => event.parent().unwrap_or(Path::new(".")).join(k),
            (None, None) => {
                anyhow::bail!("the event file names no key: add `key = \"...\"` or give --key")
            }
        };
        let signer = Arc::new(keys::load(&key_path, pass)?);
        let reader = Client::new(url, Some((file.signer.clone(), signer)), ca.as_deref())?;
        Ok(Remote {
            anonymous,
            reader,
            ledger: info.ledger_id.map(LedgerId),
            info,
            key_path,
        })
    }

    /// The case's version, read with the author's own key.
    pub fn case_version(&self, c: &CaseId) -> Option<u64> {
        self.reader
            .read(&format!("/v1/cases/{c}"), None)
            .ok()
            .and_then(|v| v.get("case")?.get("version")?.as_u64())
    }

    /// The signing context.
    pub fn context<'a>(&self, versions: &'a dyn Fn(&CaseId) -> Option<u64>) -> Context<'a> {
        Context {
            ledger: self.ledger,
            case_version: versions,
            // A test ledger's clock may have been moved: write its time, as its authors do.
            now: coop_core::Timestamp(if self.info.test_ledger && self.info.time_ms > 0 {
                self.info.time_ms
            } else {
                files::now_ms()
            }),
        }
    }
}

pub fn submit(
    url: &str,
    ca_cert: Option<&Path>,
    event: &Path,
    key: Option<&Path>,
    json: bool,
    retry_for: Duration,
    pass: &Passphrase,
) -> anyhow::Result<ExitCode> {
    let mut rng = OsRng::new()?;
    let file: EventFile = files::read(event)?;
    let remote = Remote::of(url, ca_cert, event, &file, key, pass)?;
    let (anonymous, ledger) = (&remote.anonymous, remote.ledger);
    let node_key = read_vkey(&remote.info.node_vkey)?;
    let versions = |c: &CaseId| remote.case_version(c);
    let ctx = remote.context(&versions);
    let base = event.parent().unwrap_or(Path::new("."));
    let pinned = crate::pin::sign_once(event, ledger, || {
        file.sign(&ctx, Some(&remote.key_path), base, pass, &mut rng)
    })?;
    pinned.announce();
    // Once any try may have landed, "nothing was written" can no longer be said of the
    // event, whatever the last try answered (issue 30: it had landed, 2 of 2).
    let mut maybe_landed = false;
    let answer = anonymous.submit_until_answered(&pinned.event, &node_key.key, retry_for, |e| {
        maybe_landed |= e.may_have_landed();
        eprintln!("no answer yet ({e}); retrying with the same event");
    });
    match answer {
        Ok(r) => {
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                // Checked already (submit_until_answered); the checkpoint is read again
                // to say which tree the record is proven in.
                let cp = r.verify(&node_key.key)?;
                print!("{}", crate::show::receipt(&r, &cp));
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(ClientError::Refused { message, .. }) => {
            pinned.discard();
            eprintln!("{}: {message}", crate::lang().t("refused-label"));
            Ok(ExitCode::from(REFUSED))
        }
        Err(ClientError::Http {
            status, message, ..
        }) if (400..500).contains(&status) && status != 408 => {
            pinned.discard();
            eprintln!("{message}");
            Ok(ExitCode::from(REFUSED))
        }
        Err(e) if maybe_landed || e.may_have_landed() => Err(anyhow::anyhow!(
            "{e}\nthe event may have landed: run the same command again; it resends event {} exactly, and gets its first receipt if it landed",
            pinned.event_id()
        )),
        Err(e) if e.is_retryable() => Err(anyhow::anyhow!(
            "{e}\nnothing was written: run the same command again to resend event {}",
            pinned.event_id()
        )),
        Err(e) => Err(e.into()),
    }
}

/// Arguments of `coopledger follow`.
pub struct FollowArgs {
    pub leader: String,
    pub dir: LedgerDir,
    pub witness_key: PathBuf,
    pub name: String,
    pub leader_key: Option<String>,
    pub listen: Option<String>,
    pub authority: Vec<String>,
    pub header_timeout: Duration,
    pub poll_secs: f64,
    pub retry_max_secs: f64,
    pub once: bool,
    pub ca_cert: Option<PathBuf>,
    pub pass: Passphrase,
}

/// The leader's `/v1/info`, asked until it answers (waiting longer each time) or the
/// follower is told to stop; with `once`, asked once.
fn first_contact(
    client: &Client,
    leader: &str,
    stop: &AtomicBool,
    once: bool,
) -> anyhow::Result<Option<coop_node::wire::InfoJson>> {
    let mut wait = Duration::from_millis(250);
    loop {
        match client.info() {
            Ok(info) => return Ok(Some(info)),
            Err(e) if once => {
                return Err(anyhow!(e).context(format!("cannot reach the leader at {leader}")));
            }
            Err(e) => {
                eprintln!(
                    "cannot reach the leader at {leader} ({e}); trying again in {:.1} s",
                    wait.as_secs_f64()
                );
            }
        }
        let until = std::time::Instant::now() + wait;
        while std::time::Instant::now() < until {
            if stop.load(Ordering::Relaxed) {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        wait = (wait * 2).min(Duration::from_secs(10));
    }
}

/// Refuses, before anything is written, a directory that is not (or cannot become) a
/// copy of the ledger whose first node key is `pinned`: one holding another ledger, or
/// the leader's own directory. Reads the journal only (sled is not opened).
fn check_copy(dir: &LedgerDir, pinned: &coop_core::checkpoint::NoteVerifier) -> anyhow::Result<()> {
    let Some(genesis) = dir.first_record()? else {
        return Ok(());
    };
    let nothing = "nothing in it was changed; follow into a new directory";
    let mut v = coop_verify::Incremental::new(vec![pinned.clone()]);
    if let Err(e) = v.feed(vec![genesis]) {
        anyhow::bail!(
            "{} holds another ledger, not a copy of this leader's ({e}); {nothing}",
            dir.path().display()
        );
    }
    let ours = dir.node_key().ok().map(|k| k.public());
    if dir.leader_vkey()?.is_none()
        && coop_verify::node_verifiers(v.state(), 1)
            .iter()
            .any(|n| Some(n.key) == ours)
    {
        anyhow::bail!(
            "{} is the directory of the node that sequences this ledger, not a copy; {nothing}",
            dir.path().display()
        );
    }
    Ok(())
}

/// `coopledger follow`.
pub fn follow(a: FollowArgs) -> anyhow::Result<ExitCode> {
    let mut rng = OsRng::new()?;
    let witness = Arc::new(keys::load(&a.witness_key, &a.pass)?);
    let name = AuthorityId::new(a.name.clone())?;
    let ca = a.ca_cert.as_deref().map(std::fs::read).transpose()?;
    let client = Client::new(
        &a.leader,
        Some((name.clone(), witness.clone())),
        ca.as_deref(),
    )?;
    let rt = runtime()?;
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    rt.spawn(async move {
        stop_signal().await;
        s.store(true, Ordering::Relaxed);
    });
    // The leader's key: given, or pinned on first contact and held to afterwards. The
    // leader is asked only when nothing is pinned yet: a follower restarts while its
    // leader is down.
    let pinned_file = a.dir.leader_vkey()?;
    let pinned = match (&a.leader_key, &pinned_file) {
        (Some(k), _) => read_vkey(k)?,
        (None, Some(p)) => read_vkey(p)?,
        (None, None) => match first_contact(&client, &a.leader, &stop, a.once)? {
            Some(info) => {
                // The genesis's key: every later node key (a handover's) is learnt from
                // the ledger, verified.
                let first = match info.genesis_node_vkey.is_empty() {
                    true => info.node_vkey,
                    false => info.genesis_node_vkey,
                };
                eprintln!("pinning the ledger's first checkpoint key on first contact: {first}");
                read_vkey(&first).context("the leader states no usable checkpoint key")?
            }
            None => {
                println!("following: stopped before the leader was reached");
                return Ok(ExitCode::SUCCESS);
            }
        },
    };
    if let Some(p) = &pinned_file
        && read_vkey(p)? != pinned
    {
        anyhow::bail!(
            "this copy follows the leader with key {p}; --leader-key names another; nothing was changed; use another directory"
        );
    }
    check_copy(&a.dir, &pinned)?;
    let ledger = {
        // Mark the copy a follower's before its engine starts, so it never signs checkpoints.
        if !a.dir.exists() {
            a.dir.prepare(None, &mut rng)?;
        }
        a.dir.set_leader_vkey(&pinned.to_vkey())?;
        let me = coop_core::checkpoint::NoteVerifier {
            name: name.to_string(),
            key: witness.public(),
            alg: coop_core::checkpoint::SigAlg::CosignatureV1,
        };
        a.dir.open_or_empty(&mut rng, Some(me))?
    };
    let listener = match &a.listen {
        Some(listen) => Some(
            rt.block_on(tokio::net::TcpListener::bind(listen))
                .with_context(|| format!("cannot listen on {listen}"))?,
        ),
        None => None,
    };
    let node_config = match &listener {
        Some(l) => NodeConfig {
            authorities: authorities(&a.authority, l.local_addr()?)?,
            header_timeout: a.header_timeout,
            ..NodeConfig::default()
        },
        None => NodeConfig::default(),
    };
    let poll = Duration::from_secs_f64(a.poll_secs.max(0.05));
    let retry_max = Duration::from_secs_f64(a.retry_max_secs.max(0.1));
    // The leader counts as unreachable after silence longer than the slowest retry and
    // a few rounds: a restart of the leader is not an alarm, a lost leader is.
    let status = Arc::new(coop_node::FollowStatus::new(
        (poll * 3).max(retry_max * 2).max(Duration::from_secs(2)),
    ));
    let node = Node::follower(ledger, node_config, a.leader.clone(), status);
    let config = FollowerConfig {
        leader_key: pinned,
        witness: (name, witness),
        evidence_dir: a.dir.path().to_path_buf(),
        poll,
        page: 1000,
        retry_max,
    };
    let mut follower = Follower::new(node.clone(), client, config)?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    if let Some(listener) = listener {
        announce("http", listener.local_addr()?, &node);
        let n = node.clone();
        rt.spawn(async move {
            let _ = coop_node::run(listener, n, async {
                let _ = rx.await;
            })
            .await;
        });
    }
    // Catching up shows progress (a bar on a terminal, a line per tenth otherwise) while
    // the copy is more than a page behind what the leader showed.
    let finished = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (status, node, finished) = (follower.status().clone(), node.clone(), finished.clone());
        std::thread::spawn(move || {
            let mut bar: Option<crate::cmd::Progress> = None;
            while !finished.load(Ordering::Relaxed) {
                let size = node.ledger().head().map_or(0, |h| h.size);
                let v = status.view(size);
                if v.behind > 1000 {
                    bar.get_or_insert_with(|| crate::cmd::Progress::new(false, "catching up"))
                        .update(size, Some(v.leader_size));
                } else if let Some(b) = bar.take() {
                    b.finish();
                    eprintln!("caught up: {size} records verified and copied");
                }
                std::thread::sleep(Duration::from_millis(250));
            }
            if let Some(b) = bar {
                b.finish();
            }
        })
    };
    let outcome = if a.once {
        follower.step().map(|_| ())
    } else {
        follower.run(&stop)
    };
    finished.store(true, Ordering::Relaxed);
    let _ = watcher.join();
    let _ = tx.send(());
    rt.shutdown_timeout(Duration::from_secs(5));
    let size = follower.size();
    drop(follower);
    drop(node);
    match outcome {
        Ok(()) => {
            println!(
                "following: {size} records verified and copied{}",
                match &a.once {
                    true => String::new(),
                    false => "; stopped".into(),
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ (FollowError::Fork { .. } | FollowError::Invalid { .. })) => {
            eprintln!("STOPPED: {e}");
            eprintln!(
                "the copy in {} holds the {size} records verified before it",
                a.dir.path().display()
            );
            Ok(ExitCode::from(VERIFY_FAILED))
        }
        Err(e) => Err(anyhow!("{e}")),
    }
}
