package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/ipfs/go-cid"
	carv2 "github.com/ipld/go-car/v2"
)

// carInfo describes a Filecoin snapshot CAR.
type carInfo struct {
	Container   string // "carv1" or "carv2"
	Roots       []cid.Cid
	MetadataCid *cid.Cid
	Metadata    *SnapshotMetadata
	Blocks      int
	// F3 holds the bytes of the section that follows the metadata block
	// when the metadata names F3Data (nil otherwise).
	F3    []byte
	F3Cid *cid.Cid
}

// inspectCar reads every section of the CARv1 payload without verifying
// hashes, so that it can describe malformed inputs too.
func inspectCar(data []byte) (*carInfo, error) {
	br, err := carv2.NewBlockReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	info := &carInfo{Container: fmt.Sprintf("carv%d", br.Version), Roots: br.Roots}
	for i := 0; ; i++ {
		c, r, _, err := br.NextReader()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("section %d: %w", i, err)
		}
		body, err := io.ReadAll(r)
		if err != nil {
			return nil, fmt.Errorf("section %d: %w", i, err)
		}
		info.Blocks++
		switch {
		case i == 0 && len(br.Roots) == 1 && c == br.Roots[0]:
			var md SnapshotMetadata
			if md.UnmarshalCBOR(bytes.NewReader(body)) == nil {
				cc := c
				info.MetadataCid = &cc
				info.Metadata = &md
			}
		case i == 1 && info.Metadata != nil && info.Metadata.F3Data != nil:
			cc := c
			info.F3Cid = &cc
			info.F3 = body
		}
	}
	return info, nil
}

// f3BytesOf returns the F3Data of a file: the file itself when it is raw
// F3Data, the F3 section when it is a v2 snapshot CAR.
func f3BytesOf(data []byte) ([]byte, *carInfo, error) {
	if !isCar(data) {
		return data, nil, nil
	}
	info, err := inspectCar(data)
	if err != nil {
		return nil, nil, err
	}
	if info.Metadata == nil || info.Metadata.F3Data == nil {
		return nil, info, errors.New("snapshot CAR carries no F3 data")
	}
	if info.F3 == nil {
		return nil, info, errors.New("snapshot CAR names F3Data but has no section after the metadata")
	}
	if *info.F3Cid != *info.Metadata.F3Data {
		return nil, info, errors.New("F3Data CID mismatch")
	}
	return info.F3, info, nil
}
