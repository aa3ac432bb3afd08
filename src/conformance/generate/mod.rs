//! `frc0108 vectors generate`: builds every case from the go-f3 fixtures, deterministically.
//!
//! Each case is data (`Def`): its id, description, expected result, flags and network, and
//! how its bytes are made (a go-f3 fixture as it is, or a function mutating one). One module per
//! fault class holds its table, mirroring `vectors/cases/`. This module checks every case
//! against the reference reader before writing it: an invalid case's code must appear at its
//! level and not at the level below, so a case that tests something else fails to generate.
//! Valid cases take their expected facts from go-f3's sidecars, not from this reader (the one
//! valid case built here, over a chain of block headers, from its writer).

mod car;
mod cbor;
mod consistency;
mod delta;
mod ec_chain;
mod fixture;
mod framing;
mod header;
mod power_table_cid;
mod sequence;
mod signature;
mod valid;

use std::path::{Path, PathBuf};

use super::error::{read_json, Error, Result};
use super::notes::{notes, Flag};
use super::{sha256_hex, Case, Expected, Facts, Kind, Manifest, MANIFEST_FORMAT};
use crate::report::{analyze, Analysis};
use crate::validate::{Level, Options};
use fixture::Fixtures;

/// One case, as data.
struct Def {
    /// Stable identifier, `group/name`; the file is `cases/group/name.EXT`.
    id: &'static str,
    /// One line on what the case is.
    description: &'static str,
    /// What a conforming reader does with it.
    expect: Expect,
    /// The rule classes concerned.
    flags: &'static [Flag],
    /// The network name its signatures are checked against, if not the fixtures' own.
    network: Option<&'static str>,
    /// What the file holds.
    file: File,
    /// How its bytes are made.
    bytes: Bytes,
}

/// A case's expected result.
enum Expect {
    /// Every reader accepts it and finds the facts go-f3 recorded in the sidecar of fixture
    /// `facts`, the input read as `format`.
    Valid {
        facts: &'static str,
        format: &'static str,
    },
    /// Every reader accepts it and finds the facts `facts` gives: a case built here rather
    /// than from a go-f3 fixture (no fixture has a chain of block headers), whose facts its
    /// writer knows.
    ValidBuilt {
        facts: fn(&Fixtures) -> Result<Facts>,
    },
    /// Every reader rejects it; the strict reference gives `error`, first at `level`.
    Invalid { error: &'static str, level: Level },
    /// Either outcome conforms; the strict reference gives `error`, first at `level`.
    Acceptable { error: &'static str, level: Level },
}

/// A valid case with the facts of fixture `facts`, read as `format`.
const fn valid(facts: &'static str, format: &'static str) -> Expect {
    Expect::Valid { facts, format }
}

/// A valid case built here, with the facts `facts` gives.
const fn valid_built(facts: fn(&Fixtures) -> Result<Facts>) -> Expect {
    Expect::ValidBuilt { facts }
}

/// An invalid case: `error`, first found at `level`.
const fn invalid(error: &'static str, level: Level) -> Expect {
    Expect::Invalid { error, level }
}

/// An acceptable case: the reference gives `error`, first found at `level`.
const fn acceptable(error: &'static str, level: Level) -> Expect {
    Expect::Acceptable { error, level }
}

/// What a case file holds; gives its extension and manifest kind.
#[derive(Clone, Copy)]
enum File {
    /// A bare F3 data stream (`.f3`).
    F3,
    /// A snapshot CAR (`.car`).
    Car,
    /// A zstd-compressed snapshot CAR (`.car.zst`).
    CarZst,
}

impl File {
    fn ext(self) -> &'static str {
        match self {
            File::F3 => "f3",
            File::Car => "car",
            File::CarZst => "car.zst",
        }
    }

    fn kind(self) -> Kind {
        match self {
            File::F3 => Kind::F3data,
            File::Car | File::CarZst => Kind::Car,
        }
    }
}

/// How a case's bytes are made.
enum Bytes {
    /// The go-f3 fixture of that name, unchanged.
    Fixture(&'static str),
    /// Built from the fixtures.
    Made(fn(&Fixtures) -> Result<Vec<u8>>),
}

/// A case whose file is a bare F3 data stream.
const fn f3(
    id: &'static str,
    description: &'static str,
    expect: Expect,
    flags: &'static [Flag],
    bytes: Bytes,
) -> Def {
    Def {
        id,
        description,
        expect,
        flags,
        network: None,
        file: File::F3,
        bytes,
    }
}

/// A case whose file is a snapshot CAR.
const fn car(
    id: &'static str,
    description: &'static str,
    expect: Expect,
    flags: &'static [Flag],
    bytes: Bytes,
) -> Def {
    Def {
        file: File::Car,
        ..f3(id, description, expect, flags, bytes)
    }
}

/// Every fault class's table.
const GROUPS: &[&[Def]] = &[
    valid::CASES,
    framing::CASES,
    cbor::CASES,
    sequence::CASES,
    header::CASES,
    delta::CASES,
    power_table_cid::CASES,
    ec_chain::CASES,
    signature::CASES,
    car::CASES,
    consistency::CASES,
];

/// The level just below `l`, where an invalid case's code must not yet appear.
fn level_below(l: Level) -> Option<Level> {
    match l {
        Level::Structure => None,
        Level::Import => Some(Level::Structure),
        Level::Chain => Some(Level::Import),
        Level::Crypto => Some(Level::Chain),
    }
}

/// What the reference reader says at `level`.
fn reference(bytes: &[u8], level: Level, network: &str) -> Analysis {
    let opts = Options {
        level,
        network: network.to_string(),
        ..Options::default()
    };
    analyze(bytes, Some(opts), &mut |_| {})
}

/// The first error code the reference gives at `level`.
fn reference_code(bytes: &[u8], level: Level, network: &str) -> Option<&'static str> {
    reference(bytes, level, network)
        .error
        .as_ref()
        .map(crate::Error::code)
}

/// Checks a case's bytes against the reference; returns the facts a valid case must have.
fn check(def: &Def, bytes: &[u8], network: &str, fx: &Fixtures) -> Result<Option<Facts>> {
    let fail = |why: String| {
        Err(Error::Case {
            id: def.id.into(),
            why,
        })
    };
    let (want, level) = match def.expect {
        Expect::Valid { facts, format } => {
            let a = reference(bytes, Level::Crypto, network);
            if let Some(e) = &a.error {
                return fail(format!("meant to be valid, the reference says {e}"));
            }
            let go = fx.sidecar(facts)?.facts(format);
            let got = Facts::of(&a);
            if got != go {
                return fail(format!("facts differ: reference {got:?}, go-f3 {go:?}"));
            }
            return Ok(Some(go));
        }
        Expect::ValidBuilt { facts } => {
            let a = reference(bytes, Level::Crypto, network);
            if let Some(e) = &a.error {
                return fail(format!("meant to be valid, the reference says {e}"));
            }
            let written = facts(fx)?;
            let got = Facts::of(&a);
            if got != written {
                return fail(format!(
                    "facts differ: reference {got:?}, writer {written:?}"
                ));
            }
            return Ok(Some(written));
        }
        Expect::Invalid { error, level } | Expect::Acceptable { error, level } => (error, level),
    };
    let got = reference_code(bytes, level, network);
    if got != Some(want) {
        return fail(format!(
            "meant to give {want} at level {}, gives {got:?}",
            level.name()
        ));
    }
    if let Some(below) = level_below(level) {
        if reference_code(bytes, below, network) == Some(want) {
            return fail(format!("{want} is already found at level {}", below.name()));
        }
    }
    Ok(None)
}

/// Makes, checks and writes one case; returns its manifest entry.
fn write_case(def: &Def, fx: &Fixtures, out: &Path) -> Result<Case> {
    let bytes = match def.bytes {
        Bytes::Fixture(name) => fx.bytes(name)?,
        Bytes::Made(make) => make(fx)?,
    };
    let network = def.network.unwrap_or(&fx.index.network).to_string();
    let expected = check(def, &bytes, &network, fx)?;
    let file = format!("cases/{}.{}", def.id, def.file.ext());
    let path = out.join(&file);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    }
    std::fs::write(&path, &bytes).map_err(Error::io(&path))?;
    let (result, error, level) = match def.expect {
        Expect::Valid { .. } | Expect::ValidBuilt { .. } => (Expected::Valid, None, Level::Crypto),
        Expect::Invalid { error, level } => (Expected::Invalid, Some(error), level),
        Expect::Acceptable { error, level } => (Expected::Acceptable, Some(error), level),
    };
    Ok(Case {
        id: def.id.into(),
        file,
        sha256: sha256_hex(&bytes),
        kind: def.file.kind(),
        description: def.description.into(),
        result,
        error: error.map(String::from),
        level,
        network,
        flags: def.flags.to_vec(),
        expected,
    })
}

/// Removes `out/cases` if it belongs to a corpus this command wrote (a `manifest.json` of
/// ours next to it), and refuses to touch it otherwise.
fn clear_previous(out: &Path) -> Result<()> {
    let cases_dir = out.join("cases");
    if !cases_dir.exists() {
        return Ok(());
    }
    let ours =
        read_json::<Manifest>(out.join("manifest.json")).is_ok_and(|m| m.format == MANIFEST_FORMAT);
    if !ours {
        return Err(Error::NotACorpus(cases_dir));
    }
    std::fs::remove_dir_all(&cases_dir).map_err(Error::io(cases_dir))
}

/// Generates the corpus into `out` from the go-f3 fixtures in `fixtures`; returns the manifest.
pub fn generate(out: &Path, fixtures: &Path) -> Result<Manifest> {
    let fx = Fixtures::load(fixtures)?;
    clear_previous(out)?;
    let mut cases = GROUPS
        .iter()
        .flat_map(|g| g.iter())
        .map(|def| write_case(def, &fx, out))
        .collect::<Result<Vec<_>>>()?;
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    let manifest = Manifest {
        format: MANIFEST_FORMAT.into(),
        go_f3_version: fx.index.go_f3_version.clone(),
        notes: notes(),
        cases,
    };
    let path: PathBuf = out.join("manifest.json");
    let mut json = serde_json::to_vec_pretty(&manifest).map_err(|source| Error::Json {
        path: path.clone(),
        source,
    })?;
    json.push(b'\n');
    std::fs::write(&path, json).map_err(Error::io(&path))?;
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each table holds one group (`group/name` ids) that no other table holds, and ids are
    /// unique, so no case overwrites another.
    #[test]
    fn ids_are_unique_and_grouped_by_table() {
        let group = |d: &Def| d.id.split_once('/').map(|x| x.0);
        let mut groups = Vec::new();
        let mut ids = Vec::new();
        for table in GROUPS {
            let g = table.first().and_then(group);
            assert!(g.is_some(), "an empty table, or an id without a group");
            for d in table.iter() {
                assert_eq!(group(d), g, "{} is in another group's table", d.id);
                ids.push(d.id);
            }
            groups.push(g);
        }
        let (n, m) = (ids.len(), groups.len());
        ids.sort_unstable();
        ids.dedup();
        groups.sort_unstable();
        groups.dedup();
        assert_eq!(ids.len(), n, "a case id is defined twice");
        assert_eq!(groups.len(), m, "two tables hold one group");
    }
}
