//! Validation of an F3 data stream, fed one block at a time so memory is bounded by the power
//! table, never by the chain.
//!
//! Levels, each including the one before:
//! - [`Level::Structure`]: the byte-level rules (enforced by the decoder), the header, each
//!   certificate's own ECChain, and the certificate sequence (consecutive instances from
//!   FirstInstance, at least one, the last equal to LatestInstance).
//! - [`Level::Import`]: what go-f3's `ImportSnapshotToDatastore` adds: power table deltas applied
//!   with all of `certs.ApplyPowerTableDiffs`'s rejections, and the power table CID compared
//!   with `SupplementalData.PowerTable` at go-f3's checkpoints (every certificate whose
//!   `instance + 1` is a multiple of the checkpoint interval) and after the last certificate.
//! - [`Level::Chain`] (the default): as `Import`, but the CID is compared after every
//!   certificate, each chain's base must be the previous certificate's head, signer indexes
//!   must lie within the table, and no delta may empty the table. (For a v2 snapshot the
//!   report also checks the F3 data against its chain: [`crate::chain::consistency`].)
//! - [`Level::Crypto`]: as `Chain`, and every certificate's strong quorum and BDN-aggregated
//!   BLS signature, batched across certificates ([`crypto`], [`batch`]).

pub mod aggregate;
pub mod batch;
pub mod crypto;
mod facts;
mod order;
pub mod pool;
pub mod power;

use std::sync::atomic::Ordering::Relaxed;

use cid::Cid;

use crate::error::{Error, ErrorKind, Location, Result};
use crate::f3data::{Block, HEADER_VERSION};
use crate::types::{F3SnapshotHeader, FinalityCertificate};
use crate::view::CertificateRef;
use facts::Facts;
use power::{check_table, PowerTable};

/// go-f3's `defaultPowerTableFrequency` (certstore): one day of instances at one a minute.
pub const DEFAULT_POWER_TABLE_FREQUENCY: u64 = 60 * 24;

/// go-f3 refuses an ECChain longer than this (`gpbft.ChainMaxLen`).
pub const CHAIN_MAX_LEN: u64 = 128;

/// How deep to validate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Level {
    /// Bytes, header, per-certificate structure and the certificate sequence.
    Structure,
    /// `Structure` plus what go-f3's import checks.
    Import,
    /// `Import` plus power table CIDs after every certificate and chain continuity.
    Chain,
    /// `Chain` plus strong quorum and the BDN-aggregated BLS signature of every certificate.
    Crypto,
}

impl Level {
    /// The level's name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Level::Structure => "structure",
            Level::Import => "import",
            Level::Chain => "chain",
            Level::Crypto => "crypto",
        }
    }

    /// The level named `name`.
    pub fn from_name(name: &str) -> Option<Level> {
        [Level::Structure, Level::Import, Level::Chain, Level::Crypto]
            .into_iter()
            .find(|l| l.name() == name)
    }
}

/// What the caller knows in advance (go-f3's manifest fields that import uses).
#[derive(Debug, Clone, Default)]
pub struct Manifest {
    /// The network's first instance; the header's FirstInstance must equal it.
    pub initial_instance: Option<u64>,
    /// The network's initial power table CID; the header's table must hash to it.
    pub initial_power_table: Option<Cid>,
}

/// Validation settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// How deep to go.
    pub level: Level,
    /// Checkpoint interval for [`Level::Import`].
    pub power_table_frequency: u64,
    /// Expected network facts, if any.
    pub manifest: Manifest,
    /// The network name certificates are signed for (level `crypto`).
    pub network: String,
    /// Threads verifying signatures at level `crypto` (0: one per core; 1: inline).
    pub threads: usize,
    /// Most certificates whose signatures are checked together at level `crypto` (0: the
    /// default, [`crypto::BATCH`]; 1: one by one). The result never depends on it.
    pub signature_batch: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            level: Level::Chain,
            power_table_frequency: DEFAULT_POWER_TABLE_FREQUENCY,
            manifest: Manifest::default(),
            network: String::new(),
            threads: 0,
            signature_batch: 0,
        }
    }
}

/// What a completed validation established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Certificates read.
    pub certificates: u64,
    /// The power table CID after the last certificate's delta (levels `import` and `chain`).
    pub final_power_table: Option<Cid>,
    /// Power table encodings hashed to check commitments.
    pub tables_hashed: power::Hashed,
}

/// A streaming validator: made from the header, fed each certificate, then finished.
///
/// ```
/// use frc0108::f3data::{encode, F3DataReader};
/// use frc0108::validate::{Level, Options, Validator};
/// # use frc0108::{F3SnapshotHeader, PowerEntries, PowerEntry};
/// # let header = F3SnapshotHeader {
/// #     version: 1,
/// #     first_instance: 0,
/// #     latest_instance: 0,
/// #     initial_power_table: PowerEntries(vec![PowerEntry {
/// #         id: 1000,
/// #         power: 1.into(),
/// #         pub_key: vec![0xaa; 48],
/// #     }]),
/// # };
/// let (bytes, _) = encode(&header, &[]);
/// let mut reader = F3DataReader::new(&bytes[..])?;
/// let opts = Options { level: Level::Structure, ..Options::default() };
/// let mut validator = Validator::new(opts, reader.header())?;
/// for certificate in reader.by_ref() {
///     validator.certificate(&certificate?)?;
/// }
/// // A snapshot must hold at least one certificate.
/// assert_eq!(validator.finish().unwrap_err().code(), "sequence-empty");
/// # Ok::<(), frc0108::Error>(())
/// ```
pub struct Validator {
    opts: Options,
    first_instance: u64,
    latest_instance: u64,
    table: Option<PowerTable>,
    /// The last certificate's instance (after `u64::MAX`, no instance can follow).
    last_instance: Option<u64>,
    count: u64,
    /// The canonical encoding of the previous certificate's head, when it had one (equal
    /// encodings are equal tipsets), and room to encode a base for comparison.
    prev_head: Option<Vec<u8>>,
    scratch: Vec<u8>,
    verifier: Option<crypto::Verifier>,
    pool: Option<pool::Pool>,
    /// The table version and commitment last checked at the `chain` level.
    last_checked: Option<(u64, Cid)>,
    /// Table hashes queued on the pool and not yet done (level `chain`), and how many may be:
    /// past that the validator hashes the next table itself rather than wait for room.
    /// (Measured on two cores: waiting put a sleep and a wake-up on every certificate, and
    /// more threads hashing than cores, a fifth of the `chain` level's time beside the hashing
    /// itself.)
    queued_hashes: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    max_queued_hashes: usize,
}

impl Validator {
    /// A validator with `opts` for the stream that `header` opens; checks the header.
    pub fn new(opts: Options, header: &Block<F3SnapshotHeader>) -> Result<Self> {
        let table = check_header(&opts, header)?;
        let batch = match opts.signature_batch {
            0 => crypto::BATCH,
            n => n,
        };
        let threads = match opts.threads {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        };
        let verifier = (opts.level >= Level::Crypto)
            .then(|| crypto::Verifier::with_batch(&opts.network, batch).with_threads(threads));
        // At level `chain` the validator hashes tables itself while the workers are busy, so it
        // takes one core of the count: as many threads hashing as cores, never more.
        let workers = match opts.level {
            Level::Chain => threads - 1,
            _ => threads,
        };
        let pool = (opts.level >= Level::Chain && threads > 1).then(|| pool::Pool::new(workers));
        let h = &header.value;
        Ok(Validator {
            verifier,
            pool,
            last_checked: None,
            opts,
            first_instance: h.first_instance,
            latest_instance: h.latest_instance,
            table,
            last_instance: None,
            count: 0,
            prev_head: None,
            scratch: Vec::new(),
            queued_hashes: Default::default(),
            // Enough that no worker waits for the next table.
            max_queued_hashes: 2 * workers,
        })
    }

    /// The level in use.
    pub fn level(&self) -> Level {
        self.opts.level
    }

    /// Certificates accepted so far.
    pub fn certificates(&self) -> u64 {
        self.count
    }

    /// The power table in force (levels `import` and `chain`).
    pub fn power_table(&self) -> Option<&PowerTable> {
        self.table.as_ref()
    }

    /// Checks the next certificate.
    pub fn certificate(&mut self, block: &Block<FinalityCertificate>) -> Result<()> {
        let c = &block.value;
        self.located(c.instance, block.offset, |v| {
            v.check_certificate(c, block.offset)
        })
    }

    /// Checks the next certificate, read in place ([`crate::f3data::F3DataReader::next_view`]):
    /// the same checks, with the same errors, as [`Validator::certificate`].
    pub fn certificate_view(&mut self, block: &Block<CertificateRef<'_>>) -> Result<()> {
        if self.opts.level >= Level::Crypto {
            // Signatures are checked on the owned certificate.
            return self.certificate(&Block {
                offset: block.offset,
                len: block.len,
                value: block.value.to_certificate(),
            });
        }
        let c = &block.value;
        self.located(c.instance(), block.offset, |v| {
            v.check_before_signature(c)?;
            v.check_after_signature(c, block.offset)
        })
    }

    /// Runs `check` on a certificate, locating its errors, after any earlier failure.
    fn located(
        &mut self,
        instance: u64,
        offset: u64,
        check: impl FnOnce(&mut Self) -> Result<()>,
    ) -> Result<()> {
        // A check that failed on a worker belongs to an earlier certificate: it comes first.
        if self.pool.as_mut().is_some_and(pool::Pool::failed) {
            return self.stop();
        }
        let r = check(self).map_err(|e| e.in_instance(instance).at_offset(offset));
        match r {
            // Queued checks of this and earlier certificates come first.
            Err(e) => self.stop().and(Err(e)),
            Ok(()) => Ok(()),
        }
    }

    /// Runs or queues a batch of signature checks; inline, its failure is returned (and the
    /// certificates queued after it, later in the stream, are dropped).
    fn run_batch(&mut self, batch: batch::Batch) -> Result<()> {
        match self.pool.as_mut() {
            Some(pool) => {
                if let Some((seq, location)) = batch.first() {
                    pool.submit_ordered(Box::new(move || batch.run()), location, seq);
                }
                Ok(())
            }
            None => batch.run().map_err(|(_, e)| {
                if let Some(v) = self.verifier.as_mut() {
                    let _ = v.take();
                }
                e
            }),
        }
    }

    /// Checks every queued certificate; returns the earliest failure.
    fn stop(&mut self) -> Result<()> {
        let queued = self.verifier.as_mut().and_then(crypto::Verifier::take);
        let r = match queued {
            Some(batch) => self.run_batch(batch),
            None => Ok(()),
        };
        match self.pool.as_mut() {
            Some(pool) => pool.finish(),
            None => r,
        }
    }

    /// The sequence, the certificate's own chain, and at level `chain` its link to the previous
    /// certificate and its signers' range.
    fn check_before_signature(&mut self, c: &impl Facts) -> Result<()> {
        let instance = c.instance();
        let expected = match self.last_instance {
            None => Some(self.first_instance),
            Some(last) => last.checked_add(1),
        };
        if Some(instance) != expected {
            let kind = match self.last_instance {
                None => ErrorKind::SequenceFirst {
                    expected: self.first_instance,
                    found: instance,
                },
                Some(previous) if instance == previous => {
                    ErrorKind::SequenceDuplicate { found: instance }
                }
                Some(previous) if instance < previous => ErrorKind::SequenceOutOfOrder {
                    previous,
                    found: instance,
                },
                // Past the header's last instance, and not merely a gap before it.
                Some(previous)
                    if instance > self.latest_instance && previous >= self.latest_instance =>
                {
                    ErrorKind::SequenceBeyondLatest {
                        latest: self.latest_instance,
                        found: instance,
                    }
                }
                Some(previous) => ErrorKind::SequenceGap {
                    expected: previous.saturating_add(1),
                    found: instance,
                },
            };
            return Err(Error::new(kind));
        }
        if instance > self.latest_instance {
            return Err(Error::new(ErrorKind::SequenceBeyondLatest {
                latest: self.latest_instance,
                found: instance,
            }));
        }
        check_ec_chain(c)?;

        let level = self.opts.level;
        if level >= Level::Chain {
            if let Some(prev) = &self.prev_head {
                if c.base_is(prev, &mut self.scratch) == Some(false) {
                    return Err(
                        Error::new(ErrorKind::ChainBase).in_field("FinalityCertificate.ECChain")
                    );
                }
            }
            if let (Some(table), Some(last)) = (&self.table, c.last_signer()) {
                if last >= table.len() as u64 {
                    return Err(Error::new(ErrorKind::SignerOutOfRange {
                        index: last,
                        len: table.len() as u64,
                    })
                    .in_field("FinalityCertificate.Signers"));
                }
            }
        }
        Ok(())
    }

    fn check_certificate(&mut self, c: &FinalityCertificate, offset: u64) -> Result<()> {
        self.check_before_signature(c)?;
        if let (Some(v), Some(table)) = (self.verifier.as_mut(), self.table.as_mut()) {
            let field = "FinalityCertificate.Signature";
            let seq = self.pool.as_mut().map_or(self.count, pool::Pool::reserve);
            let full = v
                .add(
                    table.version(),
                    &table.entries().0,
                    c,
                    seq,
                    located(field, c.instance, offset),
                )
                .map_err(|e| e.in_field(field))?;
            if let Some(batch) = full {
                self.run_batch(batch)?;
            }
        }
        self.check_after_signature(c, offset)
    }

    /// The power table delta and commitment, then the certificate is accepted.
    fn check_after_signature(&mut self, c: &impl Facts, offset: u64) -> Result<()> {
        let level = self.opts.level;
        let instance = c.instance();
        if let Some(table) = self.table.as_mut() {
            c.apply_delta(table)
                .map_err(|e| e.in_field("FinalityCertificate.PowerTableDelta"))?;
            // go-f3 applies a delta that removes every participant; an empty table scales to a
            // total of zero, which go-f3's quorum rule then meets with no signer at all, so
            // every later certificate would pass unsigned. A table must never be empty.
            if level >= Level::Chain && table.is_empty() {
                return Err(Error::new(ErrorKind::DeltaEmptiesTable)
                    .in_field("FinalityCertificate.PowerTableDelta"));
            }
            let is_last = instance == self.latest_instance;
            let checkpoint =
                (instance.wrapping_add(1)) % self.opts.power_table_frequency.max(1) == 0;
            let expected = c.committed_table();
            let field = "FinalityCertificate.SupplementalData.PowerTable";
            if level >= Level::Chain && !is_last && !checkpoint {
                // The same table against the same commitment needs no second hash.
                let key = (table.version(), expected);
                if self.last_checked != Some(key) {
                    self.last_checked = Some(key);
                    // The encoding is shared with the worker, not copied: the table's next
                    // change copies the few parts it touches.
                    let encoding = table.snapshot_for_hashing();
                    let queued = &self.queued_hashes;
                    match self.pool.as_mut() {
                        Some(pool) if queued.load(Relaxed) < self.max_queued_hashes => {
                            queued.fetch_add(1, Relaxed);
                            let queued = std::sync::Arc::clone(queued);
                            pool.submit(
                                Box::new(move || {
                                    let r = check_table_cid(&encoding, expected);
                                    queued.fetch_sub(1, Relaxed);
                                    r
                                }),
                                located(field, instance, offset),
                            );
                        }
                        // A failure here comes after any queued one: `located` reports the
                        // earliest.
                        _ => check_table_cid(&encoding, expected).map_err(|e| e.in_field(field))?,
                    }
                }
            } else if level >= Level::Import && (checkpoint || is_last || level >= Level::Chain) {
                let computed = table.cid();
                if computed != expected {
                    return Err(Error::new(ErrorKind::PowerTableCidMismatch {
                        expected: expected.to_string(),
                        computed: computed.to_string(),
                    })
                    .in_field(field));
                }
            }
        }
        let mut head = self.prev_head.take().unwrap_or_default();
        self.prev_head = c.head(&mut head).then_some(head);
        self.count += 1;
        self.last_instance = Some(instance);
        Ok(())
    }

    /// Checks the end of the stream (after every queued signature check).
    pub fn finish(&mut self) -> Result<Summary> {
        self.stop()?;
        let Some(last) = self.last_instance else {
            return Err(Error::new(ErrorKind::SequenceEmpty));
        };
        if last != self.latest_instance {
            return Err(Error::new(ErrorKind::SequenceShort {
                last,
                latest: self.latest_instance,
            }));
        }
        Ok(Summary {
            certificates: self.count,
            final_power_table: self.table.as_mut().map(PowerTable::cid),
            tables_hashed: self
                .table
                .as_ref()
                .map(PowerTable::hashed)
                .unwrap_or_default(),
        })
    }
}

/// Checks the header against the format's rules and the manifest; returns the power table
/// the deeper levels keep.
fn check_header(opts: &Options, block: &Block<F3SnapshotHeader>) -> Result<Option<PowerTable>> {
    let h = &block.value;
    let at = |e: Error| e.at_offset(block.offset).in_field("F3SnapshotHeader");
    if h.version != HEADER_VERSION {
        return Err(at(Error::new(ErrorKind::HeaderVersion(h.version))));
    }
    if h.first_instance > h.latest_instance {
        return Err(at(Error::new(ErrorKind::HeaderInstanceRange {
            first: h.first_instance,
            latest: h.latest_instance,
        })));
    }
    check_table(&h.initial_power_table)
        .map_err(|e| e.in_field("F3SnapshotHeader.InitialPowerTable"))
        .map_err(at)?;
    let network = if opts.network.is_empty() {
        "the manifest".to_string()
    } else {
        format!("network {:?}", opts.network)
    };
    if let Some(first) = opts.manifest.initial_instance {
        if first != h.first_instance {
            return Err(at(Error::new(ErrorKind::NetworkMismatch(format!(
                "{network}: FirstInstance is {}, the manifest says {first}",
                h.first_instance
            )))));
        }
    }
    let need_table = opts.level >= Level::Import || opts.manifest.initial_power_table.is_some();
    if !need_table {
        return Ok(None);
    }
    let mut table = PowerTable::new(&h.initial_power_table);
    if let Some(expected) = opts.manifest.initial_power_table {
        if expected != table.cid() {
            return Err(at(Error::new(ErrorKind::NetworkMismatch(format!(
                "{network}: the initial power table's CID is {}, the manifest says {expected}",
                table.cid()
            )))));
        }
    }
    Ok((opts.level >= Level::Import).then_some(table))
}

/// Where a certificate's check that runs on a worker is reported.
fn located(field: &'static str, instance: u64, offset: u64) -> Location {
    Location {
        offset: Some(offset),
        instance: Some(instance),
        field: Some(field),
    }
}

/// Compares a table's CID, computed from its encoding, with the certificate's commitment.
fn check_table_cid(encoding: &power::TableBytes, expected: Cid) -> Result<()> {
    let computed = encoding.cid();
    if computed != expected {
        return Err(Error::new(ErrorKind::PowerTableCidMismatch {
            expected: expected.to_string(),
            computed: computed.to_string(),
        }));
    }
    Ok(())
}

/// A certificate's own chain: not empty, within go-f3's length limit, epochs strictly
/// increasing from zero, every tipset key non-empty (`gpbft.ECChain.Validate`; go-f3's import
/// skips this, its `ValidateFinalityCertificates` does not).
fn check_ec_chain(c: &impl Facts) -> Result<()> {
    let len = c.tipset_count();
    let field = "FinalityCertificate.ECChain";
    if len == 0 {
        return Err(Error::new(ErrorKind::ChainEmpty).in_field(field));
    }
    if len > CHAIN_MAX_LEN {
        return Err(Error::new(ErrorKind::ChainTooLong {
            len,
            max: CHAIN_MAX_LEN,
        })
        .in_field(field));
    }
    // go-f3 starts from epoch -1, so a negative first epoch fails the same rule.
    let mut prev: Option<i64> = Some(-1);
    for (i, (epoch, key_empty)) in c.tipsets().enumerate() {
        if key_empty {
            return Err(Error::new(ErrorKind::ChainEmptyKey { index: i as u64 }).in_field(field));
        }
        if prev.is_some_and(|p| epoch <= p) {
            return Err(Error::new(ErrorKind::ChainEpochs { index: i as u64 }).in_field(field));
        }
        prev = Some(epoch);
    }
    Ok(())
}
