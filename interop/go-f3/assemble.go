package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/filecoin-project/go-f3/certs"
	"github.com/filecoin-project/go-f3/certstore"
	"github.com/filecoin-project/go-f3/gpbft"
	"github.com/ipfs/go-cid"
)

// readPowerTableJSON reads a power table as the F3 manifests and Lotus's
// F3GetPowerTable publish it: a JSON array of {"ID", "Power", "PubKey"},
// decoded with go-f3's own types.
func readPowerTableJSON(path string) (gpbft.PowerEntries, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var pt gpbft.PowerEntries
	if err := json.Unmarshal(data, &pt); err != nil {
		return nil, fmt.Errorf("power table %s: %w", path, err)
	}
	if len(pt) == 0 {
		return nil, fmt.Errorf("power table %s is empty", path)
	}
	return pt, nil
}

// readCertificatesJSON reads finality certificates as Lotus's
// Filecoin.F3GetCertificate returns them, decoded with encoding/json into
// go-f3's certs.FinalityCertificate as a Lotus RPC client decodes them.
// The file is either one JSON array of certificates or a sequence of
// certificates (NDJSON: one per line).
func readCertificatesJSON(path string) ([]*certs.FinalityCertificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	trimmed := bytes.TrimSpace(data)
	var out []*certs.FinalityCertificate
	if len(trimmed) > 0 && trimmed[0] == '[' {
		if err := json.Unmarshal(trimmed, &out); err != nil {
			return nil, fmt.Errorf("certificates %s: %w", path, err)
		}
	} else {
		dec := json.NewDecoder(bytes.NewReader(data))
		for {
			var c certs.FinalityCertificate
			err := dec.Decode(&c)
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("certificates %s: certificate %d: %w", path, len(out), err)
			}
			out = append(out, &c)
		}
	}
	for i, c := range out {
		if c == nil {
			return nil, fmt.Errorf("certificates %s: certificate %d is null", path, i)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("certificates %s: no certificates", path)
	}
	return out, nil
}

// assembled is an F3 snapshot exported by go-f3's certstore.
type assembled struct {
	Data   []byte
	Cid    cid.Cid
	Header *certstore.SnapshotHeader
	Certs  []*certs.FinalityCertificate
}

// assembleF3 builds F3 data the way a node does: a certstore over an
// in-memory datastore is created with the initial power table at
// firstInstance, every certificate is stored with certstore.Put (which
// applies the power table deltas and checks each certificate's power table
// CID), and the store is exported with ExportSnapshot up to the last one.
func assembleF3(ctx context.Context, pt gpbft.PowerEntries, list []*certs.FinalityCertificate, firstInstance uint64) (*assembled, error) {
	if len(list) == 0 {
		return nil, errors.New("no certificates to assemble")
	}
	cs, err := certstore.CreateStore(ctx, newMemDatastore(), firstInstance, pt)
	if err != nil {
		return nil, fmt.Errorf("certstore.CreateStore: %w", err)
	}
	for i, c := range list {
		if err := cs.Put(ctx, c); err != nil {
			return nil, fmt.Errorf("certstore.Put of certificate %d (instance %d): %w", i, c.GPBFTInstance, err)
		}
		// Put silently ignores a certificate for an instance it already
		// holds (it then does not become the latest); the snapshot would
		// then not be the input.
		if cs.Latest() != c {
			return nil, fmt.Errorf("certificate %d (instance %d) repeats an instance the store already holds; certstore.Put skipped it", i, c.GPBFTInstance)
		}
	}
	var buf bytes.Buffer
	c, hdr, err := cs.ExportSnapshot(ctx, cs.Latest().GPBFTInstance, &buf)
	if err != nil {
		return nil, fmt.Errorf("certstore.ExportSnapshot: %w", err)
	}
	if got := f3Cid(buf.Bytes()); got != c {
		return nil, fmt.Errorf("ExportSnapshot returned %s, its bytes hash to %s", c, got)
	}
	return &assembled{Data: buf.Bytes(), Cid: c, Header: hdr, Certs: list}, nil
}

// assembleFiles reads a JSON power table and JSON certificates and
// assembles them; first is the first instance, or nil for the first
// certificate's instance.
func assembleFiles(ptPath, certsPath string, first *uint64) (*assembled, error) {
	pt, err := readPowerTableJSON(ptPath)
	if err != nil {
		return nil, err
	}
	list, err := readCertificatesJSON(certsPath)
	if err != nil {
		return nil, err
	}
	fi := list[0].GPBFTInstance
	if first != nil {
		fi = *first
	}
	return assembleF3(context.Background(), pt, list, fi)
}

// realDataCarSeed seeds the synthetic chain blocks (head tipset and a few
// ancestors) that stand in for the chain in a CAR around real F3 data.
const realDataCarSeed = 105

// snapshotCarAround wraps F3 data in a v2 Filecoin snapshot laid out as
// Lotus's ExportV2 (metadata root, F3 block, chain blocks), with the same
// kind of synthetic two-block head as the other CAR fixtures.
func snapshotCarAround(a *assembled) ([]byte, *SnapshotMetadata, cid.Cid, error) {
	chain, key := fakeChain(realDataCarSeed, 2)
	c := a.Cid
	return writeSnapshotV2(key, &c, a.Data, chain)
}

type assembleResult struct {
	Out                  string `json:"out"`
	Bytes                int    `json:"bytes"`
	F3Cid                string `json:"f3_cid"`
	F3Bytes              int    `json:"f3_bytes"`
	FirstInstance        uint64 `json:"first_instance"`
	LatestInstance       uint64 `json:"latest_instance"`
	Certificates         int    `json:"certificates"`
	InitialPowerTableCid string `json:"initial_power_table_cid"`
	FinalPowerTableCid   string `json:"final_power_table_cid"`
	MetadataCid          any    `json:"metadata_cid"`
}

const assembleUsage = "usage: assemble --initial-power-table PT.json --certificates CERTS.json [--first-instance N] [--car] --out FILE"

func runAssemble(args []string) int {
	pos, flags, err := parseArgs(args, map[string]bool{
		"initial-power-table": true, "certificates": true, "first-instance": true, "car": false, "out": true,
	})
	if err == nil && (len(pos) != 0 || flags["initial-power-table"] == "" || flags["certificates"] == "" || flags["out"] == "") {
		err = errors.New("missing or extra arguments")
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "assemble: %v\n%s\n", err, assembleUsage)
		return 2
	}
	var first *uint64
	if s, ok := flags["first-instance"]; ok {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			fmt.Fprintf(os.Stderr, "assemble: --first-instance %q: %v\n", s, err)
			return 2
		}
		first = &v
	}
	res, err := assembleCommand(flags["initial-power-table"], flags["certificates"], first, flags["car"] == "true", flags["out"])
	if err != nil {
		fmt.Fprintln(os.Stderr, "assemble:", err)
		return 1
	}
	printJSONLine(res)
	return 0
}

func assembleCommand(ptPath, certsPath string, first *uint64, asCar bool, out string) (*assembleResult, error) {
	a, err := assembleFiles(ptPath, certsPath, first)
	if err != nil {
		return nil, err
	}
	initial, err := certs.MakePowerTableCID(a.Header.InitialPowerTable)
	if err != nil {
		return nil, err
	}
	final, err := finalPowerTable(&f3Snapshot{Header: *a.Header, Certs: a.Certs})
	if err != nil {
		return nil, err
	}
	res := &assembleResult{
		Out: out, F3Cid: a.Cid.String(), F3Bytes: len(a.Data),
		FirstInstance: a.Header.FirstInstance, LatestInstance: a.Header.LatestInstance,
		Certificates: len(a.Certs), InitialPowerTableCid: initial.String(),
		FinalPowerTableCid: mustTableCid(final).String(),
	}
	data := a.Data
	if asCar {
		var mdCid cid.Cid
		if data, _, mdCid, err = snapshotCarAround(a); err != nil {
			return nil, err
		}
		res.MetadataCid = mdCid.String()
	}
	res.Bytes = len(data)
	if err := os.WriteFile(out, data, 0o644); err != nil {
		return nil, err
	}
	return res, nil
}
