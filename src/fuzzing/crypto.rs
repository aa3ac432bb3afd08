//! Cases for the differential run at the signature level: a signed chain from a seed (tables of
//! every shape: equal powers, powers across orders of magnitude, huge next to tiny ones that
//! scale to zero, tables scaled exactly, duplicated keys; deltas that join, leave, move power
//! and rotate keys), then one change at the signature level (signers, signatures, quorums moved
//! by deltas, rotations to new, old or invalid keys, zero-power and duplicated-key joins),
//! re-signed with the known secret keys where the change should keep the chain valid. Each case
//! says what it expects, by the quorum rule computed apart from the verifier
//! ([`crate::synth::quorum`]).
//!
//! [`case`] draws from the mix the differential run judges; [`probe`] makes the cases where
//! go-f3 is known to accept what the reference rejects on a signature's encoding or an emptied
//! power table (reported, not part of the mix).

use crate::synth::signed::{build, infinity_signature, KeyRing, Plan, SignaturePlan, SignerChoice};
use crate::synth::Rng;
use crate::types::PowerTableDelta;

mod mutate;
mod plan;

use mutate::Mutator;

/// The network name every case is signed for (the harness's default).
pub const NETWORK: &str = "frc0108-vectors";

/// One case: the F3 data, what was done, and the verdict the change calls for.
#[derive(Debug, Clone)]
pub struct Case {
    /// The F3 data stream.
    pub bytes: Vec<u8>,
    /// The change, as a stable name (`signature/bit-flip`, `quorum/exact-below`, ...).
    pub kind: &'static str,
    /// The base chain and the change's details.
    pub detail: String,
    /// Whether the chain should be accepted (`None`: the rule is not decided here).
    pub expect: Option<bool>,
}

/// The changes [`case`] draws from, each with its weight.
const MIX: &[(&str, u64)] = &[
    ("none", 4),
    ("add-signer/resigned", 6),
    ("add-signer/stale-signature", 3),
    ("add-signer/zero-power", 3),
    ("add-signer/out-of-range", 2),
    ("remove-signer/resigned", 5),
    ("remove-signer/stale-signature", 3),
    ("signature/swapped", 3),
    ("signature/bit-flip", 4),
    ("signature/other-set", 4),
    ("signature/other-network", 2),
    ("signature/infinity", 1),
    ("quorum/exact-at", 8),
    ("quorum/exact-below", 7),
    ("quorum/delta-stays", 7),
    ("quorum/delta-below", 6),
    ("key-rotation/resigned", 6),
    ("key-rotation/old-key", 4),
    ("key-rotation/invalid-key", 3),
    ("duplicate-key/join-signs", 5),
    ("zero-power/join-abstains", 4),
    ("zero-power/join-signs", 3),
];

/// The case for `seed`.
pub fn case(seed: u64) -> Case {
    let mut rng = Rng::new(seed);
    let mut keys = KeyRing::new();
    let base = plan::base(&mut rng, &mut keys);
    let total: u64 = MIX.iter().map(|(_, w)| w).sum();
    let mut pick = rng.below(total);
    let mut kind = "none";
    for (k, w) in MIX {
        if pick < *w {
            kind = k;
            break;
        }
        pick -= w;
    }
    let built = build(&base.plan, &keys);
    let mut m = Mutator {
        rng,
        keys,
        plan: base.plan.clone(),
        built,
        next_id: base.next_id,
        notes: Vec::new(),
        exact: true,
    };
    // A change that does not apply to this chain falls back to one that always does.
    let (mut kind, expect) = match m.apply(kind) {
        Some(expect) => (kind, expect),
        None => {
            let k = ["quorum/exact-at", "quorum/exact-below"][m.rng.below(2) as usize];
            (k, m.apply(k).flatten())
        }
    };
    // A table whose subsets miss the threshold by a unit gets the nearest sets instead.
    if !m.exact {
        kind = match kind {
            "quorum/exact-at" => "quorum/nearest-at",
            "quorum/exact-below" => "quorum/nearest-below",
            k => k,
        };
    }
    let bytes = build(&m.plan, &m.keys).encode();
    Case {
        bytes,
        kind,
        detail: format!("{}; {}", base.shape, m.notes.join(", ")),
        expect,
    }
}

/// The probes, by name: cases where go-f3's validation accepts and the reference rejects.
pub const PROBES: &[&str] = &[
    "probe/signature-trailing-byte",
    "probe/signature-uncompressed",
    "probe/emptied-table",
];

/// The probe `name` on the chain of `seed` (`None` for an unknown name).
pub fn probe(name: &str, seed: u64) -> Option<Case> {
    let mut rng = Rng::new(seed);
    let mut keys = KeyRing::new();
    let base = plan::base(&mut rng, &mut keys);
    let built = build(&base.plan, &keys);
    let mut p = base.plan.clone();
    let j = rng.below(p.certs.len() as u64) as usize;
    let sig = built.certs.get(j)?.signature.clone();
    let kind = PROBES.iter().find(|k| **k == name)?;
    match *kind {
        "probe/signature-trailing-byte" => {
            let mut s = sig;
            s.push(rng.below(256) as u8);
            p.certs.get_mut(j)?.signature = SignaturePlan::Bytes(s);
        }
        "probe/signature-uncompressed" => {
            let s = blst::min_pk::Signature::from_bytes(&sig).ok()?;
            p.certs.get_mut(j)?.signature = SignaturePlan::Bytes(s.serialize().to_vec());
        }
        _ => {
            // Certificate j-1's delta removes everyone; certificate j has no signer and the
            // aggregate of no signature.
            let j = j.max(1);
            let mut gone = built
                .in_force
                .get(j - 1)?
                .0
                .iter()
                .map(|e| PowerTableDelta {
                    participant_id: e.id,
                    power_delta: -e.power.clone(),
                    signing_key: Vec::new(),
                })
                .collect::<Vec<_>>();
            gone.sort_by_key(|d| d.participant_id);
            p.certs.get_mut(j - 1)?.delta = gone;
            p.certs.truncate(j + 1);
            let c = p.certs.get_mut(j)?;
            c.signers = SignerChoice::Indexes(Vec::new());
            c.signature = SignaturePlan::Bytes(infinity_signature());
            c.delta = Vec::new();
        }
    }
    Some(Case {
        bytes: build(&p, &keys).encode(),
        kind,
        detail: format!("{}; certificate {j}", base.shape),
        expect: Some(false),
    })
}

/// A chain's plan with every certificate validly signed, for tests that change it themselves.
pub fn signed_chain(seed: u64) -> (Plan, KeyRing) {
    let mut rng = Rng::new(seed);
    let mut keys = KeyRing::new();
    let base = plan::base(&mut rng, &mut keys);
    (base.plan, keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::analyze;
    use crate::validate::{Level, Options};

    fn verdict(bytes: &[u8]) -> Option<&'static str> {
        let opts = Options {
            level: Level::Crypto,
            network: NETWORK.into(),
            threads: 1,
            ..Options::default()
        };
        analyze(bytes, Some(opts), &mut |_| {})
            .error
            .map(|e| e.code())
    }

    #[test]
    fn base_chains_are_valid() {
        for seed in 0..12 {
            let (plan, keys) = signed_chain(seed);
            assert_eq!(verdict(&build(&plan, &keys).encode()), None, "seed {seed}");
        }
    }

    #[test]
    fn probes_are_rejected_by_the_reference() {
        for (i, name) in PROBES.iter().enumerate() {
            let c = probe(name, i as u64).unwrap();
            assert_eq!(c.kind, *name);
            assert!(verdict(&c.bytes).is_some(), "{name}");
        }
        assert!(probe("probe/unknown", 1).is_none());
    }

    #[test]
    fn cases_meet_their_expectations() {
        let mut kinds = std::collections::BTreeSet::new();
        for seed in 0..60 {
            let c = case(seed);
            kinds.insert(c.kind);
            if let Some(e) = c.expect {
                assert_eq!(
                    verdict(&c.bytes).is_none(),
                    e,
                    "seed {seed}: {} ({}) gave {:?}",
                    c.kind,
                    c.detail,
                    verdict(&c.bytes)
                );
            }
        }
        assert!(kinds.len() > 10, "{kinds:?}");
    }
}
