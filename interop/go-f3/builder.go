package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/big"
	"runtime"
	"sort"
	"sync"

	"github.com/filecoin-project/go-bitfield"
	"github.com/filecoin-project/go-f3/certs"
	"github.com/filecoin-project/go-f3/certstore"
	"github.com/filecoin-project/go-f3/gpbft"
	fbig "github.com/filecoin-project/go-state-types/big"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
)

// scenario describes one generated certificate chain.
type scenario struct {
	Name          string
	Seed          uint64
	FirstInstance uint64
	Instances     int
	Participants  int

	// Power model for the initial table: "equal" or "skewed".
	Power string
	// BigPower gives the first participant a power above 2^64 so that the
	// big-integer encoding is exercised beyond 8 magnitude bytes.
	BigPower bool

	// Churn: percentage of instances that carry a power table delta, and the
	// maximum number of changes per delta.
	DeltaPercent int
	MaxEvents    int
	Joins        bool
	Leaves       bool
	KeyRotation  bool
	// Bounds on the table size while churning.
	MinParticipants int
	MaxParticipants int

	// ECChain shape.
	MinSuffix        int
	MaxSuffix        int
	NullRoundPercent int
	MaxNullRounds    int
	MaxBlocks        int
	StartEpoch       int64

	// ExtraSignersPercent: probability that a certificate is signed by more
	// than the minimal strong quorum (up to everybody).
	ExtraSignersPercent int
}

type builtChain struct {
	sc           *scenario
	network      gpbft.NetworkName
	initialTable gpbft.PowerEntries
	certs        []*certs.FinalityCertificate
	finalTable   gpbft.PowerEntries
	keys         *keyring
}

var unitPower = new(big.Int).Lsh(big.NewInt(1), 40) // 1 TiB, a plausible sector-power unit

func powerOf(units int64) gpbft.StoragePower {
	return fbig.NewFromGo(new(big.Int).Mul(big.NewInt(units), unitPower))
}

type chainState struct {
	sc      *scenario
	rng     *prng
	keys    *keyring
	table   gpbft.PowerEntries
	nextID  gpbft.ActorID
	keyGen  map[gpbft.ActorID]uint64
	head    *gpbft.TipSet
	aggs    map[cid.Cid]gpbft.Aggregate
	network gpbft.NetworkName
}

func blockCid(seed uint64, epoch int64, idx int) cid.Cid {
	var b [32]byte
	copy(b[:8], "frc0108b")
	binary.BigEndian.PutUint64(b[8:], seed)
	binary.BigEndian.PutUint64(b[16:], uint64(epoch))
	binary.BigEndian.PutUint64(b[24:], uint64(idx))
	return gpbft.MakeCid(b[:])
}

func (st *chainState) tipset(epoch int64, ptCid cid.Cid) *gpbft.TipSet {
	n := 1
	if st.sc.MaxBlocks > 1 {
		n = st.rng.between(1, st.sc.MaxBlocks)
	}
	var key []byte
	for j := 0; j < n; j++ {
		key = append(key, blockCid(st.sc.Seed, epoch, j).Bytes()...)
	}
	return &gpbft.TipSet{Epoch: epoch, Key: key, PowerTable: ptCid}
}

func mustTableCid(pt gpbft.PowerEntries) cid.Cid {
	c, err := certs.MakePowerTableCID(pt)
	if err != nil {
		panic(err)
	}
	return c
}

func (st *chainState) initialTable() gpbft.PowerEntries {
	sc := st.sc
	var entries gpbft.PowerEntries
	for i := 0; i < sc.Participants; i++ {
		id := st.nextID
		st.nextID += gpbft.ActorID(1 + st.rng.intn(50))
		var units int64
		switch sc.Power {
		case "skewed":
			// A few large participants and a long tail, as on mainnet,
			// with some noise. Integer arithmetic keeps it reproducible.
			k := int64(i + 1)
			units = 300000/(k*k) + 200000/k + int64(st.rng.intn(100)) + 1
		default:
			units = 1000
		}
		p := powerOf(units)
		if sc.BigPower && i == 0 {
			p = fbig.NewFromGo(new(big.Int).Lsh(big.NewInt(int64(3+st.rng.intn(5))), 66))
		}
		entries = append(entries, gpbft.PowerEntry{ID: id, Power: p, PubKey: st.keys.derive(sc.Seed, id, 0)})
		st.keyGen[id] = 0
	}
	sort.Sort(entries)
	return entries
}

// nextTable applies random churn to the current table and returns the new one.
func (st *chainState) nextTable() gpbft.PowerEntries {
	sc := st.sc
	if sc.DeltaPercent == 0 || !st.rng.chance(sc.DeltaPercent, 100) {
		return st.table
	}
	next := make(map[gpbft.ActorID]gpbft.PowerEntry, len(st.table)+1)
	for _, e := range st.table {
		next[e.ID] = e
	}
	ids := func() []gpbft.ActorID {
		out := make([]gpbft.ActorID, 0, len(next))
		for id := range next {
			out = append(out, id)
		}
		sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
		return out
	}
	touched := map[gpbft.ActorID]bool{}
	events := 1
	if sc.MaxEvents > 1 {
		events = st.rng.between(1, sc.MaxEvents)
	}
	for ev := 0; ev < events; ev++ {
		kind := st.rng.intn(5)
		switch {
		case kind == 0 && sc.Joins && len(next) < sc.MaxParticipants:
			id := st.nextID
			st.nextID += gpbft.ActorID(1 + st.rng.intn(50))
			st.keyGen[id] = 0
			next[id] = gpbft.PowerEntry{ID: id, Power: powerOf(int64(1 + st.rng.intn(3000))), PubKey: st.keys.derive(sc.Seed, id, 0)}
			touched[id] = true
			continue
		case kind == 1 && sc.Leaves && len(next) > sc.MinParticipants:
			cands := ids()
			id := cands[st.rng.intn(len(cands))]
			if touched[id] {
				continue
			}
			delete(next, id)
			touched[id] = true
			continue
		}
		cands := ids()
		id := cands[st.rng.intn(len(cands))]
		if touched[id] {
			continue
		}
		touched[id] = true
		e := next[id]
		switch {
		case kind == 4 && sc.KeyRotation:
			st.keyGen[id]++
			e.PubKey = st.keys.derive(sc.Seed, id, st.keyGen[id])
			if st.rng.chance(1, 2) {
				e.Power = fbig.Add(e.Power, powerOf(int64(1+st.rng.intn(100))))
			}
		case kind%2 == 0:
			e.Power = fbig.Add(e.Power, powerOf(int64(1+st.rng.intn(500))))
		default:
			// Fall, but stay positive.
			cur := new(big.Int).Div(e.Power.Int, unitPower).Int64()
			if cur > 1 {
				e.Power = fbig.Sub(e.Power, powerOf(int64(1+st.rng.intn(int(min(cur-1, 500))))))
			} else {
				e.Power = fbig.Add(e.Power, powerOf(7))
			}
		}
		next[id] = e
	}
	out := make(gpbft.PowerEntries, 0, len(next))
	for _, e := range next {
		out = append(out, e)
	}
	sort.Sort(out)
	return out
}

func (st *chainState) nextChain(ptCid cid.Cid) *gpbft.ECChain {
	sc := st.sc
	tipsets := []*gpbft.TipSet{st.head}
	n := st.rng.between(sc.MinSuffix, sc.MaxSuffix)
	epoch := st.head.Epoch
	for j := 0; j < n; j++ {
		epoch++
		if sc.NullRoundPercent > 0 && st.rng.chance(sc.NullRoundPercent, 100) {
			epoch += int64(st.rng.between(1, max(1, sc.MaxNullRounds)))
		}
		tipsets = append(tipsets, st.tipset(epoch, ptCid))
	}
	return &gpbft.ECChain{TipSets: tipsets}
}

func (st *chainState) aggregator(pt gpbft.PowerEntries, ptCid cid.Cid) (gpbft.Aggregate, error) {
	if agg, ok := st.aggs[ptCid]; ok {
		return agg, nil
	}
	agg, err := st.keys.verifier.Aggregate(pt.PublicKeys())
	if err != nil {
		return nil, err
	}
	if len(st.aggs) > 64 {
		st.aggs = map[cid.Cid]gpbft.Aggregate{}
	}
	st.aggs[ptCid] = agg
	return agg, nil
}

// chooseSigners picks a strong quorum (by go-f3's scaled power) of the table.
// Participants are considered in table order (largest power first). Those
// that make up the first 40% of the power always sign; each later one is
// skipped with some probability, so the set varies from one instance to the
// next while staying small when power is concentrated. With
// ExtraSignersPercent the set may grow past the minimal quorum.
func (st *chainState) chooseSigners(pt gpbft.PowerEntries) ([]int, error) {
	scaled, total, err := pt.Scaled()
	if err != nil {
		return nil, err
	}
	extra := st.sc.ExtraSignersPercent > 0 && st.rng.chance(st.sc.ExtraSignersPercent, 100)
	picked := make([]bool, len(pt))
	var sum int64
	done := func() bool {
		if !gpbft.IsStrongQuorum(sum, total) {
			return false
		}
		return !extra || st.rng.chance(1, 4)
	}
	for pass := 0; pass < 2 && !done(); pass++ {
		for i := range pt {
			if picked[i] || scaled[i] == 0 {
				continue
			}
			// The largest participants, up to 40% of the scaled power,
			// always sign; the others may be absent.
			if pass == 0 && sum*5 >= total*2 && st.rng.chance(1, 5) {
				continue
			}
			picked[i] = true
			sum += scaled[i]
			if done() {
				break
			}
		}
	}
	if !gpbft.IsStrongQuorum(sum, total) {
		return nil, fmt.Errorf("cannot reach a strong quorum")
	}
	var out []int
	for i, p := range picked {
		if p {
			out = append(out, i)
		}
	}
	return out, nil
}

func (st *chainState) signAll(pt gpbft.PowerEntries, idx []int, msg []byte) ([][]byte, error) {
	sigs := make([][]byte, len(idx))
	errs := make([]error, len(idx))
	workers := runtime.NumCPU()
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				sigs[j], errs[j] = st.keys.sign(pt[idx[j]].PubKey, msg)
			}
		}()
	}
	for j := range idx {
		next <- j
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return sigs, nil
}

func buildChain(sc *scenario, network gpbft.NetworkName, keys *keyring) (*builtChain, error) {
	st := &chainState{
		sc:      sc,
		rng:     newPRNG(sc.Seed, 1),
		keys:    keys,
		nextID:  gpbft.ActorID(1000 + newPRNG(sc.Seed, 2).intn(1000)),
		keyGen:  map[gpbft.ActorID]uint64{},
		aggs:    map[cid.Cid]gpbft.Aggregate{},
		network: network,
	}
	st.table = st.initialTable()
	initial := st.table
	ptCid := mustTableCid(st.table)
	st.head = st.tipset(sc.StartEpoch, ptCid)

	out := &builtChain{sc: sc, network: network, initialTable: initial, keys: keys}
	for n := 0; n < sc.Instances; n++ {
		instance := sc.FirstInstance + uint64(n)
		chain := st.nextChain(ptCid)
		newTable := st.nextTable()
		delta := certs.MakePowerTableDiff(st.table, newTable)
		applied, err := certs.ApplyPowerTableDiffs(st.table, delta)
		if err != nil {
			return nil, fmt.Errorf("instance %d: %w", instance, err)
		}
		newCid := mustTableCid(applied)
		sd := gpbft.SupplementalData{PowerTable: newCid}
		payload := gpbft.Payload{
			Instance:         instance,
			Round:            0,
			Phase:            gpbft.DECIDE_PHASE,
			SupplementalData: sd,
			Value:            chain,
		}
		msg := payload.MarshalForSigning(network)
		signers, err := st.chooseSigners(st.table)
		if err != nil {
			return nil, fmt.Errorf("instance %d: %w", instance, err)
		}
		sigs, err := st.signAll(st.table, signers, msg)
		if err != nil {
			return nil, fmt.Errorf("instance %d: %w", instance, err)
		}
		agg, err := st.aggregator(st.table, ptCid)
		if err != nil {
			return nil, err
		}
		aggSig, err := agg.Aggregate(signers, sigs)
		if err != nil {
			return nil, fmt.Errorf("instance %d: aggregating: %w", instance, err)
		}
		set := make([]uint64, len(signers))
		for i, s := range signers {
			set[i] = uint64(s)
		}
		cert := &certs.FinalityCertificate{
			GPBFTInstance:    instance,
			ECChain:          chain,
			SupplementalData: sd,
			Signers:          bitfield.NewFromSet(set),
			Signature:        aggSig,
			PowerTableDelta:  delta,
		}
		out.certs = append(out.certs, cert)
		st.table = applied
		ptCid = newCid
		st.head = chain.Head()
	}
	out.finalTable = st.table
	return out, nil
}

// exportViaCertstore stores the chain in a certstore over an in-memory
// datastore and exports it with go-f3's ExportSnapshot.
func exportViaCertstore(ctx context.Context, bc *builtChain) ([]byte, cid.Cid, *certstore.SnapshotHeader, error) {
	ds := dssync.MutexWrap(datastore.NewMapDatastore())
	cs, err := certstore.CreateStore(ctx, ds, bc.sc.FirstInstance, bc.initialTable)
	if err != nil {
		return nil, cid.Undef, nil, err
	}
	for _, c := range bc.certs {
		if err := cs.Put(ctx, c); err != nil {
			return nil, cid.Undef, nil, fmt.Errorf("certstore.Put(%d): %w", c.GPBFTInstance, err)
		}
	}
	var buf bytes.Buffer
	last := bc.certs[len(bc.certs)-1].GPBFTInstance
	c, hdr, err := cs.ExportSnapshot(ctx, last, &buf)
	if err != nil {
		return nil, cid.Undef, nil, err
	}
	return buf.Bytes(), c, hdr, nil
}
