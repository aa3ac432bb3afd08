//! Mainnet-shaped chains, built to the shape the real data shows (`../shared/real-data`:
//! mainnet's initial power table and its certificates 0 to 9):
//!
//! - **Powers**: the 1,560 powers of mainnet's initial table, in order (`mainnet-powers.txt`);
//!   with another participant count, rank `i` of `n` takes the power at rank `i * 1560 / n`.
//!   After go-f3's scaling to 0xffff in all, 153 of them scale to zero and can never sign. Keys
//!   and participant IDs are this generator's own.
//! - **Signers**: real certificates carry the first signers to reach a strong quorum, about
//!   950 of 1,560 with exactly 2/3 of the scaled power, and consecutive certificates differ by
//!   25 to 127 signers (62 on average). Here 80% of the participants with scaled power are
//!   online, each with a fixed latency; a certificate takes the online participants in order
//!   of latency plus a random delay of up to 15% of the latency range, until the quorum is met.
//!   That gives 900 to 1,000 signers and about 60 changes between consecutive certificates.
//! - **Tipsets**: one or two per certificate (the base and at most one new tipset), of 1 to 9
//!   blocks (5 on average): a mainnet certificate averages about 1 KB.
//! - **Deltas**: `churn_percent` of the certificates carry one. Of the ten real certificates
//!   one does (instance 9), so [`LOW_CHURN_PERCENT`] is 10. Each delta is like instance 9's:
//!   power changes only, 1 to 13 participants (7 on average; instance 9 has 7), each by 2^-4
//!   to 2^-17 of its power, up or down, in multiples of 2^30 (as every real delta is). Like
//!   instance 9's, such deltas usually reorder the table, which changes every BDN coefficient.

use num_bigint::BigInt;

use super::{tipset, Keys, Params, Rng};
use crate::types::{
    F3SnapshotHeader, FinalityCertificate, PowerEntries, PowerEntry, PowerTableDelta, Signers,
    SupplementalData,
};
use crate::validate::crypto::{is_strong_quorum, scaled_powers, signing_payload};
use crate::validate::power::{table_order, PowerTable};

/// Participants in mainnet's initial power table.
pub const PARTICIPANTS: usize = 1560;

/// The share of certificates with a delta among mainnet's first ten.
pub const LOW_CHURN_PERCENT: u64 = 10;

/// Participants online, in percent of those with scaled power.
const ONLINE_PERCENT: u64 = 80;

/// Latencies are below this ...
const LATENCY_RANGE: u64 = 1 << 20;

/// ... and a certificate's random delays below this (15%: consecutive certificates then
/// differ by about as many signers as mainnet's do).
const DELAY_RANGE: u64 = LATENCY_RANGE * 15 / 100;

/// Mainnet's initial table's powers, in table order.
pub fn powers() -> Vec<u128> {
    include_str!("mainnet-powers.txt")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .flat_map(str::split_whitespace)
        .filter_map(|w| w.parse().ok())
        .collect()
}

/// A delta of power changes only, sorted by participant.
fn power_delta(rng: &mut Rng, entries: &[PowerEntry]) -> Vec<PowerTableDelta> {
    let mut out = std::collections::BTreeMap::new();
    let changes = 1 + rng.below(13);
    for _ in 0..changes {
        let Some(e) = entries.get(rng.below(entries.len() as u64) as usize) else {
            continue;
        };
        let shift = 4 + rng.below(14);
        let unit = BigInt::from(1u64 << 30);
        let amount = ((&e.power >> shift) / &unit).max(BigInt::from(1)) * unit;
        let delta = if rng.below(2) == 0 || amount >= e.power {
            amount
        } else {
            -amount
        };
        out.insert(
            e.id,
            PowerTableDelta {
                participant_id: e.id,
                power_delta: delta,
                signing_key: Vec::new(),
            },
        );
    }
    out.into_values().collect()
}

/// Per participant: online or not, and its latency.
struct Presence {
    online: std::collections::HashMap<u64, u64>,
}

impl Presence {
    /// The first online participants, by latency plus a random delay, whose scaled powers
    /// reach a strong quorum; the offline ones follow if the online ones cannot reach it.
    fn signers(&self, rng: &mut Rng, entries: &[PowerEntry]) -> Vec<u64> {
        let Ok((scaled, total)) = scaled_powers(entries) else {
            return Vec::new();
        };
        let mut order: Vec<(bool, u64, u64)> = entries
            .iter()
            .zip(&scaled)
            .enumerate()
            .filter(|(_, (_, s))| **s > 0)
            .map(|(i, (e, _))| match self.online.get(&e.id) {
                Some(lat) => (false, lat + rng.below(DELAY_RANGE), i as u64),
                None => (true, 0, i as u64),
            })
            .collect();
        order.sort_unstable();
        let mut signed = 0;
        let mut out = Vec::new();
        for (_, _, i) in order {
            if is_strong_quorum(signed, total) {
                break;
            }
            signed += scaled.get(i as usize).copied().unwrap_or(0);
            out.push(i);
        }
        out.sort_unstable();
        out
    }
}

/// Builds a mainnet-shaped chain (see the module's documentation).
pub(super) fn build(p: &Params) -> (F3SnapshotHeader, Vec<FinalityCertificate>) {
    let mut rng = Rng::new(p.seed);
    let mut keys = Keys {
        real: p.sign_for.is_some(),
        secrets: Default::default(),
    };
    let real = powers();
    let n = p.participants.max(1);
    let mut entries: Vec<PowerEntry> = (0..n)
        .map(|i| PowerEntry {
            id: 1000 + i as u64 * 7,
            power: BigInt::from(real.get(i * real.len() / n).copied().unwrap_or(1)),
            pub_key: keys.new_key(&mut rng),
        })
        .collect();
    entries.sort_by(table_order);
    let presence = Presence {
        online: entries
            .iter()
            .filter_map(|e| {
                let online = rng.below(100) < ONLINE_PERCENT;
                let latency = rng.below(LATENCY_RANGE);
                online.then_some((e.id, latency))
            })
            .collect(),
    };
    let initial = PowerEntries(entries);
    let mut table = PowerTable::new(&initial);

    let mut epoch: i64 = 4_920_480 + rng.below(1000) as i64;
    let mut head = tipset(&mut rng, epoch, table.cid(), 9);
    let mut certs = Vec::new();
    for k in 0..p.instances.max(1) {
        let mut chain = vec![head.clone()];
        for _ in 0..rng.below(p.max_new_tipsets.min(1) + 1) {
            epoch += 1 + rng.below(2) as i64;
            chain.push(tipset(&mut rng, epoch, table.cid(), 9));
        }
        let signing_table = table.entries().clone();
        let signers = presence.signers(&mut rng, &signing_table.0);
        let delta = if rng.below(100) < p.churn_percent {
            power_delta(&mut rng, &signing_table.0)
        } else {
            Vec::new()
        };
        if table.apply(&delta).is_err() {
            unreachable!("power changes that keep every power positive follow go-f3's rules");
        }
        head = chain.last().cloned().unwrap_or_else(|| head.clone());
        let mut cert = FinalityCertificate {
            instance: p.first() + k,
            ec_chain: Some(chain),
            supplemental_data: SupplementalData {
                commitments: [0; 32],
                power_table: table.cid(),
            },
            signers: Signers::from_indexes(signers.iter().copied()),
            signature: rng.bytes(96),
            power_table_delta: delta,
        };
        if let Some(network) = &p.sign_for {
            let payload = signing_payload(network, &cert);
            cert.signature = keys.sign(&signing_table.0, &signers, &payload);
        }
        certs.push(cert);
    }
    let header = F3SnapshotHeader {
        version: crate::f3data::HEADER_VERSION,
        first_instance: p.first(),
        latest_instance: p.first() + (p.instances.max(1) - 1),
        initial_power_table: initial,
    };
    (header, certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_powers_are_mainnets() {
        let p = powers();
        assert_eq!(p.len(), PARTICIPANTS);
        assert!(p.windows(2).all(|w| w[0] >= w[1]), "in table order");
        assert_eq!(p.iter().sum::<u128>(), 25_682_009_171_389_644_800);
    }

    #[test]
    fn one_signature_with_the_combined_secret_equals_the_aggregate() {
        use crate::validate::crypto::{bdn_weights, DST};
        let mut rng = Rng::new(4);
        let mut keys = Keys {
            real: true,
            secrets: Default::default(),
        };
        let entries: Vec<PowerEntry> = (0..9)
            .map(|i| PowerEntry {
                id: i,
                power: 1.into(),
                pub_key: keys.new_key(&mut rng),
            })
            .collect();
        let signers = [0, 2, 3, 7, 8];
        let raw: Vec<&[u8]> = entries.iter().map(|e| e.pub_key.as_slice()).collect();
        let weights = bdn_weights(&raw);
        let sigs: Vec<blst::min_pk::Signature> = signers
            .iter()
            .map(|&i| keys.secrets[&entries[i as usize].pub_key].sign(b"payload", DST, &[]))
            .collect();
        let scalars: Vec<u8> = signers.iter().flat_map(|&i| weights[i as usize]).collect();
        let aggregated = blst::min_pk::AggregateSignature::aggregate_with_randomness(
            &sigs, &scalars, 129, false,
        )
        .unwrap()
        .to_signature()
        .to_bytes();
        assert_eq!(
            keys.sign(&entries, &signers, b"payload"),
            aggregated.to_vec()
        );
    }

    #[test]
    fn signers_reach_the_quorum_like_mainnets() {
        let (header, certs) = build(&Params::mainnet(12, 50, None));
        assert_eq!(header.initial_power_table.0.len(), PARTICIPANTS);
        let mut table = PowerTable::new(&header.initial_power_table);
        let mut prev: Option<Vec<u64>> = None;
        for c in &certs {
            assert!((1..=2).contains(&c.tipsets().len()));
            let (scaled, total) = scaled_powers(&table.entries().0).unwrap();
            let s: Vec<u64> = c.signers.iter().collect();
            let signed: u64 = s.iter().map(|&i| scaled[i as usize]).sum();
            assert!(is_strong_quorum(signed, total));
            assert!((900..=1000).contains(&s.len()), "{} signers", s.len());
            if let Some(prev) = &prev {
                let changed = prev.iter().filter(|i| !s.contains(i)).count()
                    + s.iter().filter(|i| !prev.contains(i)).count();
                assert!((20..=200).contains(&changed), "{changed} changes");
            }
            prev = Some(s);
            table.apply(&c.power_table_delta).unwrap();
        }
        assert!(certs.iter().any(|c| !c.power_table_delta.is_empty()));
    }
}
