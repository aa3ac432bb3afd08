package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/filecoin-project/go-f3/certs"
	"github.com/filecoin-project/go-f3/certstore"
	"github.com/filecoin-project/go-f3/gpbft"
	"github.com/ipfs/go-cid"
	cbg "github.com/whyrusleeping/cbor-gen"
)

// fixtureNetwork is the GPBFT network name the generated fixtures are signed
// for (the real mainnet ones are signed for "filecoin").
const fixtureNetwork = "frc0108-vectors"

// pinnedGoF3Version is the go-f3 release this module pins in go.mod.
const pinnedGoF3Version = "v0.8.14"

func goF3Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/filecoin-project/go-f3" {
				if d.Replace != nil {
					return d.Replace.Version
				}
				return d.Version
			}
		}
	}
	return pinnedGoF3Version
}

var scenarios = []*scenario{
	{
		Name: "tiny", Seed: 1, FirstInstance: 0, Instances: 12, Participants: 4,
		Power: "equal", MinSuffix: 1, MaxSuffix: 3, MaxBlocks: 3, StartEpoch: 1000,
	},
	{
		Name: "churn", Seed: 2, FirstInstance: 0, Instances: 50, Participants: 8,
		Power: "skewed", BigPower: true,
		DeltaPercent: 70, MaxEvents: 3, Joins: true, Leaves: true, KeyRotation: true,
		MinParticipants: 4, MaxParticipants: 14,
		MinSuffix: 0, MaxSuffix: 4, NullRoundPercent: 15, MaxNullRounds: 3, MaxBlocks: 4,
		StartEpoch: 20000, ExtraSignersPercent: 30,
	},
	{
		Name: "nullrounds", Seed: 3, FirstInstance: 0, Instances: 20, Participants: 4,
		Power: "equal", MinSuffix: 2, MaxSuffix: 6, NullRoundPercent: 50, MaxNullRounds: 10,
		MaxBlocks: 5, StartEpoch: 30000,
	},
	{
		Name: "checkpoint", Seed: 4, FirstInstance: 0, Instances: 1500, Participants: 5,
		Power: "equal", DeltaPercent: 10, MaxEvents: 1, Joins: true, Leaves: true, KeyRotation: true,
		MinParticipants: 3, MaxParticipants: 7,
		MinSuffix: 1, MaxSuffix: 2, MaxBlocks: 2, StartEpoch: 40000,
	},
	{
		Name: "large", Seed: 5, FirstInstance: 0, Instances: 2000, Participants: 100,
		Power: "skewed", DeltaPercent: 40, MaxEvents: 4, Joins: true, Leaves: true, KeyRotation: true,
		MinParticipants: 80, MaxParticipants: 130,
		MinSuffix: 1, MaxSuffix: 4, NullRoundPercent: 10, MaxNullRounds: 3, MaxBlocks: 5,
		StartEpoch: 100000,
	},
	{
		// Starts just below a checkpoint so that the power-table check at
		// instance 1439 happens with a non-zero first instance.
		Name: "first-instance-nonzero", Seed: 6, FirstInstance: 1430, Instances: 24, Participants: 4,
		Power: "equal", DeltaPercent: 30, MaxEvents: 2, Joins: true, Leaves: true, KeyRotation: true,
		MinParticipants: 3, MaxParticipants: 6,
		MinSuffix: 1, MaxSuffix: 3, MaxBlocks: 2, StartEpoch: 50000,
	},
}

type headerJSON struct {
	Version                  uint64 `json:"version"`
	FirstInstance            uint64 `json:"first_instance"`
	LatestInstance           uint64 `json:"latest_instance"`
	InitialPowerTableCid     string `json:"initial_power_table_cid"`
	InitialPowerTableEntries int    `json:"initial_power_table_entries"`
}

type metadataJSON struct {
	Version       uint64   `json:"version"`
	HeadTipsetKey []string `json:"head_tipset_key"`
	F3Data        any      `json:"f3_data"`
}

type carJSON struct {
	Container   string        `json:"container"`
	Roots       []string      `json:"roots"`
	MetadataCid any           `json:"metadata_cid"`
	Metadata    *metadataJSON `json:"metadata"`
	Blocks      int           `json:"blocks"`
}

type sidecar struct {
	Name               string      `json:"name"`
	Kind               string      `json:"kind"`
	File               string      `json:"file"`
	Size               int         `json:"size"`
	Sha256             string      `json:"sha256"`
	GoF3Version        string      `json:"go_f3_version"`
	Network            string      `json:"network"`
	Seed               uint64      `json:"seed"`
	Participants       int         `json:"participants"`
	F3Cid              any         `json:"f3_cid"`
	Header             *headerJSON `json:"header"`
	Certificates       int         `json:"certificates"`
	FinalPowerTableCid any         `json:"final_power_table_cid"`
	Signatures         string      `json:"signatures"`
	Validation         outcome     `json:"go_f3_validation"`
	Import             outcome     `json:"go_f3_import"`
	Car                *carJSON    `json:"car"`
}

func cidStrings(cs []cid.Cid) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.String()
	}
	return out
}

func f3Cid(data []byte) cid.Cid {
	c, err := cid.V1Builder{Codec: cid.Raw, MhType: 0xb220}.Sum(data)
	if err != nil {
		panic(err)
	}
	return c
}

// importBytes is importFile over an in-memory copy.
func importBytes(ctx context.Context, data []byte) error {
	if isCar(data) {
		return importCar(ctx, bytes.NewReader(data), nil, newMemDatastore())
	}
	return certstore.ImportSnapshotToDatastore(ctx, bytes.NewReader(data), newMemDatastore(), nil)
}

// describe builds the sidecar for a fixture from what go-f3 (and our CAR
// reader) say about its bytes.
func describe(name, file string, data []byte, seed uint64, participants int, signatures, network string) (*sidecar, error) {
	ctx := context.Background()
	sum := sha256.Sum256(data)
	sc := &sidecar{
		Name: name, File: file, Size: len(data), Sha256: hex.EncodeToString(sum[:]),
		GoF3Version: goF3Version(), Network: network, Seed: seed, Participants: participants,
		Signatures: signatures, Kind: "f3data",
	}
	f3 := data
	if isCar(data) {
		sc.Kind = "car"
		info, err := inspectCar(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		cj := &carJSON{Container: info.Container, Roots: cidStrings(info.Roots), Blocks: info.Blocks}
		if info.MetadataCid != nil {
			cj.MetadataCid = info.MetadataCid.String()
			cj.Metadata = &metadataJSON{
				Version:       info.Metadata.Version,
				HeadTipsetKey: cidStrings(info.Metadata.HeadTipsetKey),
				F3Data:        cidOrNil(info.Metadata.F3Data),
			}
			sc.F3Cid = cidOrNil(info.Metadata.F3Data)
		}
		sc.Car = cj
		f3 = info.F3
	} else {
		sc.F3Cid = f3Cid(data).String()
	}
	if f3 != nil {
		if snap, decErr := decodeF3(f3); snap != nil {
			ptc, err := certs.MakePowerTableCID(snap.Header.InitialPowerTable)
			if err != nil {
				return nil, err
			}
			sc.Header = &headerJSON{
				Version: snap.Header.Version, FirstInstance: snap.Header.FirstInstance,
				LatestInstance: snap.Header.LatestInstance, InitialPowerTableCid: ptc.String(),
				InitialPowerTableEntries: len(snap.Header.InitialPowerTable),
			}
			sc.Certificates = len(snap.Certs)
			if decErr == nil {
				if final, err := finalPowerTable(snap); err == nil {
					sc.FinalPowerTableCid = mustTableCid(final).String()
				}
			}
		}
	}
	sc.Validation = toOutcome(guard(func() error { return validateBytes(data, gpbft.NetworkName(network)) }))
	sc.Import = toOutcome(guard(func() error { return importBytes(ctx, data) }))
	return sc, nil
}

type genOutput struct {
	dir   string
	names []string
	// networks maps a fixture to its network when that is not fixtureNetwork.
	networks map[string]string
}

func (g *genOutput) write(name, ext string, data []byte, sc *sidecar) error {
	file := name + ext
	if err := os.WriteFile(filepath.Join(g.dir, file), data, 0o644); err != nil {
		return err
	}
	js, err := json.MarshalIndent(sc, "", "  ")
	if err != nil {
		return err
	}
	js = append(js, '\n')
	if err := os.WriteFile(filepath.Join(g.dir, name+".json"), js, 0o644); err != nil {
		return err
	}
	g.names = append(g.names, name)
	return nil
}

func (g *genOutput) fixture(name, ext string, data []byte, seed uint64, participants int, signatures string) (*sidecar, error) {
	return g.fixtureOn(fixtureNetwork, name, ext, data, seed, participants, signatures)
}

// fixtureOn writes a fixture whose certificates are signed for network.
func (g *genOutput) fixtureOn(network, name, ext string, data []byte, seed uint64, participants int, signatures string) (*sidecar, error) {
	sc, err := describe(name, name+ext, data, seed, participants, signatures, network)
	if err != nil {
		return nil, err
	}
	if network != fixtureNetwork {
		if g.networks == nil {
			g.networks = map[string]string{}
		}
		g.networks[name] = network
	}
	return sc, g.write(name, ext, data, sc)
}

type exported struct {
	sc    *scenario
	chain *builtChain
	data  []byte
	cid   cid.Cid
	hdr   *certstore.SnapshotHeader
}

// generate writes every fixture to dir; realData is the folder holding the
// real mainnet power table and certificates.
func generate(dir, realData string, logf func(string, ...any)) error {
	ctx := context.Background()
	if err := checkRealData(realData); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	g := &genOutput{dir: dir}
	keys := newKeyring()
	byName := map[string]*exported{}
	for _, sc := range scenarios {
		logf("building %s (%d instances, %d participants)", sc.Name, sc.Instances, sc.Participants)
		bc, err := buildChain(sc, fixtureNetwork, keys)
		if err != nil {
			return fmt.Errorf("%s: %w", sc.Name, err)
		}
		data, c, hdr, err := exportViaCertstore(ctx, bc)
		if err != nil {
			return fmt.Errorf("%s: %w", sc.Name, err)
		}
		if c != f3Cid(data) {
			return fmt.Errorf("%s: ExportSnapshot returned %s, bytes hash to %s", sc.Name, c, f3Cid(data))
		}
		side, err := g.fixture(sc.Name, ".f3", data, sc.Seed, sc.Participants, "valid")
		if err != nil {
			return err
		}
		if side.Validation.Result != "accept" || side.Import.Result != "accept" {
			return fmt.Errorf("%s: go-f3 does not accept the generated chain: validation %+v, import %+v", sc.Name, side.Validation, side.Import)
		}
		if want := mustTableCid(bc.finalTable).String(); side.FinalPowerTableCid != want {
			return fmt.Errorf("%s: final power table %v, built %s", sc.Name, side.FinalPowerTableCid, want)
		}
		byName[sc.Name] = &exported{sc: sc, chain: bc, data: data, cid: c, hdr: hdr}
	}

	if err := genNegative(g, keys, byName["tiny"], logf); err != nil {
		return err
	}
	if err := genCars(g, byName, logf); err != nil {
		return err
	}
	if err := genRealData(g, realData, logf); err != nil {
		return err
	}

	index := struct {
		GoF3Version string   `json:"go_f3_version"`
		Network     string   `json:"network"`
		Fixtures    []string `json:"fixtures"`
		// The fixtures whose network is not Network.
		FixtureNetworks map[string]string `json:"fixture_networks"`
	}{goF3Version(), fixtureNetwork, g.names, g.networks}
	js, err := json.MarshalIndent(index, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "index.json"), append(js, '\n'), 0o644)
}

func genCars(g *genOutput, byName map[string]*exported, logf func(string, ...any)) error {
	logf("writing CAR snapshots")
	tiny, churn := byName["tiny"], byName["churn"]

	chainBlocks, headKey := fakeChain(101, 2)
	type v2case struct {
		name string
		src  *exported
		seed uint64
	}
	var tinyV2 []byte
	for _, cse := range []v2case{{"car-v2-tiny", tiny, 101}, {"car-v2-churn", churn, 102}, {"car-v2-no-f3", nil, 103}} {
		blocks, key := fakeChain(cse.seed, 2)
		var f3c *cid.Cid
		var f3d []byte
		seed, parts, sigs := cse.seed, 0, "none"
		if cse.src != nil {
			c := cse.src.cid
			f3c, f3d = &c, cse.src.data
			parts, sigs = cse.src.sc.Participants, "valid"
		}
		data, _, _, err := writeSnapshotV2(key, f3c, f3d, blocks)
		if err != nil {
			return err
		}
		side, err := g.fixture(cse.name, ".car", data, seed, parts, sigs)
		if err != nil {
			return err
		}
		if side.Import.Result != "accept" {
			return fmt.Errorf("%s: import %+v", cse.name, side.Import)
		}
		if cse.name == "car-v2-tiny" {
			tinyV2 = data
		}
	}

	v1, err := writeCarV1(headKey, chainBlocks)
	if err != nil {
		return err
	}
	if _, err := g.fixture("car-v1", ".car", v1, 101, 0, "none"); err != nil {
		return err
	}
	oneBlocks, oneKey := fakeChain(104, 1)
	v1one, err := writeCarV1(oneKey, oneBlocks)
	if err != nil {
		return err
	}
	if _, err := g.fixture("car-v1-one-root", ".car", v1one, 104, 0, "none"); err != nil {
		return err
	}
	wrapped, err := wrapCarV2(tinyV2)
	if err != nil {
		return err
	}
	if _, err := g.fixture("carv2-wrapped-v2-tiny", ".car", wrapped, 101, tiny.sc.Participants, "valid"); err != nil {
		return err
	}
	return nil
}

// writeF3Stream frames a header and certificates exactly as go-f3's
// ExportSnapshot does (uvarint length, then the CBOR bytes).
func writeF3Stream(hdr *certstore.SnapshotHeader, certList []*certs.FinalityCertificate) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := hdr.WriteTo(&buf); err != nil {
		return nil, err
	}
	var cb bytes.Buffer
	for _, c := range certList {
		cb.Reset()
		if err := c.MarshalCBOR(&cb); err != nil {
			return nil, err
		}
		writeFrame(&buf, cb.Bytes())
	}
	return buf.Bytes(), nil
}

func writeFrame(buf *bytes.Buffer, b []byte) {
	var lb [10]byte
	n := putUvarint(lb[:], uint64(len(b)))
	buf.Write(lb[:n])
	buf.Write(b)
}

func putUvarint(b []byte, v uint64) int {
	i := 0
	for v >= 0x80 {
		b[i] = byte(v) | 0x80
		v >>= 7
		i++
	}
	b[i] = byte(v)
	return i + 1
}

func cloneCert(c *certs.FinalityCertificate) *certs.FinalityCertificate {
	var buf bytes.Buffer
	if err := c.MarshalCBOR(&buf); err != nil {
		panic(err)
	}
	var out certs.FinalityCertificate
	if err := out.UnmarshalCBOR(&buf); err != nil {
		panic(err)
	}
	return &out
}

// resign signs cert again over the given power table with the same signer
// set, so that a tampered field is covered by a valid signature.
func resign(keys *keyring, network gpbft.NetworkName, pt gpbft.PowerEntries, cert *certs.FinalityCertificate) error {
	payload := gpbft.Payload{Instance: cert.GPBFTInstance, Phase: gpbft.DECIDE_PHASE, SupplementalData: cert.SupplementalData, Value: cert.ECChain}
	msg := payload.MarshalForSigning(network)
	var idx []int
	if err := cert.Signers.ForEach(func(i uint64) error { idx = append(idx, int(i)); return nil }); err != nil {
		return err
	}
	sigs := make([][]byte, len(idx))
	for j, i := range idx {
		s, err := keys.sign(pt[i].PubKey, msg)
		if err != nil {
			return err
		}
		sigs[j] = s
	}
	agg, err := keys.verifier.Aggregate(pt.PublicKeys())
	if err != nil {
		return err
	}
	cert.Signature, err = agg.Aggregate(idx, sigs)
	return err
}

// tablesBefore returns, for each certificate, the power table that signs it.
func tablesBefore(bc *builtChain) []gpbft.PowerEntries {
	out := make([]gpbft.PowerEntries, len(bc.certs))
	pt := bc.initialTable
	for i, c := range bc.certs {
		out[i] = pt
		next, err := certs.ApplyPowerTableDiffs(pt, c.PowerTableDelta)
		if err != nil {
			panic(err)
		}
		pt = next
	}
	return out
}

// genNegative derives small invalid or edge-case streams from tiny, written
// with the same framing as go-f3's export, to record what go-f3's importer
// and validator say about them.
func genNegative(g *genOutput, keys *keyring, tiny *exported, logf func(string, ...any)) error {
	logf("writing derived edge cases")
	bc := tiny.chain
	tables := tablesBefore(bc)
	hdr := *tiny.hdr
	type neg struct {
		name, sigs string
		build      func() ([]byte, error)
	}
	mutate := func(i int, f func(c *certs.FinalityCertificate) error) func() ([]byte, error) {
		return func() ([]byte, error) {
			list := make([]*certs.FinalityCertificate, len(bc.certs))
			copy(list, bc.certs)
			c := cloneCert(list[i])
			if err := f(c); err != nil {
				return nil, err
			}
			list[i] = c
			return writeF3Stream(&hdr, list)
		}
	}
	wrongCid := gpbft.MakeCid([]byte("not a power table"))
	cases := []neg{
		{"tiny-bad-signature", "invalid", mutate(5, func(c *certs.FinalityCertificate) error {
			c.Signature = append([]byte(nil), bc.certs[4].Signature...)
			return nil
		})},
		{"tiny-wrong-power-table-cid-midchain", "valid", mutate(5, func(c *certs.FinalityCertificate) error {
			c.SupplementalData.PowerTable = wrongCid
			return resign(keys, fixtureNetwork, tables[5], c)
		})},
		{"tiny-wrong-power-table-cid-last", "valid", mutate(len(bc.certs)-1, func(c *certs.FinalityCertificate) error {
			c.SupplementalData.PowerTable = wrongCid
			return resign(keys, fixtureNetwork, tables[len(bc.certs)-1], c)
		})},
		{"tiny-latest-instance-mismatch", "valid", func() ([]byte, error) {
			h := hdr
			h.LatestInstance++
			return writeF3Stream(&h, bc.certs)
		}},
		{"tiny-truncated", "not-checked", func() ([]byte, error) {
			return tiny.data[:len(tiny.data)-10], nil
		}},
		{"tiny-header-version-2", "valid", func() ([]byte, error) {
			h := hdr
			h.Version = 2
			return writeF3Stream(&h, bc.certs)
		}},
		{"tiny-empty-ecchain", "not-checked", mutate(5, func(c *certs.FinalityCertificate) error {
			// go-f3 encodes an empty chain as an empty array.
			c.ECChain = &gpbft.ECChain{}
			return nil
		})},
		{"tiny-null-ecchain", "not-checked", rawBlocks(&hdr, bc.certs, func(i int, b []byte) ([]byte, error) {
			if i != 5 {
				return b, nil
			}
			return nullECChain(bc.certs[i], b)
		}, nil)},
		{"tiny-null-ecchain-last", "not-checked", rawBlocks(&hdr, bc.certs, func(i int, b []byte) ([]byte, error) {
			if i != len(bc.certs)-1 {
				return b, nil
			}
			return nullECChain(bc.certs[i], b)
		}, nil)},
		{"tiny-cert-trailing-bytes", "valid", rawBlocks(&hdr, bc.certs, func(i int, b []byte) ([]byte, error) {
			if i != 5 {
				return b, nil
			}
			return append(append([]byte(nil), b...), 0x00), nil
		}, nil)},
		{"tiny-nonminimal-length-prefix", "valid", rawBlocks(&hdr, bc.certs, nil, func(i int, n uint64) []byte {
			if i != 5 {
				return nil
			}
			// The minimal uvarint with a redundant 0x80 continuation and a
			// final 0x00 byte: same value, one byte longer.
			var lb [11]byte
			k := putUvarint(lb[:], n)
			lb[k-1] |= 0x80
			lb[k] = 0x00
			return lb[:k+1]
		})},
	}
	for _, cse := range cases {
		data, err := cse.build()
		if err != nil {
			return fmt.Errorf("%s: %w", cse.name, err)
		}
		if _, err := g.fixture(cse.name, ".f3", data, tiny.sc.Seed, tiny.sc.Participants, cse.sigs); err != nil {
			return err
		}
	}
	return nil
}

// rawBlocks frames certificates with optional changes to a block's bytes
// (edit) or to its length prefix (prefix returns nil for the normal one).
func rawBlocks(hdr *certstore.SnapshotHeader, certList []*certs.FinalityCertificate,
	edit func(i int, b []byte) ([]byte, error), prefix func(i int, n uint64) []byte) func() ([]byte, error) {
	return func() ([]byte, error) {
		var buf bytes.Buffer
		if _, err := hdr.WriteTo(&buf); err != nil {
			return nil, err
		}
		for i, c := range certList {
			var cb bytes.Buffer
			if err := c.MarshalCBOR(&cb); err != nil {
				return nil, err
			}
			b := cb.Bytes()
			if edit != nil {
				var err error
				if b, err = edit(i, b); err != nil {
					return nil, err
				}
			}
			if prefix != nil {
				if p := prefix(i, uint64(len(b))); p != nil {
					buf.Write(p)
					buf.Write(b)
					continue
				}
			}
			writeFrame(&buf, b)
		}
		return buf.Bytes(), nil
	}
}

// nullECChain replaces the encoded ECChain (the certificate's second field)
// with CBOR null, which go-f3's decoder reads as a nil chain.
func nullECChain(c *certs.FinalityCertificate, b []byte) ([]byte, error) {
	var head bytes.Buffer
	head.WriteByte(0x86)
	if err := cbg.WriteMajorTypeHeader(&head, cbg.MajUnsignedInt, c.GPBFTInstance); err != nil {
		return nil, err
	}
	var chain bytes.Buffer
	if err := c.ECChain.MarshalCBOR(&chain); err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(b, head.Bytes()) || !bytes.HasPrefix(b[head.Len():], chain.Bytes()) {
		return nil, fmt.Errorf("unexpected certificate layout")
	}
	out := append([]byte(nil), head.Bytes()...)
	out = append(out, cbg.CborNull...)
	return append(out, b[head.Len()+chain.Len():]...), nil
}

func runGen(args []string) int {
	_, flags, err := parseArgs(args, map[string]bool{"out": true, "quiet": false, "real-data": true})
	if err != nil || flags["out"] == "" {
		fmt.Fprintln(os.Stderr, "usage: gen --out DIR [--real-data DIR]")
		return 2
	}
	realData := defaultRealDataDir
	if d, ok := flags["real-data"]; ok {
		realData = d
	}
	logf := func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }
	if flags["quiet"] == "true" {
		logf = func(string, ...any) {}
	}
	if err := generate(flags["out"], realData, logf); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		return 1
	}
	return 0
}
