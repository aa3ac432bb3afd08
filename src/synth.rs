//! Synthetic snapshots that meet every structural and power-table rule, built from a seed: the
//! raw material of property tests, mutated vectors and benchmarks.
//!
//! By default keys and signatures are random bytes (not BLS), so these chains are never valid
//! at the signature level. With [`Params::sign_for`] set, keys are real BLS12-381 keys derived
//! from the seed and every certificate is signed as go-f3 signs one: each signer signs the
//! DECIDE payload for the network, and the signatures are aggregated with the BDN weights of
//! the table in force. That makes an independent Rust signer to test the verifier (and go-f3's)
//! against; fixtures signed by go-f3 itself come from `interop/go-f3`.

pub mod quorum;
pub mod signed;

use cid::Cid;
use num_bigint::BigInt;

use crate::cids::{cid_of, DAG_CBOR};
use crate::types::{
    F3SnapshotHeader, FinalityCertificate, PowerEntries, PowerEntry, PowerTableDelta, Signers,
    SupplementalData, TipSet,
};
use crate::validate::power::{table_order, PowerTable};

pub mod mainnet;

/// A small deterministic generator (SplitMix64), so a seed always gives the same chain.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(n + 8);
        while v.len() < n {
            v.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        v.truncate(n);
        v
    }
}

/// What to build.
#[derive(Debug, Clone)]
pub struct Params {
    /// Seed of everything random.
    pub seed: u64,
    /// Participants in the initial table.
    pub participants: usize,
    /// Number of certificates.
    pub instances: u64,
    /// Instance of the first certificate, lowered if need be so that the last one's instance
    /// fits in 64 bits.
    pub first_instance: u64,
    /// Largest number of new tipsets a certificate adds after its base.
    pub max_new_tipsets: u64,
    /// Percentage of certificates that carry a power table delta.
    pub churn_percent: u64,
    /// Sign every certificate for this network name with real BLS keys.
    pub sign_for: Option<String>,
    /// The kind of chain: this generator's own, or one shaped like mainnet's.
    pub shape: Shape,
}

/// The kind of chain [`build`] makes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Shape {
    /// Random powers below 2^50, every participant with power signing, up to
    /// [`Params::max_new_tipsets`] new tipsets per certificate, and deltas that mix joins,
    /// leaves, power changes and key rotations.
    #[default]
    Uniform,
    /// Mainnet's powers, signers and deltas as the real data shows them ([`mainnet`]).
    Mainnet,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            seed: 1,
            participants: 4,
            instances: 10,
            first_instance: 0,
            max_new_tipsets: 3,
            churn_percent: 30,
            sign_for: None,
            shape: Shape::Uniform,
        }
    }
}

impl Params {
    /// The first certificate's instance, lowered so that the last one's fits in 64 bits.
    fn first(&self) -> u64 {
        self.first_instance
            .min(u64::MAX - (self.instances.max(1) - 1))
    }

    /// A mainnet-shaped chain of `instances` certificates ([`mainnet`]) with `churn_percent`
    /// of them carrying a power table delta, e.g. [`mainnet::LOW_CHURN_PERCENT`] or 80.
    pub fn mainnet(instances: u64, churn_percent: u64, sign_for: Option<String>) -> Params {
        Params {
            participants: mainnet::PARTICIPANTS,
            instances,
            max_new_tipsets: 1,
            churn_percent,
            sign_for,
            shape: Shape::Mainnet,
            ..Params::default()
        }
    }
}

/// Makes participants' keys: random bytes, or BLS keys whose secrets are kept for signing.
struct Keys {
    real: bool,
    secrets: std::collections::HashMap<Vec<u8>, blst::min_pk::SecretKey>,
}

impl Keys {
    fn new_key(&mut self, rng: &mut Rng) -> Vec<u8> {
        if !self.real {
            return rng.bytes(48);
        }
        let ikm = rng.bytes(32);
        match blst::min_pk::SecretKey::key_gen(&ikm, &[]) {
            Ok(sk) => {
                let pk = sk.sk_to_pk().to_bytes().to_vec();
                self.secrets.insert(pk.clone(), sk);
                pk
            }
            Err(_) => unreachable!("32 bytes of key material are enough for key_gen"),
        }
    }

    /// The BDN-aggregated signature of `signers` (indexes into `entries`) over `payload`.
    ///
    /// The aggregate `sum (c_i + 1) * sk_i * H(m)` is `(sum (c_i + 1) * sk_i mod r) * H(m)`:
    /// one signature with the combined secret, the same point (and bytes) as signing with each
    /// key and aggregating, at the cost of one.
    fn sign(&self, entries: &[PowerEntry], signers: &[u64], payload: &[u8]) -> Vec<u8> {
        use crate::validate::crypto::{bdn_weights, DST};
        use num_bigint::BigUint;
        let keys: Vec<&[u8]> = entries.iter().map(|e| e.pub_key.as_slice()).collect();
        let weights = bdn_weights(&keys);
        let order = BigUint::from_bytes_be(&GROUP_ORDER);
        let mut combined = BigUint::default();
        let mut any = false;
        for &i in signers {
            let (Some(e), Some(w)) = (entries.get(i as usize), weights.get(i as usize)) else {
                continue;
            };
            if let Some(sk) = self.secrets.get(&e.pub_key) {
                combined += BigUint::from_bytes_le(w) * BigUint::from_bytes_be(&sk.to_bytes());
                any = true;
            }
        }
        let combined = (combined % order).to_bytes_be();
        let mut bytes = [0u8; 32];
        if let Some(dst) = bytes.get_mut(32usize.saturating_sub(combined.len())..) {
            dst.copy_from_slice(
                combined
                    .get(combined.len().saturating_sub(32)..)
                    .unwrap_or_default(),
            );
        }
        match blst::min_pk::SecretKey::from_bytes(&bytes) {
            Ok(sk) if any => sk.sign(payload, DST, &[]).to_bytes().to_vec(),
            // No signer, or a combined secret of zero (the identity): never in practice.
            _ => vec![0; 96],
        }
    }
}

/// The order r of BLS12-381's groups, big-endian.
const GROUP_ORDER: [u8; 32] = [
    0x73, 0xed, 0xa7, 0x53, 0x29, 0x9d, 0x7d, 0x48, 0x33, 0x39, 0xd8, 0x08, 0x09, 0xa1, 0xd8, 0x05,
    0x53, 0xbd, 0xa4, 0x02, 0xff, 0xfe, 0x5b, 0xfe, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01,
];

fn fake_block_cid(rng: &mut Rng) -> Cid {
    cid_of(DAG_CBOR, &rng.bytes(16))
}

/// A tipset of 1 to `max_blocks` made-up blocks at `epoch`.
fn tipset(rng: &mut Rng, epoch: i64, power_table: Cid, max_blocks: u64) -> TipSet {
    let blocks = 1 + rng.below(max_blocks);
    let mut key = Vec::new();
    for _ in 0..blocks {
        key.extend_from_slice(&fake_block_cid(rng).to_bytes());
    }
    TipSet {
        epoch,
        key,
        power_table,
        commitments: [0; 32],
    }
}

/// A random power table delta that go-f3 accepts: power changes, joins, key rotations and
/// removals, sorted by participant.
fn random_delta(
    rng: &mut Rng,
    keys: &mut Keys,
    table: &mut PowerTable,
    next_id: &mut u64,
) -> Vec<PowerTableDelta> {
    let entries = table.entries().clone();
    let mut out: std::collections::BTreeMap<u64, PowerTableDelta> = Default::default();
    let changes = 1 + rng.below(3);
    let mut leaving = 0;
    for _ in 0..changes {
        let kind = rng.below(4);
        if kind == 0 || entries.0.len() <= 2 {
            // A participant joins.
            let id = *next_id;
            *next_id += 1 + rng.below(5);
            out.insert(
                id,
                PowerTableDelta {
                    participant_id: id,
                    power_delta: BigInt::from(1 + rng.below(1 << 40)),
                    signing_key: keys.new_key(rng),
                },
            );
            continue;
        }
        let Some(e) = entries.0.get(rng.below(entries.0.len() as u64) as usize) else {
            continue;
        };
        if out.contains_key(&e.id) {
            continue;
        }
        let d = match kind {
            // Power rises or falls but stays positive.
            1 => {
                let up = rng.below(2) == 0;
                let amount = BigInt::from(1 + rng.below(1 << 30));
                let delta = if up || amount >= e.power {
                    amount
                } else {
                    -amount
                };
                PowerTableDelta {
                    participant_id: e.id,
                    power_delta: delta,
                    signing_key: Vec::new(),
                }
            }
            // Key rotation, power unchanged.
            2 => PowerTableDelta {
                participant_id: e.id,
                power_delta: BigInt::default(),
                signing_key: keys.new_key(rng),
            },
            // The participant leaves, unless the table would be left empty (a rule of the
            // chain level: an empty table makes go-f3's quorum rule pass unsigned certificates).
            _ if leaving + 1 < entries.0.len() => {
                leaving += 1;
                PowerTableDelta {
                    participant_id: e.id,
                    power_delta: -e.power.clone(),
                    signing_key: Vec::new(),
                }
            }
            _ => continue,
        };
        out.insert(e.id, d);
    }
    out.into_values().collect()
}

/// Builds a header and a certificate chain that pass `check` at the `chain` level (and at
/// `crypto` with [`Params::sign_for`]).
pub fn build(p: &Params) -> (F3SnapshotHeader, Vec<FinalityCertificate>) {
    if p.shape == Shape::Mainnet {
        return mainnet::build(p);
    }
    build_inner(p, &[])
}

/// [`build`], but the certificates finalize the given tipsets (epoch and key, epochs
/// increasing) instead of random ones: the first is the first certificate's base, the rest
/// are shared out in order among the certificates, so the last certificate's head is the last
/// given tipset. An empty list means random tipsets. Always the [`Shape::Uniform`] shape.
pub fn build_finalizing(
    p: &Params,
    tipsets: &[(i64, Vec<u8>)],
) -> (F3SnapshotHeader, Vec<FinalityCertificate>) {
    build_inner(p, tipsets)
}

fn build_inner(
    p: &Params,
    given: &[(i64, Vec<u8>)],
) -> (F3SnapshotHeader, Vec<FinalityCertificate>) {
    let given_tipset = |t: &(i64, Vec<u8>), power_table: Cid| TipSet {
        epoch: t.0,
        key: t.1.clone(),
        power_table,
        commitments: [0; 32],
    };
    let instances = p.instances.max(1);
    // Certificate n adds the given tipsets after `share(n)` up to `share(n + 1)`.
    let share =
        |n: u64| (n as usize).saturating_mul(given.len().saturating_sub(1)) / instances as usize;
    let mut rng = Rng::new(p.seed);
    let mut keys = Keys {
        real: p.sign_for.is_some(),
        secrets: Default::default(),
    };
    let mut entries: Vec<PowerEntry> = (0..p.participants.max(1))
        .map(|i| PowerEntry {
            id: 1000 + i as u64 * 7,
            power: BigInt::from(1 + rng.below(1 << 50)),
            pub_key: keys.new_key(&mut rng),
        })
        .collect();
    entries.sort_by(table_order);
    let initial = PowerEntries(entries);
    let mut table = PowerTable::new(&initial);
    let mut next_id = 1000 + p.participants as u64 * 7 + 1;

    let mut epoch: i64 = 100 + rng.below(1000) as i64;
    let mut head = match given.first() {
        Some(t) => given_tipset(t, table.cid()),
        None => tipset(&mut rng, epoch, table.cid(), 3),
    };
    let mut certs = Vec::new();
    for n in 0..instances {
        let instance = p.first() + n;
        let mut chain = vec![head.clone()];
        if given.is_empty() {
            for _ in 0..rng.below(p.max_new_tipsets + 1) {
                // Gaps of more than one epoch are null rounds.
                epoch += 1 + rng.below(3) as i64;
                chain.push(tipset(&mut rng, epoch, table.cid(), 3));
            }
        }
        for t in given
            .get(share(n) + 1..share(n + 1) + 1)
            .unwrap_or_default()
        {
            chain.push(given_tipset(t, table.cid()));
        }
        // Everyone with power left after go-f3's scaling signs (a zero-scaled signer is an
        // error in go-f3's validation).
        let scaled = crate::validate::crypto::scaled_powers(&table.entries().0)
            .map(|(s, _)| s)
            .unwrap_or_default();
        let signers = Signers::from_indexes(
            scaled
                .iter()
                .enumerate()
                .filter(|(_, &s)| s > 0)
                .map(|(i, _)| i as u64),
        );
        let signing_table = table.entries().clone();
        let delta = if rng.below(100) < p.churn_percent {
            random_delta(&mut rng, &mut keys, &mut table, &mut next_id)
        } else {
            Vec::new()
        };
        if table.apply(&delta).is_err() {
            unreachable!("generated deltas follow go-f3's rules");
        }
        head = chain.last().cloned().unwrap_or_else(|| head.clone());
        let mut cert = FinalityCertificate {
            instance,
            ec_chain: Some(chain),
            supplemental_data: SupplementalData {
                commitments: [0; 32],
                power_table: table.cid(),
            },
            signers,
            signature: rng.bytes(96),
            power_table_delta: delta,
        };
        if let Some(network) = &p.sign_for {
            let payload = crate::validate::crypto::signing_payload(network, &cert);
            let all: Vec<u64> = cert.signers.iter().collect();
            cert.signature = keys.sign(&signing_table.0, &all, &payload);
        }
        certs.push(cert);
    }
    let header = F3SnapshotHeader {
        version: crate::f3data::HEADER_VERSION,
        first_instance: p.first(),
        latest_instance: p.first() + (instances - 1),
        initial_power_table: initial,
    };
    (header, certs)
}
