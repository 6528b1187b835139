//! Ledger files: `export`, `import` (verified before anything is written), `bundle`.

use super::*;

pub(super) fn export(dir: &LedgerDir, out: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    crate::ops::refuse_existing(out)?;
    let ledger = dir.open()?;
    let (n, cps) = crate::ops::write_export(&ledger, out, false)?;
    println!(
        "exported {n} records and {cps} checkpoints to {} in {:.1?}",
        out.display(),
        started.elapsed()
    );
    Ok(())
}

/// Counts the bytes read through it: an export's records are not counted in advance,
/// so an import shows its progress through the file.
struct Counting<R> {
    inner: R,
    read: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: std::io::Read> std::io::Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// Appends verified records to a new ledger as they arrive.
struct Importer<'a> {
    log: &'a Log<SledStore>,
    pending: Vec<SealedRecord>,
    bar: Progress,
    /// Bytes of the export read so far, and the file's length.
    read: std::sync::Arc<std::sync::atomic::AtomicU64>,
    len: u64,
}

impl Importer<'_> {
    fn flush(&mut self) -> Result<(), String> {
        if !self.pending.is_empty() {
            self.log
                .append_records(std::mem::take(&mut self.pending))
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

impl Observer for Importer<'_> {
    fn progress(&mut self, _records: u64, _total: Option<u64>) {
        let read = self.read.load(std::sync::atomic::Ordering::Relaxed);
        self.bar.update(read.min(self.len), Some(self.len));
    }
    fn record(&mut self, r: &SealedRecord) -> Result<(), String> {
        self.pending.push(r.clone());
        if self.pending.len() >= 4096 {
            self.flush()?;
        }
        Ok(())
    }
    fn checkpoint(&mut self, note: &str) -> Result<(), String> {
        self.flush()?;
        self.log
            .put_checkpoint(note)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

pub(super) fn import(
    from: &Path,
    dir: &LedgerDir,
    node_key: Option<&Path>,
    trust_node: &[String],
    pass: &keys::Passphrase,
) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let mut rng = OsRng::new()?;
    let file =
        std::fs::File::open(from).with_context(|| format!("cannot open {}", from.display()))?;
    let len = file.metadata().map_or(0, |m| m.len());
    let read = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut reader = ExportReader::new(BufReader::new(Counting {
        inner: file,
        read: read.clone(),
    }))?;
    let node = node_key.map(|k| keys::load(k, pass)).transpose()?;
    dir.prepare(node, &mut rng)?;
    let options = Options {
        nodes: trust_node
            .iter()
            .map(|v| read_vkey(v))
            .collect::<anyhow::Result<_>>()?,
        ..Options::default()
    };
    // The store is built aside and moved in only once every record verified and is
    // durable: an import cut short (Ctrl-C, a full disk) leaves no ledger that looks whole.
    let verified = {
        let log = Log::open(dir.importing_store()?)?;
        let mut importer = Importer {
            log: &log,
            pending: Vec::new(),
            bar: Progress::with_unit(false, "importing", "bytes"),
            read,
            len,
        };
        let v = coop_verify::verify(&mut reader, &options, &mut importer);
        let v = match v.and_then(|v| importer.flush().map(|()| v).map_err(VerifyError::Stopped)) {
            Ok(v) => v,
            Err(e) => {
                importer.bar.finish();
                eprintln!("IMPORT STOPPED: {e}");
                drop(importer);
                drop(log);
                let _ = std::fs::remove_dir_all(dir.importing_path());
                eprintln!(
                    "nothing was imported: {} holds no ledger; import a good copy",
                    dir.path().display()
                );
                return Ok(ExitCode::from(VERIFY_FAILED));
            }
        };
        importer.bar.finish();
        drop(importer);
        drop(log);
        v
    };
    dir.finish_import()?;
    // Open it as the engine will, which re-checks the store and replays the rules. The
    // copy's own node key is not the ledger's: it signs nothing and takes no appends.
    let ledger = dir.open()?;
    println!(
        "imported {} records and {} checkpoints into {} in {:.1?}; ledger {}",
        verified.size,
        verified.checkpoints.len(),
        dir.path().display(),
        started.elapsed(),
        verified.ledger_id
    );
    println!(
        "the ledger's node key: {}{}",
        ledger
            .ledger_node_verifier()
            .map_or_else(|| "(none)".to_owned(), |v| v.to_vkey()),
        if ledger.is_sequencer() {
            ""
        } else {
            " (this directory is a read-only copy: it signs no checkpoint and takes no appends)"
        }
    );
    Ok(ExitCode::SUCCESS)
}

pub(super) fn bundle(dir: &LedgerDir, case: &str, out: &Path) -> anyhow::Result<()> {
    let id = parse_case(case)?;
    crate::ops::refuse_existing(out)?;
    let ledger = dir.open()?;
    let made = ledger.evidence_bundle(&id)?;
    let bytes = made.bundle.to_bytes()?;
    crate::ops::write_new(out, |f| Ok(std::io::Write::write_all(f, &bytes)?))?;
    println!(
        "wrote the evidence bundle of case {id} to {}: {} records, proven against the checkpoint at size {} ({})",
        out.display(),
        made.bundle.entries.len(),
        made.size,
        match made.cosigning_parties {
            2 => "cosigned by both Parties' witnesses",
            1 => "cosigned by one Party's witness",
            _ => "not cosigned",
        }
    );
    if made.cosigning_parties < 2 {
        // The witness policy (docs/adr/0026): `verify` will not call it VERIFIED without
        // --accept-node-word.
        eprintln!(
            "warning: no checkpoint covering this case is cosigned by a witness of each Party yet: it rests on the node's word alone until both witnesses cosign one (then make the bundle again)"
        );
    }
    Ok(())
}
