//! Signed certificate chains built from an explicit plan: the initial table, and for each
//! certificate its chain, who signs, its power table delta and how its signature is made. The
//! plan names signers by participant, so that a change to a delta (a power shift, a key
//! rotation) keeps its meaning, and everything derived (power table CIDs, signer indexes,
//! signatures) is recomputed when the plan is built. Tests edit a plan to break or keep a
//! certificate's validity on purpose, at the signature level.
//!
//! Keys are real BLS12-381 keys whose secrets the [`KeyRing`] keeps. A BDN aggregate signature
//! is `sum over signers of (c_i + 1) * sk_i * H(m)`; the ring computes the scalar
//! `sum (c_i + 1) * sk_i` modulo the group order and signs once with it. That gives the same
//! point as aggregating each signer's signature (see the test), at the cost of one signature
//! per certificate, and it is derived apart from the verifier's aggregation of public keys.

use std::collections::HashMap;

use blst::min_pk::SecretKey;
use num_bigint::BigUint;

use crate::cids::{cid_of, DAG_CBOR};
use crate::synth::{quorum, Rng};
use crate::types::{
    F3SnapshotHeader, FinalityCertificate, PowerEntries, PowerEntry, PowerTableDelta, Signers,
    SupplementalData, TipSet,
};
use crate::validate::crypto::{bdn_weights, signing_payload, DST};
use crate::validate::power::{table_order, PowerTable};

/// The order of BLS12-381's groups (the scalar field's modulus), big-endian.
const GROUP_ORDER: &str = "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001";

/// The compressed G2 point at infinity: the aggregate of no signature.
pub fn infinity_signature() -> Vec<u8> {
    let mut v = vec![0u8; 96];
    if let Some(b) = v.first_mut() {
        *b = 0xc0;
    }
    v
}

/// BLS keys made from a seed, with their secrets.
#[derive(Default)]
pub struct KeyRing {
    secrets: HashMap<Vec<u8>, SecretKey>,
}

impl KeyRing {
    /// An empty ring.
    pub fn new() -> Self {
        KeyRing::default()
    }

    /// A new key pair from `rng`; returns the compressed public key (48 bytes).
    pub fn generate(&mut self, rng: &mut Rng) -> Vec<u8> {
        loop {
            if let Ok(sk) = SecretKey::key_gen(&rng.bytes(32), &[]) {
                let pk = sk.sk_to_pk().to_bytes().to_vec();
                self.secrets.insert(pk.clone(), sk);
                return pk;
            }
        }
    }

    /// Whether the ring holds the secret of `key`.
    pub fn knows(&self, key: &[u8]) -> bool {
        self.secrets.contains_key(key)
    }

    /// The BDN aggregate signature over `payload` by the participants at `signers` (indexes
    /// into `table`, whose keys fix the BDN coefficients); signer `i` signs with the secret of
    /// `secret_key(i)`, normally its own key. `None` when a secret is unknown or an index out
    /// of range.
    pub fn aggregate(
        &self,
        table: &[PowerEntry],
        signers: &[usize],
        secret_key: &dyn Fn(usize) -> Vec<u8>,
        payload: &[u8],
    ) -> Option<Vec<u8>> {
        let order = BigUint::parse_bytes(GROUP_ORDER.as_bytes(), 16)?;
        let keys: Vec<&[u8]> = table.iter().map(|e| e.pub_key.as_slice()).collect();
        let weights = bdn_weights(&keys);
        let mut scalar = BigUint::default();
        for &i in signers {
            let w = BigUint::from_bytes_le(weights.get(i)?);
            let sk = self.secrets.get(&secret_key(i))?;
            scalar += w * BigUint::from_bytes_be(&sk.to_bytes());
        }
        scalar %= &order;
        if scalar == BigUint::default() {
            return Some(infinity_signature());
        }
        let mut be = scalar.to_bytes_be();
        while be.len() < 32 {
            be.insert(0, 0);
        }
        let sk = SecretKey::from_bytes(&be).ok()?;
        Some(sk.sign(payload, DST, &[]).to_bytes().to_vec())
    }
}

/// Who signs a certificate, resolved against the table in force when the plan is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignerChoice {
    /// Every participant with power left after scaling.
    All,
    /// These participants (those not in the table are left out).
    Ids(Vec<u64>),
    /// These table indexes, as they are (out of range ones included).
    Indexes(Vec<u64>),
    /// A random strong quorum drawn with this seed: participants in a random order until the
    /// quorum is reached, then up to two more.
    Random(u64),
}

/// How a certificate's signature is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignaturePlan {
    /// The signers' aggregate over the certificate's payload.
    Sign,
    /// As [`SignaturePlan::Sign`], but these participants sign with the secret of another key
    /// (a rotated key's old one, say).
    SignWithKeys(Vec<(u64, Vec<u8>)>),
    /// The aggregate of another set of participants over the payload.
    SignAs(SignerChoice),
    /// The signers' aggregate over the payload for another network name.
    SignFor(String),
    /// The aggregate [`SignaturePlan::Sign`] gives, with one bit flipped (0 is the most
    /// significant bit of the first byte).
    FlipBit(u16),
    /// These bytes.
    Bytes(Vec<u8>),
}

/// One certificate of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertPlan {
    /// The ECChain, base first (the previous certificate's head, for a valid chain).
    pub chain: Vec<TipSet>,
    /// Who signs.
    pub signers: SignerChoice,
    /// The power table delta.
    pub delta: Vec<PowerTableDelta>,
    /// How the signature is made.
    pub signature: SignaturePlan,
}

/// A signed chain to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The network name certificates are signed for.
    pub network: String,
    /// The first certificate's instance.
    pub first_instance: u64,
    /// The header's power table (put in go-f3's order when built).
    pub initial: Vec<PowerEntry>,
    /// The certificates.
    pub certs: Vec<CertPlan>,
}

/// A built plan.
#[derive(Debug, Clone)]
pub struct Built {
    /// The snapshot header.
    pub header: F3SnapshotHeader,
    /// The certificates.
    pub certs: Vec<FinalityCertificate>,
    /// The power table in force for each certificate (the one its signers index).
    pub in_force: Vec<PowerEntries>,
}

impl Built {
    /// The F3 data stream.
    pub fn encode(&self) -> Vec<u8> {
        crate::f3data::encode(&self.header, &self.certs).0
    }
}

/// A plan of `certs` certificates over `initial`, each signed by every participant, with no
/// deltas; the first instance is random.
pub fn plan_all_sign(network: &str, initial: Vec<PowerEntry>, certs: usize, rng: &mut Rng) -> Plan {
    Plan {
        network: network.to_string(),
        first_instance: rng.below(2000),
        initial,
        certs: chains(rng, certs.max(1), 2)
            .into_iter()
            .map(|chain| CertPlan {
                chain,
                signers: SignerChoice::All,
                delta: Vec::new(),
                signature: SignaturePlan::Sign,
            })
            .collect(),
    }
}

/// `count` chains of 1 to `max_new + 1` tipsets, each based on the previous one's head.
pub fn chains(rng: &mut Rng, count: usize, max_new: u64) -> Vec<Vec<TipSet>> {
    let mut epoch = 100 + rng.below(1000) as i64;
    let mut head = fake_tipset(rng, epoch);
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let mut chain = vec![head.clone()];
        for _ in 0..rng.below(max_new + 1) {
            epoch += 1 + rng.below(3) as i64;
            chain.push(fake_tipset(rng, epoch));
        }
        head = chain.last().cloned().unwrap_or_else(|| head.clone());
        out.push(chain);
    }
    out
}

fn fake_tipset(rng: &mut Rng, epoch: i64) -> TipSet {
    let mut key = Vec::new();
    for _ in 0..1 + rng.below(3) {
        key.extend_from_slice(&cid_of(DAG_CBOR, &rng.bytes(16)).to_bytes());
    }
    TipSet {
        epoch,
        key,
        power_table: cid_of(DAG_CBOR, &rng.bytes(16)),
        commitments: [0; 32],
    }
}

/// Table indexes of `choice` in `table`.
pub fn resolve(choice: &SignerChoice, table: &[PowerEntry]) -> Vec<u64> {
    let scaled = quorum::scaled(table).map(|(s, _)| s).unwrap_or_default();
    let live = |i: usize| scaled.get(i).is_some_and(|&s| s > 0);
    let mut out: Vec<u64> = match choice {
        SignerChoice::All => (0..table.len())
            .filter(|&i| live(i))
            .map(|i| i as u64)
            .collect(),
        SignerChoice::Ids(ids) => table
            .iter()
            .enumerate()
            .filter(|(_, e)| ids.contains(&e.id))
            .map(|(i, _)| i as u64)
            .collect(),
        SignerChoice::Indexes(v) => v.clone(),
        SignerChoice::Random(seed) => {
            let mut rng = Rng::new(*seed);
            let mut pool: Vec<usize> = (0..table.len()).filter(|&i| live(i)).collect();
            let mut picked = Vec::new();
            let mut extra = rng.below(3);
            while !pool.is_empty() {
                let k = rng.below(pool.len() as u64) as usize;
                picked.push(pool.swap_remove(k));
                if quorum::is_quorum(table, &picked) == Some(true) {
                    if extra == 0 {
                        break;
                    }
                    extra -= 1;
                }
            }
            picked.into_iter().map(|i| i as u64).collect()
        }
    };
    out.sort_unstable();
    out.dedup();
    out
}

/// Builds `plan`: tables, power table CIDs, signer sets and signatures. A delta the table
/// rejects is kept as it is (the table is then as far as it got).
pub fn build(plan: &Plan, keys: &KeyRing) -> Built {
    let mut initial = plan.initial.clone();
    initial.sort_by(table_order);
    let initial = PowerEntries(initial);
    let mut table = PowerTable::new(&initial);
    let mut certs = Vec::with_capacity(plan.certs.len());
    let mut in_force = Vec::with_capacity(plan.certs.len());
    for (n, p) in plan.certs.iter().enumerate() {
        let entries = table.entries().clone();
        let signers = resolve(&p.signers, &entries.0);
        let _ = table.apply(&p.delta);
        let mut cert = FinalityCertificate {
            instance: plan.first_instance + n as u64,
            ec_chain: Some(p.chain.clone()),
            supplemental_data: SupplementalData {
                commitments: [0; 32],
                power_table: table.cid(),
            },
            signers: Signers::from_indexes(signers.iter().copied()),
            signature: Vec::new(),
            power_table_delta: p.delta.clone(),
        };
        cert.signature = sign(plan, keys, &entries.0, &signers, &p.signature, &cert);
        certs.push(cert);
        in_force.push(entries);
    }
    let last = plan.first_instance + ((plan.certs.len() as u64).max(1) - 1);
    Built {
        header: F3SnapshotHeader {
            version: crate::f3data::HEADER_VERSION,
            first_instance: plan.first_instance,
            latest_instance: last,
            initial_power_table: initial,
        },
        certs,
        in_force,
    }
}

fn sign(
    plan: &Plan,
    keys: &KeyRing,
    table: &[PowerEntry],
    signers: &[u64],
    how: &SignaturePlan,
    cert: &FinalityCertificate,
) -> Vec<u8> {
    let own = |i: usize| table.get(i).map(|e| e.pub_key.clone()).unwrap_or_default();
    let idx = |v: &[u64]| -> Vec<usize> { v.iter().map(|&i| i as usize).collect() };
    let agg = |set: &[u64], secret: &dyn Fn(usize) -> Vec<u8>, network: &str| {
        let payload = signing_payload(network, cert);
        keys.aggregate(table, &idx(set), secret, &payload)
            .unwrap_or_else(|| vec![0; 96])
    };
    match how {
        SignaturePlan::Sign => agg(signers, &own, &plan.network),
        SignaturePlan::SignWithKeys(over) => {
            let secret = |i: usize| {
                let id = table.get(i).map(|e| e.id);
                over.iter()
                    .find(|(o, _)| Some(*o) == id)
                    .map(|(_, k)| k.clone())
                    .unwrap_or_else(|| own(i))
            };
            agg(signers, &secret, &plan.network)
        }
        SignaturePlan::SignAs(choice) => agg(&resolve(choice, table), &own, &plan.network),
        SignaturePlan::SignFor(network) => agg(signers, &own, network),
        SignaturePlan::FlipBit(bit) => {
            let mut s = agg(signers, &own, &plan.network);
            let (byte, shift) = (usize::from(*bit / 8), 7 - (*bit % 8));
            let n = s.len().max(1);
            if let Some(b) = s.get_mut(byte % n) {
                *b ^= 1 << shift;
            }
            s
        }
        SignaturePlan::Bytes(b) => b.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::crypto::Verifier;
    use num_bigint::BigInt;

    fn plan(keys: &mut KeyRing, rng: &mut Rng, powers: &[u64], certs: usize) -> Plan {
        let initial = powers
            .iter()
            .enumerate()
            .map(|(i, &p)| PowerEntry {
                id: 100 + i as u64,
                power: BigInt::from(p),
                pub_key: keys.generate(rng),
            })
            .collect();
        plan_all_sign("test", initial, certs, rng)
    }

    #[test]
    fn scalar_aggregate_is_the_aggregate_of_signatures() {
        let mut rng = Rng::new(3);
        let mut keys = KeyRing::new();
        let p = plan(&mut keys, &mut rng, &[5, 3, 2, 9], 1);
        let b = build(&p, &keys);
        let table = &b.in_force[0].0;
        let cert = &b.certs[0];
        let payload = signing_payload("test", cert);
        let raw: Vec<&[u8]> = table.iter().map(|e| e.pub_key.as_slice()).collect();
        let weights = bdn_weights(&raw);
        let mut sigs = Vec::new();
        let mut scalars = Vec::new();
        for i in cert.signers.iter() {
            let e = &table[i as usize];
            sigs.push(keys.secrets[&e.pub_key].sign(&payload, DST, &[]));
            scalars.extend_from_slice(&weights[i as usize]);
        }
        let agg = blst::min_pk::AggregateSignature::aggregate_with_randomness(
            &sigs, &scalars, 129, false,
        )
        .unwrap();
        assert_eq!(agg.to_signature().to_bytes().to_vec(), cert.signature);
    }

    #[test]
    fn plans_build_to_chains_the_verifier_accepts_and_edits_break_them() {
        let mut rng = Rng::new(4);
        let mut keys = KeyRing::new();
        let p = plan(&mut keys, &mut rng, &[1 << 40, 7, 1 << 20, 3], 3);
        let check = |b: &Built| {
            let mut v = Verifier::new("test");
            b.certs
                .iter()
                .zip(&b.in_force)
                .enumerate()
                .map(|(n, (c, t))| v.verify(n as u64, &t.0, c).map_err(|e| e.code()))
                .collect::<Vec<_>>()
        };
        let good = build(&p, &keys);
        assert!(check(&good).iter().all(Result::is_ok));
        let mut bad = p.clone();
        bad.certs[1].signature = SignaturePlan::SignFor("other".into());
        bad.certs[2].signature = SignaturePlan::FlipBit(300);
        let r = check(&build(&bad, &keys));
        assert!(r[0].is_ok());
        assert_eq!(r[1], Err("signature-invalid"));
        assert!(r[2].is_err());
    }
}
