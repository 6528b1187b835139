//! The ledger export file (docs/FORMAT.md, "Ledger export"): every record and checkpoint
//! of a ledger, in order, in one file that streams.
//!
//! ```text
//! "coopledger-export/v2\n"
//! frame*            tag (1 byte) || length (u32, big-endian) || payload
//!   'H' header      the node keys the ledger names (C2SP vkey text, one per line), for
//!                   people to read; first frame
//!   'R' record      canonical record bytes, in seq order from 0
//!   'C' checkpoint  a signed checkpoint note, right after the record that completes its size
//!   'E' end         record count (u64, big-endian); last frame
//! ```
//!
//! Nothing in the file is trusted: the header is only a claim (the verifier learns the
//! node keys from the ledger's own genesis and checks the auditor's pin against it), and
//! the records and checkpoints are what the verifier checks.

use crate::error::VerifyError;
use crate::ledger::{Item, Source};
use coop_core::checkpoint::MAX_NOTE_LEN;
use coop_core::encoding::MAX_ENCODED_LEN;
use std::io::{Read, Write};

/// First bytes of every export file.
pub const EXPORT_MAGIC: &[u8] = b"coopledger-export/v2\n";

const TAG_HEADER: u8 = b'H';
const TAG_RECORD: u8 = b'R';
const TAG_CHECKPOINT: u8 = b'C';
const TAG_END: u8 = b'E';
/// Longest header (a vkey is well under this).
const MAX_HEADER: usize = 4096;

/// Writes an export file. Call [`ExportWriter::finish`]: a file without its end frame
/// reads as truncated.
#[derive(Debug)]
pub struct ExportWriter<W: Write> {
    out: W,
    records: u64,
}

impl<W: Write> ExportWriter<W> {
    /// Starts a file whose header states `node_vkeys` (C2SP vkeys: the node keys the
    /// ledger names), for people to read; no verifier relies on it.
    pub fn new(mut out: W, node_vkeys: &[String]) -> std::io::Result<ExportWriter<W>> {
        out.write_all(EXPORT_MAGIC)?;
        frame(&mut out, TAG_HEADER, node_vkeys.join("\n").as_bytes())?;
        Ok(ExportWriter { out, records: 0 })
    }

    /// Appends the next record's canonical bytes.
    pub fn record(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.records += 1;
        frame(&mut self.out, TAG_RECORD, bytes)
    }

    /// Appends a checkpoint note (after the record that completes its size).
    pub fn checkpoint(&mut self, note: &str) -> std::io::Result<()> {
        frame(&mut self.out, TAG_CHECKPOINT, note.as_bytes())
    }

    /// Writes the end frame and flushes; returns the writer and the record count.
    pub fn finish(mut self) -> std::io::Result<(W, u64)> {
        frame(&mut self.out, TAG_END, &self.records.to_be_bytes())?;
        self.out.flush()?;
        Ok((self.out, self.records))
    }
}

fn frame(out: &mut impl Write, tag: u8, payload: &[u8]) -> std::io::Result<()> {
    let len = u32::try_from(payload.len())
        .map_err(|_| std::io::Error::other("frame larger than 4 GiB"))?;
    out.write_all(&[tag])?;
    out.write_all(&len.to_be_bytes())?;
    out.write_all(payload)
}

/// Reads an export file as a [`Source`] for [`crate::verify`].
#[derive(Debug)]
pub struct ExportReader<R: Read> {
    input: R,
    node_vkey: String,
    records: u64,
    ended: bool,
}

fn input(e: impl std::fmt::Display) -> VerifyError {
    VerifyError::Input(e.to_string())
}

impl<R: Read> ExportReader<R> {
    /// Checks the magic and reads the header.
    pub fn new(mut input_: R) -> Result<ExportReader<R>, VerifyError> {
        let mut magic = vec![0u8; EXPORT_MAGIC.len()];
        input_
            .read_exact(&mut magic)
            .map_err(|_| input("not a coopledger export (file too short)"))?;
        if magic != EXPORT_MAGIC {
            return Err(input("not a coopledger export (wrong magic)"));
        }
        let mut r = ExportReader {
            input: input_,
            node_vkey: String::new(),
            records: 0,
            ended: false,
        };
        match r.frame()? {
            Some((TAG_HEADER, payload)) => {
                // For people, never trusted (docs/FORMAT.md §13): any bytes are read, shown
                // as UTF-8 with what is not replaced.
                r.node_vkey = String::from_utf8_lossy(&payload).into_owned();
            }
            _ => return Err(input("export has no header frame")),
        }
        Ok(r)
    }

    fn frame(&mut self) -> Result<Option<(u8, Vec<u8>)>, VerifyError> {
        let mut head = [0u8; 5];
        match self.input.read(&mut head[..1]) {
            Ok(0) => return Ok(None),
            Ok(_) => {}
            Err(e) => return Err(input(e)),
        }
        self.input
            .read_exact(&mut head[1..])
            .map_err(|_| input("export ends inside a frame header"))?;
        let [tag, l0, l1, l2, l3] = head;
        let len = u32::from_be_bytes([l0, l1, l2, l3]) as usize;
        let limit = match tag {
            TAG_HEADER => MAX_HEADER,
            TAG_RECORD => MAX_ENCODED_LEN,
            TAG_CHECKPOINT => MAX_NOTE_LEN,
            TAG_END => 8,
            other => return Err(input(format!("unknown frame type 0x{other:02x}"))),
        };
        if len > limit {
            return Err(input(format!(
                "frame of {len} bytes is larger than the limit of {limit} for its type"
            )));
        }
        let mut payload = vec![0u8; len];
        self.input
            .read_exact(&mut payload)
            .map_err(|_| input("export ends inside a frame"))?;
        Ok(Some((tag, payload)))
    }
}

impl<R: Read> Source for ExportReader<R> {
    fn next_item(&mut self) -> Result<Option<Item>, VerifyError> {
        if self.ended {
            return Ok(None);
        }
        match self.frame()? {
            None => Err(input("export is truncated: it ends without its end frame")),
            Some((TAG_RECORD, bytes)) => {
                self.records += 1;
                Ok(Some(Item::Record(bytes)))
            }
            Some((TAG_CHECKPOINT, note)) => String::from_utf8(note)
                .map(|n| Some(Item::Checkpoint(n)))
                .map_err(|_| input("checkpoint frame is not UTF-8")),
            Some((TAG_END, count)) => {
                let count = <[u8; 8]>::try_from(count.as_slice())
                    .map(u64::from_be_bytes)
                    .map_err(|_| input("end frame is not 8 bytes"))?;
                if count != self.records {
                    return Err(input(format!(
                        "end frame counts {count} records but the file holds {}",
                        self.records
                    )));
                }
                let mut rest = [0u8; 1];
                if self.input.read(&mut rest).map_err(input)? != 0 {
                    return Err(input("bytes after the end frame"));
                }
                self.ended = true;
                Ok(None)
            }
            Some((tag, _)) => Err(input(format!(
                "unexpected frame type '{}' after the header",
                char::from(tag)
            ))),
        }
    }
}

impl<R: Read> ExportReader<R> {
    /// The node keys the header states (a claim, for display; never trusted).
    pub fn stated_node_vkeys(&self) -> Vec<String> {
        self.node_vkey
            .split('\n')
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Result<Vec<u8>, std::io::Error> {
        let mut w = ExportWriter::new(Vec::new(), &["node+01020304+AQ".to_owned()])?;
        w.record(b"abc")?;
        w.checkpoint("note\n")?;
        w.record(b"de")?;
        Ok(w.finish()?.0)
    }

    fn items(bytes: &[u8]) -> Result<Vec<Item>, VerifyError> {
        let mut r = ExportReader::new(bytes)?;
        let mut out = Vec::new();
        while let Some(i) = r.next_item()? {
            out.push(i);
        }
        Ok(out)
    }

    #[test]
    fn round_trip() -> Result<(), Box<dyn std::error::Error>> {
        let bytes = sample()?;
        assert_eq!(
            ExportReader::new(bytes.as_slice())?.stated_node_vkeys(),
            vec!["node+01020304+AQ".to_owned()]
        );
        assert_eq!(
            items(&bytes)?,
            vec![
                Item::Record(b"abc".to_vec()),
                Item::Checkpoint("note\n".into()),
                Item::Record(b"de".to_vec())
            ]
        );
        Ok(())
    }

    /// Issue 28, finding 9: the header is for people and never trusted, so bytes that
    /// are not UTF-8 there do not stop a verification (they were refused).
    #[test]
    fn a_header_that_is_not_utf8_is_read_not_trusted() -> Result<(), Box<dyn std::error::Error>> {
        let mut bytes = sample()?;
        let at = EXPORT_MAGIC.len() + 5;
        if let Some(b) = bytes.get_mut(at) {
            *b = 0xFF;
        }
        assert_eq!(items(&bytes)?.len(), 3);
        Ok(())
    }

    #[test]
    fn every_truncation_and_garbage_is_a_clean_error() -> Result<(), Box<dyn std::error::Error>> {
        let bytes = sample()?;
        for cut in 0..bytes.len() {
            let r = items(bytes.get(..cut).unwrap_or_default());
            assert!(
                matches!(r, Err(VerifyError::Input(_))),
                "cut at {cut}: {r:?}"
            );
        }
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(matches!(items(&extra), Err(VerifyError::Input(_))));
        let mut huge = bytes.clone();
        // The first record frame's length, made enormous.
        let at = EXPORT_MAGIC.len() + 5 + "node+01020304+AQ".len() + 1;
        if let Some(b) = huge.get_mut(at) {
            *b = 0xFF;
        }
        assert!(matches!(items(&huge), Err(VerifyError::Input(_))));
        Ok(())
    }
}
