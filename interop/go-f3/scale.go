package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"math/big"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/filecoin-project/go-bitfield"
	"github.com/filecoin-project/go-f3/certs"
	"github.com/filecoin-project/go-f3/certstore"
	"github.com/filecoin-project/go-f3/gpbft"
	fbig "github.com/filecoin-project/go-state-types/big"
	"github.com/ipfs/go-cid"
	"golang.org/x/crypto/blake2b"
)

// scaleParams shapes a mainnet-like F3 snapshot for benchmarks.
type scaleParams struct {
	Participants int
	Instances    int
	Seed         uint64
	// DeltaPercent of instances carry a power table delta.
	DeltaPercent int
}

type multiHashWriter struct {
	w       io.Writer
	hashers []hash.Hash
	n       int64
}

func (m *multiHashWriter) Write(p []byte) (int, error) {
	for _, h := range m.hashers {
		h.Write(p)
	}
	n, err := m.w.Write(p)
	m.n += int64(n)
	return n, err
}

// scaleGen builds a long chain quickly: real BLS public keys (so the keys
// decode as G1 points), but random 96-byte signatures. Everything else is
// consistent: instances, ECChain bases, deltas and every certificate's
// power table CID. The tipsets' own PowerTable fields carry a pseudo CID
// that changes once a day of epochs (nothing checks them against a table).
//
// Two stages run concurrently: one draws the instances and applies deltas,
// the other computes power table CIDs, encodes and writes certificates.
func scaleGen(out io.Writer, p scaleParams, logf func(string, ...any)) (*certstore.SnapshotHeader, gpbft.PowerEntries, error) {
	rng := newPRNG(p.Seed, 11)
	keys := newKeyring()
	nextID := gpbft.ActorID(1000)
	keyGen := map[gpbft.ActorID]uint64{}
	newKey := func(id gpbft.ActorID) gpbft.PubKey {
		g := keyGen[id]
		keyGen[id] = g + 1
		return keys.derive(p.Seed, id, g)
	}
	table := make(gpbft.PowerEntries, 0, p.Participants)
	for i := 0; i < p.Participants; i++ {
		id := nextID
		nextID += gpbft.ActorID(1 + rng.intn(20))
		k := int64(i + 1)
		units := 3000000/(k*k) + 2000000/k + int64(rng.intn(1000)) + 1
		table = append(table, gpbft.PowerEntry{ID: id, Power: powerOf(units), PubKey: newKey(id)})
	}
	sort.Sort(table)
	initial := table
	table = append(gpbft.PowerEntries(nil), initial...)
	total, zeroFrom := scaleBounds(table)

	hdr := &certstore.SnapshotHeader{Version: 1, FirstInstance: 0, LatestInstance: uint64(p.Instances - 1), InitialPowerTable: initial}
	if _, err := hdr.WriteTo(out); err != nil {
		return nil, nil, err
	}

	epoch := int64(4_000_000)
	tipset := func(e int64) *gpbft.TipSet {
		n := rng.between(3, 7)
		key := make([]byte, 0, n*38)
		for j := 0; j < n; j++ {
			key = append(key, blockCid(p.Seed, e, j).Bytes()...)
		}
		var day [16]byte
		copy(day[:], "frc0108pt")
		binary.BigEndian.PutUint64(day[8:], uint64(e/2880))
		return &gpbft.TipSet{Epoch: e, Key: key, PowerTable: gpbft.MakeCid(day[:])}
	}
	head := tipset(epoch)

	type job struct {
		cert  *certs.FinalityCertificate
		table gpbft.PowerEntries // a copy when this instance changed it
	}
	jobs := make(chan job, 256)
	done := make(chan struct{})
	var genErr error
	go func() {
		defer close(jobs)
		var set []uint64
		start := time.Now()
		for n := 0; n < p.Instances; n++ {
			if n > 0 && n%20000 == 0 {
				logf("gen-scale: %d/%d instances (%s)", n, p.Instances, time.Since(start).Round(time.Second))
			}
			// ECChain: base plus 1-3 tipsets, with occasional null rounds.
			ts := []*gpbft.TipSet{head}
			for j, k := 0, rng.between(1, 3); j < k; j++ {
				epoch++
				if rng.chance(3, 100) {
					epoch += int64(rng.between(1, 2))
				}
				ts = append(ts, tipset(epoch))
			}
			chain := &gpbft.ECChain{TipSets: ts}

			// Signers: most participants with non-zero scaled power, with
			// scattered absences, never enough to lose the strong quorum.
			set = set[:0]
			skipped := new(big.Int)
			for i := 0; i < zeroFrom; i++ {
				if i >= 10 && rng.chance(1, 12) {
					sk := new(big.Int).Add(skipped, table[i].Power.Int)
					if new(big.Int).Mul(sk, big.NewInt(4)).Cmp(total) < 0 { // stay under 1/4 absent
						skipped = sk
						continue
					}
				}
				set = append(set, uint64(i))
			}

			// Delta: a few power changes, sometimes joins, leaves, key changes.
			var delta certs.PowerTableDiff
			var snapshot gpbft.PowerEntries
			if rng.chance(p.DeltaPercent, 100) {
				changes := map[gpbft.ActorID]certs.PowerTableDelta{}
				for e, k := 0, rng.between(1, 6); e < k; e++ {
					kind := rng.intn(100)
					switch {
					case kind < 3: // join
						id := nextID
						nextID += gpbft.ActorID(1 + rng.intn(20))
						changes[id] = certs.PowerTableDelta{ParticipantID: id, PowerDelta: powerOf(int64(1 + rng.intn(5000))), SigningKey: newKey(id)}
					case kind < 6 && len(table) > p.Participants/2: // leave
						e := table[rng.intn(len(table))]
						if _, dup := changes[e.ID]; !dup {
							changes[e.ID] = certs.PowerTableDelta{ParticipantID: e.ID, PowerDelta: e.Power.Neg()}
						}
					case kind < 7: // key change
						e := table[rng.intn(len(table))]
						if _, dup := changes[e.ID]; !dup {
							changes[e.ID] = certs.PowerTableDelta{ParticipantID: e.ID, PowerDelta: fbig.Zero(), SigningKey: newKey(e.ID)}
						}
					default: // power moves by a small fraction
						e := table[rng.intn(len(table))]
						if _, dup := changes[e.ID]; dup {
							continue
						}
						frac := new(big.Int).Div(e.Power.Int, big.NewInt(int64(50+rng.intn(200))))
						if frac.Sign() == 0 {
							frac = big.NewInt(1)
						}
						d := fbig.NewFromGo(frac)
						if rng.chance(1, 3) && e.Power.GreaterThan(d) {
							d = d.Neg()
						}
						changes[e.ID] = certs.PowerTableDelta{ParticipantID: e.ID, PowerDelta: d}
					}
				}
				for _, d := range changes {
					delta = append(delta, d)
				}
				sort.Slice(delta, func(i, j int) bool { return delta[i].ParticipantID < delta[j].ParticipantID })
				var err error
				if table, err = applySorted(table, delta); err != nil {
					genErr = fmt.Errorf("instance %d: %w", n, err)
					return
				}
				total, zeroFrom = scaleBounds(table)
				snapshot = append(gpbft.PowerEntries(nil), table...)
			}
			cert := &certs.FinalityCertificate{
				GPBFTInstance:   uint64(n),
				ECChain:         chain,
				Signers:         bitfield.NewFromSet(set),
				Signature:       rng.bytes(96),
				PowerTableDelta: delta,
			}
			select {
			case jobs <- job{cert: cert, table: snapshot}:
			case <-done:
				return
			}
			head = chain.Head()
		}
	}()

	final := initial
	ptCid := mustTableCid(initial)
	var cb, frame bytes.Buffer
	var writeErr error
	for j := range jobs {
		if writeErr != nil {
			continue
		}
		if j.table != nil {
			final = j.table
			ptCid = mustTableCid(j.table)
		}
		j.cert.SupplementalData.PowerTable = ptCid
		cb.Reset()
		if err := j.cert.MarshalCBOR(&cb); err != nil {
			writeErr = fmt.Errorf("instance %d: %w", j.cert.GPBFTInstance, err)
			close(done)
			continue
		}
		frame.Reset()
		writeFrame(&frame, cb.Bytes())
		if _, err := out.Write(frame.Bytes()); err != nil {
			writeErr = err
			close(done)
		}
	}
	if writeErr != nil {
		return nil, nil, writeErr
	}
	if genErr != nil {
		return nil, nil, genErr
	}
	return hdr, final, nil
}

// skipSignatures is a gpbft.Verifier whose aggregates accept any signature,
// so that ValidateFinalityCertificates checks everything else.
type skipSignatures struct{}

func (skipSignatures) Verify(gpbft.PubKey, []byte, []byte) error { return nil }
func (skipSignatures) Aggregate([]gpbft.PubKey) (gpbft.Aggregate, error) {
	return skipAggregate{}, nil
}

type skipAggregate struct{}

func (skipAggregate) Aggregate([]int, [][]byte) ([]byte, error)   { return nil, nil }
func (skipAggregate) VerifyAggregate([]int, []byte, []byte) error { return nil }

// checkWithoutSignatures streams the file through ValidateFinalityCertificates
// with signature checks stubbed out.
func checkWithoutSignatures(data []byte, network gpbft.NetworkName) error {
	snap, err := decodeF3(data)
	if err != nil {
		return err
	}
	pt := snap.Header.InitialPowerTable
	next := snap.Header.FirstInstance
	var base *gpbft.TipSet
	for start := 0; start < len(snap.Certs); start += validateBatch {
		batch := snap.Certs[start:min(start+validateBatch, len(snap.Certs))]
		next, _, pt, err = certs.ValidateFinalityCertificates(skipSignatures{}, network, pt, next, base, batch...)
		if err != nil {
			return err
		}
		base = batch[len(batch)-1].ECChain.Head()
	}
	return nil
}

func runGenScale(args []string) int {
	_, flags, err := parseArgs(args, map[string]bool{"out": true, "participants": true, "instances": true, "seed": true, "delta-percent": true, "check": false})
	if err != nil || flags["out"] == "" {
		fmt.Fprintln(os.Stderr, "usage: gen-scale --out FILE [--participants N] [--instances M] [--seed S] [--delta-percent P] [--check]")
		return 2
	}
	p := scaleParams{Participants: 1500, Instances: 100000, Seed: 1, DeltaPercent: 80}
	for name, dst := range map[string]*int{"participants": &p.Participants, "instances": &p.Instances, "delta-percent": &p.DeltaPercent} {
		if v, ok := flags[name]; ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				fmt.Fprintf(os.Stderr, "bad --%s %q\n", name, v)
				return 2
			}
			*dst = n
		}
	}
	if v, ok := flags["seed"]; ok {
		if p.Seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			fmt.Fprintf(os.Stderr, "bad --seed %q\n", v)
			return 2
		}
	}
	if p.Participants < 1 || p.Instances < 1 {
		fmt.Fprintln(os.Stderr, "gen-scale needs at least one participant and one instance")
		return 2
	}
	logf := func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }
	path := flags["out"]
	if err := genScaleFile(path, p, flags["check"] == "true", logf); err != nil {
		fmt.Fprintln(os.Stderr, "gen-scale:", err)
		return 1
	}
	return 0
}

func genScaleFile(path string, p scaleParams, check bool, logf func(string, ...any)) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	b2, _ := blake2b.New256(nil)
	sh := sha256.New()
	bw := bufio.NewWriterSize(f, 1<<20)
	mw := &multiHashWriter{w: bw, hashers: []hash.Hash{b2, sh}}
	start := time.Now()
	hdr, final, err := scaleGen(mw, p, logf)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	logf("gen-scale: wrote %d bytes in %s", mw.n, time.Since(start).Round(time.Millisecond))

	mh := append([]byte{0xa0, 0xe4, 0x02, 0x20}, b2.Sum(nil)...)
	c, err := cid.Cast(append([]byte{0x01, 0x55}, mh...))
	if err != nil {
		return err
	}
	ptc, err := certs.MakePowerTableCID(hdr.InitialPowerTable)
	if err != nil {
		return err
	}
	sc := &sidecar{
		Name: "gen-scale", Kind: "f3data", File: fileBase(path), Size: int(mw.n),
		Sha256: hex.EncodeToString(sh.Sum(nil)), GoF3Version: goF3Version(), Network: fixtureNetwork,
		Seed: p.Seed, Participants: p.Participants, F3Cid: c.String(),
		Header: &headerJSON{Version: hdr.Version, FirstInstance: hdr.FirstInstance, LatestInstance: hdr.LatestInstance,
			InitialPowerTableCid: ptc.String(), InitialPowerTableEntries: len(hdr.InitialPowerTable)},
		Certificates:       p.Instances,
		FinalPowerTableCid: mustTableCid(final).String(),
		Signatures:         "not-checked",
		Validation:         outcome{Result: "not-checked", Error: "signatures are random bytes; gen-scale --check validates everything else"},
	}
	t := time.Now()
	sc.Import = toOutcome(guard(func() error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		return importF3(context.Background(), bufio.NewReaderSize(f, 1<<20), nil)
	}))
	logf("gen-scale: go-f3 import: %s in %s", sc.Import.Result, time.Since(t).Round(time.Millisecond))
	if check {
		t = time.Now()
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		o := toOutcome(guard(func() error { return checkWithoutSignatures(data, fixtureNetwork) }))
		if o.Result == "accept" {
			o = outcome{Result: "accept-without-signatures", Error: ""}
		}
		sc.Validation = o
		logf("gen-scale: validation without signatures: %s in %s", o.Result, time.Since(t).Round(time.Millisecond))
	}
	js, err := json.MarshalIndent(sc, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path+".json", append(js, '\n'), 0o644)
}

func fileBase(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '/' {
			return path[i+1:]
		}
	}
	return path
}

// scaleBounds returns the total power and the index of the first entry whose
// scaled power (power * 0xffff / total, as gpbft.PowerEntries.Scaled computes
// it) is zero. The table is sorted by power, descending.
func scaleBounds(pt gpbft.PowerEntries) (*big.Int, int) {
	total := new(big.Int)
	for _, e := range pt {
		total.Add(total, e.Power.Int)
	}
	zeroFrom := sort.Search(len(pt), func(i int) bool {
		v := new(big.Int).Mul(pt[i].Power.Int, big.NewInt(0xffff))
		return v.Cmp(total) < 0
	})
	return total, zeroFrom
}

// applySorted applies a (valid, sorted) delta to a table kept in go-f3's
// order (power descending, then ID ascending), moving only the entries that
// change. It gives the same table as certs.ApplyPowerTableDiffs for the
// deltas gen-scale produces; gen-scale --check confirms it with go-f3.
func applySorted(pt gpbft.PowerEntries, delta certs.PowerTableDiff) (gpbft.PowerEntries, error) {
	for _, d := range delta {
		idx := -1
		for i := range pt {
			if pt[i].ID == d.ParticipantID {
				idx = i
				break
			}
		}
		var e gpbft.PowerEntry
		if idx >= 0 {
			e = pt[idx]
			pt = append(pt[:idx], pt[idx+1:]...)
			e.Power = fbig.Add(e.Power, d.PowerDelta)
			if len(d.SigningKey) > 0 {
				e.PubKey = d.SigningKey
			}
		} else {
			e = gpbft.PowerEntry{ID: d.ParticipantID, Power: d.PowerDelta, PubKey: d.SigningKey}
		}
		switch e.Power.Sign() {
		case 0:
			continue
		case -1:
			return nil, fmt.Errorf("negative power for participant %d", e.ID)
		}
		at := sort.Search(len(pt), func(i int) bool {
			c := fbig.Cmp(pt[i].Power, e.Power)
			return c < 0 || (c == 0 && pt[i].ID > e.ID)
		})
		pt = append(pt, gpbft.PowerEntry{})
		copy(pt[at+1:], pt[at:])
		pt[at] = e
	}
	return pt, nil
}
