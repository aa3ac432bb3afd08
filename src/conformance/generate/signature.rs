//! Signature cases: signers, quorum and the aggregate BLS signature (judged at the crypto
//! level, except a signer index beyond the table, which the chain level already sees).

use super::fixture::{CERT, F3, MAINNET};
use super::Bytes::{Fixture, Made};
use super::{f3, invalid, Def};
use crate::conformance::notes::Flag::{GoF3Lenient, Signature};
use crate::types::Signers;
use crate::validate::Level::{Chain, Crypto};

pub(super) const CASES: &[Def] = &[
    f3(
        "signature/flipped-bit",
        "one bit of instance 5's aggregate signature flipped",
        // The flip leaves bytes that are no G2 point; another bit could leave a point that
        // does not verify (`signature-invalid`).
        invalid("signature-malformed", Crypto),
        &[Signature, GoF3Lenient],
        Made(|fx| Ok(fx.tiny.with_values(flip_bit))),
    ),
    f3(
        "signature/go-f3-bad-signature",
        "go-f3's own fixture with a wrong signature on instance 5",
        invalid("signature-invalid", Crypto),
        &[Signature, GoF3Lenient],
        Fixture("tiny-bad-signature"),
    ),
    f3(
        "signature/signer-out-of-range",
        "a signer index beyond the power table",
        invalid("signer-out-of-range", Chain),
        &[Signature, GoF3Lenient],
        Made(|fx| Ok(fx.tiny.with_values(signer_out_of_range))),
    ),
    f3(
        "signature/below-quorum",
        "a certificate signed by one of four equal participants",
        invalid("signature-quorum", Crypto),
        &[Signature, GoF3Lenient],
        Made(|fx| Ok(fx.tiny.with_values(one_signer))),
    ),
    Def {
        network: Some(MAINNET),
        ..f3(
            "signature/mainnet-signer-dropped",
            "mainnet instance 5 with its last signer dropped from the bitfield (re-encoded canonically): real certificates carry exactly the strong quorum of scaled power, so one signer less is below it",
            invalid("signature-quorum", Crypto),
            &[Signature, GoF3Lenient],
            Made(|fx| Ok(fx.mainnet.with_values(drop_last_signer))),
        )
    },
    Def {
        network: Some(MAINNET),
        ..f3(
            "signature/mainnet-signer-added",
            "mainnet instance 5 with a participant that did not sign added to the bitfield (re-encoded canonically): the quorum holds, the aggregate no longer verifies",
            invalid("signature-invalid", Crypto),
            &[Signature, GoF3Lenient],
            Made(|fx| Ok(fx.mainnet.with_values(add_first_non_signer))),
        )
    },
    Def {
        network: Some(MAINNET),
        ..f3(
            "signature/mainnet-other-signature",
            "mainnet instance 5 carrying instance 4's aggregate signature",
            invalid("signature-invalid", Crypto),
            &[Signature, GoF3Lenient],
            Made(|fx| Ok(fx.mainnet.with_values(previous_signature))),
        )
    },
    Def {
        network: Some(MAINNET),
        ..f3(
            "signature/mainnet-flipped-bit",
            "one bit of mainnet instance 5's aggregate signature flipped",
            invalid("signature-malformed", Crypto),
            &[Signature, GoF3Lenient],
            Made(|fx| Ok(fx.mainnet.with_values(flip_bit))),
        )
    },
    Def {
        network: Some("calibrationnet2"),
        ..f3(
            "signature/mainnet-wrong-network",
            "mainnet's certificates checked as signed for the calibration net's network name",
            invalid("signature-invalid", Crypto),
            &[Signature],
            Fixture("mainnet-0-9"),
        )
    },
    Def {
        network: Some("another-network"),
        ..f3(
            "signature/other-network",
            "valid certificates checked against another network name",
            invalid("signature-invalid", Crypto),
            &[Signature],
            Fixture("tiny"),
        )
    },
];

/// The lowest bit of byte 40 of certificate [`CERT`]'s signature.
fn flip_bit(f: &mut F3) {
    if let Some(b) = f.certs.get_mut(CERT).and_then(|x| x.signature.get_mut(40)) {
        *b ^= 0x01;
    }
}

/// Certificate [`CERT`] also signed by index table size + 3.
fn signer_out_of_range(f: &mut F3) {
    let n = f.header.initial_power_table.0.len() as u64;
    if let Some(x) = f.certs.get_mut(CERT) {
        x.signers = Signers::from_indexes(x.signers.iter().chain([n + 3]));
    }
}

/// Certificate [`CERT`] signed by its first signer alone.
fn one_signer(f: &mut F3) {
    if let Some(x) = f.certs.get_mut(CERT) {
        let first: Vec<u64> = x.signers.iter().take(1).collect();
        x.signers = Signers::from_indexes(first);
    }
}

/// Certificate [`CERT`] without its highest signer.
fn drop_last_signer(f: &mut F3) {
    if let Some(x) = f.certs.get_mut(CERT) {
        let last = x.signers.last();
        x.signers = Signers::from_indexes(x.signers.iter().filter(|&i| Some(i) != last));
    }
}

/// Certificate [`CERT`] with the signature of the certificate before it.
fn previous_signature(f: &mut F3) {
    let previous = f.certs.get(CERT - 1).map(|x| x.signature.clone());
    if let (Some(x), Some(sig)) = (f.certs.get_mut(CERT), previous) {
        x.signature = sig;
    }
}

/// Certificate [`CERT`] also signed by the first participant that did not sign (the table is
/// in power order, so it holds power after scaling).
fn add_first_non_signer(f: &mut F3) {
    if let Some(x) = f.certs.get_mut(CERT) {
        let signers: Vec<u64> = x.signers.iter().collect();
        let first_gap = (0..).find(|i| !signers.contains(i)).unwrap_or(0);
        x.signers = Signers::from_indexes(signers.into_iter().chain([first_gap]));
    }
}
