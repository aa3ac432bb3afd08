//! Base chains for the signature-level cases: tables of several shapes and deltas go-f3
//! accepts, every certificate validly signed by a strong quorum.

use num_bigint::BigInt;

use crate::synth::quorum;
use crate::synth::signed::{chains, CertPlan, KeyRing, Plan, SignaturePlan, SignerChoice};
use crate::synth::Rng;
use crate::types::{PowerEntry, PowerTableDelta};
use crate::validate::power::{table_order, PowerTable};

use super::NETWORK;

/// A base chain and what is needed to extend it.
pub struct Base {
    pub plan: Plan,
    /// A participant ID no one has used.
    pub next_id: u64,
    /// The table's shape and size, for the case's description.
    pub shape: String,
}

/// `mantissa * 10^exp` with a mantissa below 1000.
fn magnitude(rng: &mut Rng, exp: u32) -> BigInt {
    BigInt::from(1 + rng.below(999)) * BigInt::from(10u8).pow(exp)
}

/// Powers of one of five shapes; returns the shape's name.
fn powers(rng: &mut Rng, n: usize) -> (&'static str, Vec<BigInt>) {
    match rng.below(5) {
        0 => {
            let exp = rng.below(30) as u32;
            let p = magnitude(rng, exp);
            ("equal", vec![p; n])
        }
        1 => {
            let lo = rng.below(25) as u32;
            let spread = 1 + rng.below(12) as u32;
            let v = (0..n)
                .map(|_| {
                    let exp = lo + rng.below(u64::from(spread)) as u32;
                    magnitude(rng, exp)
                })
                .collect();
            ("orders-of-magnitude", v)
        }
        2 => {
            // One or two huge powers and tiny ones that scale to zero next to them.
            let huge = 1 + rng.below(2) as usize;
            let v = (0..n)
                .map(|i| {
                    if i < huge {
                        let exp = 20 + rng.below(20) as u32;
                        magnitude(rng, exp)
                    } else {
                        BigInt::from(1 + rng.below(1_000_000))
                    }
                })
                .collect();
            ("huge-and-tiny", v)
        }
        3 => {
            // Parts of 0xffff times one multiplier: each power scales to its part exactly.
            let mut cuts: Vec<u64> = (1..n)
                .map(|_| 1 + rng.below(quorum::MAX_SCALED - 1))
                .collect();
            cuts.sort_unstable();
            cuts.dedup();
            let mut parts = Vec::new();
            let mut prev = 0;
            for c in cuts.into_iter().chain([quorum::MAX_SCALED]) {
                parts.push(c - prev);
                prev = c;
            }
            let exp = rng.below(20) as u32;
            let m = magnitude(rng, exp);
            (
                "scaled-exactly",
                parts.into_iter().map(|a| &m * a).collect(),
            )
        }
        _ => {
            // Each power at most one more than the sum of the ones before: every scaled sum
            // near the threshold is reachable.
            let mut acc = 0u64;
            let mut v = Vec::new();
            for _ in 0..n {
                let p = 1 + rng.below(acc + 1);
                acc += p;
                v.push(p);
            }
            let exp = rng.below(15) as u32;
            let m = magnitude(rng, exp);
            ("ladder", v.into_iter().map(|a| &m * a).collect())
        }
    }
}

/// A random base chain.
pub fn base(rng: &mut Rng, keys: &mut KeyRing) -> Base {
    let n = match rng.below(10) {
        0..=3 => 1 + rng.below(8),
        4..=7 => 9 + rng.below(16),
        _ => 25 + rng.below(32),
    } as usize;
    let (shape, powers) = powers(rng, n);
    let mut id = 1 + rng.below(5000);
    let mut initial: Vec<PowerEntry> = Vec::with_capacity(powers.len());
    let mut duplicates = 0;
    for power in powers {
        // Now and then a participant shares an earlier one's key.
        let pub_key = match initial.get(rng.below(initial.len() as u64 + 1) as usize) {
            Some(e) if rng.below(8) == 0 => {
                duplicates += 1;
                e.pub_key.clone()
            }
            _ => keys.generate(rng),
        };
        initial.push(PowerEntry { id, power, pub_key });
        id += 1 + rng.below(20);
    }
    initial.sort_by(table_order);
    let count = 2 + rng.below(5) as usize;
    let mut table = PowerTable::new(&crate::types::PowerEntries(initial.clone()));
    let mut next_id = id;
    let mut certs = Vec::with_capacity(count);
    for chain in chains(rng, count, 2) {
        let entries = table.entries().0.clone();
        let signers = match rng.below(3) {
            0 => SignerChoice::All,
            1 => SignerChoice::Random(rng.next_u64()),
            _ => {
                let order: Vec<usize> = (0..entries.len())
                    .map(|_| rng.below(entries.len() as u64) as usize)
                    .collect();
                match quorum::boundary(&entries, &order) {
                    Some(b) => SignerChoice::Ids(
                        b.at.iter()
                            .filter_map(|&i| entries.get(i).map(|e| e.id))
                            .collect(),
                    ),
                    None => SignerChoice::All,
                }
            }
        };
        let delta = if rng.below(10) < 4 {
            random_delta(rng, keys, &entries, &mut next_id)
        } else {
            Vec::new()
        };
        if table.apply(&delta).is_err() {
            // Not expected: the delta follows go-f3's rules. Keep the table consistent anyway.
            table = PowerTable::new(&crate::types::PowerEntries(entries));
            certs.push(cert(chain, signers, Vec::new()));
            continue;
        }
        certs.push(cert(chain, signers, delta));
    }
    Base {
        plan: Plan {
            network: NETWORK.to_string(),
            first_instance: rng.below(3000),
            initial,
            certs,
        },
        next_id: next_id + 1,
        shape: format!(
            "{shape}, {n} participants, {duplicates} duplicated keys, {count} certificates"
        ),
    }
}

fn cert(
    chain: Vec<crate::types::TipSet>,
    signers: SignerChoice,
    delta: Vec<PowerTableDelta>,
) -> CertPlan {
    CertPlan {
        chain,
        signers,
        delta,
        signature: SignaturePlan::Sign,
    }
}

/// A delta go-f3 accepts: joins (with a new or a shared key), power moves, key rotations and
/// departures (never of everyone), sorted by participant.
fn random_delta(
    rng: &mut Rng,
    keys: &mut KeyRing,
    table: &[PowerEntry],
    next_id: &mut u64,
) -> Vec<PowerTableDelta> {
    let mut out: std::collections::BTreeMap<u64, PowerTableDelta> = Default::default();
    let mut leaving = 0;
    for _ in 0..1 + rng.below(3) {
        let kind = rng.below(5);
        let pick = table.get(rng.below(table.len() as u64) as usize);
        let e = match pick {
            Some(e) if kind != 0 && !out.contains_key(&e.id) => e,
            _ => {
                let id = *next_id;
                *next_id += 1 + rng.below(7);
                let key = match pick {
                    Some(o) if rng.below(4) == 0 => o.pub_key.clone(),
                    _ => keys.generate(rng),
                };
                let power = match pick {
                    Some(o) if rng.below(2) == 0 => o.power.clone(),
                    _ => {
                        let exp = rng.below(30) as u32;
                        magnitude(rng, exp)
                    }
                };
                out.insert(
                    id,
                    PowerTableDelta {
                        participant_id: id,
                        power_delta: power,
                        signing_key: key,
                    },
                );
                continue;
            }
        };
        let d = match kind {
            1 | 2 => {
                let amount = match rng.below(3) {
                    0 => BigInt::from(1 + rng.below(10)),
                    1 => &e.power / 2 + 1,
                    _ => {
                        let exp = rng.below(30) as u32;
                        magnitude(rng, exp)
                    }
                };
                let delta = if rng.below(2) == 0 || amount >= e.power {
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
            3 => PowerTableDelta {
                participant_id: e.id,
                power_delta: BigInt::default(),
                signing_key: keys.generate(rng),
            },
            _ if leaving + 1 < table.len() => {
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

/// `a` and `b` as one delta: per participant, the power changes add up and `b`'s key wins;
/// an entry left with no change is dropped.
pub fn merge(a: &[PowerTableDelta], b: &[PowerTableDelta]) -> Vec<PowerTableDelta> {
    let mut out: std::collections::BTreeMap<u64, PowerTableDelta> = Default::default();
    for d in a.iter().chain(b) {
        match out.get_mut(&d.participant_id) {
            Some(m) => {
                m.power_delta += &d.power_delta;
                if !d.signing_key.is_empty() {
                    m.signing_key = d.signing_key.clone();
                }
            }
            None => {
                out.insert(d.participant_id, d.clone());
            }
        }
    }
    out.into_values()
        .filter(|d| d.power_delta != BigInt::default() || !d.signing_key.is_empty())
        .collect()
}

/// Whether every delta of `plan` applies (the changes are meant to stay within go-f3's rules
/// for deltas, so that only the signature level decides).
pub fn deltas_apply(plan: &Plan) -> bool {
    let mut t = PowerTable::new(&crate::types::PowerEntries(plan.initial.clone()));
    plan.certs.iter().all(|c| t.apply(&c.delta).is_ok()) && !t.is_empty()
}
