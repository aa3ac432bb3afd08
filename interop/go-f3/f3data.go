package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/filecoin-project/go-f3/blssig"
	"github.com/filecoin-project/go-f3/certs"
	"github.com/filecoin-project/go-f3/certstore"
	"github.com/filecoin-project/go-f3/gpbft"
	"github.com/filecoin-project/go-f3/manifest"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
)

// f3Snapshot is an F3Data stream decoded with go-f3's own CBOR types.
type f3Snapshot struct {
	Header certstore.SnapshotHeader
	Certs  []*certs.FinalityCertificate
	// Raw certificate bytes, as framed in the stream.
	Raw [][]byte
}

// readFrame reads one uvarint-length-prefixed block. Unlike go-f3 it refuses
// a declared length larger than what is left of the input, so that our own
// decoding (used by validate and bench) never allocates on a hostile length.
func readFrame(r *bytes.Reader) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	if n > uint64(r.Len()) {
		return nil, fmt.Errorf("block declares %d bytes but only %d remain", n, r.Len())
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// decodeF3 decodes a whole F3Data stream. On error it also returns what it
// decoded before the error (the header, if that much, and the complete
// certificates before the bad block).
func decodeF3(data []byte) (*f3Snapshot, error) {
	r := bytes.NewReader(data)
	hb, err := readFrame(r)
	if err != nil {
		return nil, fmt.Errorf("reading header block: %w", err)
	}
	var s f3Snapshot
	if err := s.Header.UnmarshalCBOR(bytes.NewReader(hb)); err != nil {
		return nil, fmt.Errorf("decoding header: %w", err)
	}
	for r.Len() > 0 {
		b, err := readFrame(r)
		if err != nil {
			return &s, fmt.Errorf("reading certificate block %d: %w", len(s.Certs), err)
		}
		var c certs.FinalityCertificate
		if err := c.UnmarshalCBOR(bytes.NewReader(b)); err != nil {
			return &s, fmt.Errorf("decoding certificate block %d: %w", len(s.Certs), err)
		}
		s.Certs = append(s.Certs, &c)
		s.Raw = append(s.Raw, b)
	}
	return &s, nil
}

// finalPowerTable applies every certificate's delta to the header's table.
func finalPowerTable(s *f3Snapshot) (gpbft.PowerEntries, error) {
	ptm := certs.PowerTableArrayToMap(s.Header.InitialPowerTable)
	var err error
	for _, c := range s.Certs {
		if ptm, err = certs.ApplyPowerTableDiffsToMap(ptm, c.PowerTableDelta); err != nil {
			return nil, fmt.Errorf("instance %d: %w", c.GPBFTInstance, err)
		}
	}
	return certs.PowerTableMapToArray(ptm), nil
}

const validateBatch = 256

// validateSnapshot runs certs.ValidateFinalityCertificates with go-f3's BLS
// verifier over the whole chain, starting from the header's power table and
// first instance, in batches.
func validateSnapshot(s *f3Snapshot, network gpbft.NetworkName) error {
	if len(s.Certs) == 0 {
		return errors.New("snapshot has no certificates")
	}
	verifier := blssig.VerifierWithKeyOnG1()
	pt := s.Header.InitialPowerTable
	next := s.Header.FirstInstance
	var base *gpbft.TipSet
	for start := 0; start < len(s.Certs); start += validateBatch {
		end := min(start+validateBatch, len(s.Certs))
		batch := s.Certs[start:end]
		var err error
		next, _, pt, err = certs.ValidateFinalityCertificates(verifier, network, pt, next, base, batch...)
		if err != nil {
			return err
		}
		base = batch[len(batch)-1].ECChain.Head()
	}
	return nil
}

func newMemDatastore() datastore.Batching {
	return dssync.MutexWrap(datastore.NewMapDatastore())
}

// importF3 runs go-f3's ImportSnapshotToDatastore over r into a fresh
// in-memory datastore.
func importF3(ctx context.Context, r io.Reader, m *manifest.Manifest) error {
	var sr certstore.SnapshotReader
	if br, ok := r.(certstore.SnapshotReader); ok {
		sr = br
	} else {
		sr = bufio.NewReader(r)
	}
	return certstore.ImportSnapshotToDatastore(ctx, sr, newMemDatastore(), m)
}

func manifestFor(h *certstore.SnapshotHeader) (*manifest.Manifest, error) {
	c, err := certs.MakePowerTableCID(h.InitialPowerTable)
	if err != nil {
		return nil, err
	}
	return &manifest.Manifest{InitialInstance: h.FirstInstance, InitialPowerTable: c}, nil
}

func cidOrNil(c *cid.Cid) any {
	if c == nil {
		return nil
	}
	return c.String()
}
