package main

import (
	"bytes"
	"fmt"

	"github.com/filecoin-project/go-f3/gpbft"
	"github.com/ipfs/go-cid"
	car "github.com/ipld/go-car"
	carutil "github.com/ipld/go-car/util"
	carv2 "github.com/ipld/go-car/v2"
	cbg "github.com/whyrusleeping/cbor-gen"
)

type carBlock struct {
	Cid  cid.Cid
	Data []byte
}

// fakeHeader is a tiny DAG-CBOR stand-in for a Filecoin block header:
// [miner, height, parents, ticket]. It is a CBOR array, like a real header,
// so it never decodes as SnapshotMetadata.
func fakeHeader(miner string, height uint64, parents []cid.Cid, ticket []byte) carBlock {
	var buf bytes.Buffer
	cw := cbg.NewCborWriter(&buf)
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	must(cw.WriteMajorTypeHeader(cbg.MajArray, 4))
	must(cw.WriteMajorTypeHeader(cbg.MajTextString, uint64(len(miner))))
	_, err := cw.WriteString(miner)
	must(err)
	must(cw.WriteMajorTypeHeader(cbg.MajUnsignedInt, height))
	must(cw.WriteMajorTypeHeader(cbg.MajArray, uint64(len(parents))))
	for _, p := range parents {
		must(cbg.WriteCid(cw, p))
	}
	must(cbg.WriteByteArray(cw, ticket))
	data := buf.Bytes()
	return carBlock{Cid: gpbft.MakeCid(data), Data: data}
}

// fakeChain returns a few synthetic chain blocks, head tipset first (the
// order a depth-first export from the head produces), and the head tipset key.
func fakeChain(seed uint64, headBlocks int) ([]carBlock, []cid.Cid) {
	rng := newPRNG(seed, 7)
	genesis := fakeHeader("f00", 0, nil, rng.bytes(8))
	b1 := fakeHeader("f01000", 1, []cid.Cid{genesis.Cid}, rng.bytes(8))
	b2 := fakeHeader("f01001", 2, []cid.Cid{b1.Cid}, rng.bytes(8))
	var head []carBlock
	var key []cid.Cid
	for i := 0; i < headBlocks; i++ {
		h := fakeHeader(fmt.Sprintf("f0%d", 1002+i), 4, []cid.Cid{b2.Cid}, rng.bytes(8))
		head = append(head, h)
		key = append(key, h.Cid)
	}
	blocks := append(head, b2, b1, genesis)
	return blocks, key
}

func writeCarV1(roots []cid.Cid, blocks []carBlock) ([]byte, error) {
	var buf bytes.Buffer
	if err := car.WriteHeader(&car.CarHeader{Roots: roots, Version: 1}, &buf); err != nil {
		return nil, err
	}
	for _, b := range blocks {
		if err := carutil.LdWrite(&buf, b.Cid.Bytes(), b.Data); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// metadataBlock encodes the metadata and names it as Lotus does: CIDv1,
// DAG-CBOR, blake2b-256.
func metadataBlock(m *SnapshotMetadata) (carBlock, error) {
	var buf bytes.Buffer
	if err := m.MarshalCBOR(&buf); err != nil {
		return carBlock{}, err
	}
	c, err := cid.V1Builder{Codec: cid.DagCBOR, MhType: 0xb220}.Sum(buf.Bytes())
	if err != nil {
		return carBlock{}, err
	}
	return carBlock{Cid: c, Data: buf.Bytes()}, nil
}

// writeSnapshotV2 lays out a v2 Filecoin snapshot like Lotus's ExportV2:
// root = metadata CID; metadata block; F3 block (when present); chain blocks.
func writeSnapshotV2(headKey []cid.Cid, f3Cid *cid.Cid, f3Data []byte, chain []carBlock) ([]byte, *SnapshotMetadata, cid.Cid, error) {
	md := &SnapshotMetadata{Version: 2, HeadTipsetKey: headKey, F3Data: f3Cid}
	mb, err := metadataBlock(md)
	if err != nil {
		return nil, nil, cid.Undef, err
	}
	blocks := []carBlock{mb}
	if f3Cid != nil {
		blocks = append(blocks, carBlock{Cid: *f3Cid, Data: f3Data})
	}
	blocks = append(blocks, chain...)
	out, err := writeCarV1([]cid.Cid{mb.Cid}, blocks)
	return out, md, mb.Cid, err
}

// wrapCarV2 puts a CARv1 payload inside a CARv2 container (with go-car/v2's
// default index).
func wrapCarV2(v1 []byte) ([]byte, error) {
	var out bytes.Buffer
	if err := carv2.WrapV1(bytes.NewReader(v1), &out); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
