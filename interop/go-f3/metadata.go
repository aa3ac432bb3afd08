package main

import (
	"fmt"
	"io"

	"github.com/ipfs/go-cid"
	cbg "github.com/whyrusleeping/cbor-gen"
)

// SnapshotMetadata is the root block of a v2 Filecoin snapshot (FRC-0108).
//
// Its wire form is the one Lotus's cbor-gen code produces for its
// chain/store.SnapshotMetadata: a CBOR map with the keys "F3Data", "Version"
// and "HeadTipsetKey" in that order, F3Data being null when absent. The
// decoder follows the same leniencies as that generated code: fields may
// come in any order, unknown keys are skipped, missing keys leave the zero
// value, Version is not checked, and a repeated key overwrites the earlier
// value (except that null or an empty array leaves it in place).
type SnapshotMetadata struct {
	Version       uint64
	HeadTipsetKey []cid.Cid
	F3Data        *cid.Cid
}

const maxHeadTipsetKeys = 8192

func (m *SnapshotMetadata) MarshalCBOR(w io.Writer) error {
	cw := cbg.NewCborWriter(w)
	if err := cw.WriteMajorTypeHeader(cbg.MajMap, 3); err != nil {
		return err
	}
	writeKey := func(k string) error {
		if err := cw.WriteMajorTypeHeader(cbg.MajTextString, uint64(len(k))); err != nil {
			return err
		}
		_, err := cw.WriteString(k)
		return err
	}

	if err := writeKey("F3Data"); err != nil {
		return err
	}
	if m.F3Data == nil {
		if _, err := cw.Write(cbg.CborNull); err != nil {
			return err
		}
	} else if err := cbg.WriteCid(cw, *m.F3Data); err != nil {
		return fmt.Errorf("F3Data: %w", err)
	}

	if err := writeKey("Version"); err != nil {
		return err
	}
	if err := cw.WriteMajorTypeHeader(cbg.MajUnsignedInt, m.Version); err != nil {
		return err
	}

	if err := writeKey("HeadTipsetKey"); err != nil {
		return err
	}
	if len(m.HeadTipsetKey) > maxHeadTipsetKeys {
		return fmt.Errorf("HeadTipsetKey has %d entries, more than %d", len(m.HeadTipsetKey), maxHeadTipsetKeys)
	}
	if err := cw.WriteMajorTypeHeader(cbg.MajArray, uint64(len(m.HeadTipsetKey))); err != nil {
		return err
	}
	for _, c := range m.HeadTipsetKey {
		if err := cbg.WriteCid(cw, c); err != nil {
			return fmt.Errorf("HeadTipsetKey: %w", err)
		}
	}
	return nil
}

func (m *SnapshotMetadata) UnmarshalCBOR(r io.Reader) (err error) {
	*m = SnapshotMetadata{}
	cr := cbg.NewCborReader(r)
	maj, n, err := cr.ReadHeader()
	if err != nil {
		return err
	}
	defer func() {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
	}()
	if maj != cbg.MajMap {
		return fmt.Errorf("snapshot metadata: expected a CBOR map, got major type %d", maj)
	}
	if n > cbg.MaxLength {
		return fmt.Errorf("snapshot metadata: map too large (%d)", n)
	}
	// The longest key we know is "HeadTipsetKey" (13 bytes); longer keys
	// are read and skipped like any unknown key.
	keyBuf := make([]byte, len("HeadTipsetKey"))
	for i := uint64(0); i < n; i++ {
		klen, known, err := cbg.ReadFullStringIntoBuf(cr, keyBuf, 8192)
		if err != nil {
			return err
		}
		if !known {
			if err := cbg.ScanForLinks(cr, func(cid.Cid) {}); err != nil {
				return err
			}
			continue
		}
		switch string(keyBuf[:klen]) {
		case "F3Data":
			b, err := cr.ReadByte()
			if err != nil {
				return err
			}
			if b == cbg.CborNull[0] {
				// Like Lotus's generated code, null leaves an earlier
				// value of a duplicated key in place.
				continue
			}
			if err := cr.UnreadByte(); err != nil {
				return err
			}
			c, err := cbg.ReadCid(cr)
			if err != nil {
				return fmt.Errorf("snapshot metadata: F3Data: %w", err)
			}
			m.F3Data = &c
		case "Version":
			maj, v, err := cr.ReadHeader()
			if err != nil {
				return err
			}
			if maj != cbg.MajUnsignedInt {
				return fmt.Errorf("snapshot metadata: Version: wrong type for uint64 field")
			}
			m.Version = v
		case "HeadTipsetKey":
			maj, cnt, err := cr.ReadHeader()
			if err != nil {
				return err
			}
			if cnt > maxHeadTipsetKeys {
				return fmt.Errorf("snapshot metadata: HeadTipsetKey: array too large (%d)", cnt)
			}
			if maj != cbg.MajArray {
				return fmt.Errorf("snapshot metadata: HeadTipsetKey: expected a CBOR array")
			}
			// An empty array keeps an earlier value of a duplicated key,
			// as in Lotus's generated code.
			if cnt > 0 {
				m.HeadTipsetKey = make([]cid.Cid, cnt)
			}
			for j := range m.HeadTipsetKey {
				c, err := cbg.ReadCid(cr)
				if err != nil {
					return fmt.Errorf("snapshot metadata: HeadTipsetKey[%d]: %w", j, err)
				}
				m.HeadTipsetKey[j] = c
			}
		default:
			// A key that fits the buffer but is not one of ours.
			if err := cbg.ScanForLinks(cr, func(cid.Cid) {}); err != nil {
				return err
			}
		}
	}
	return nil
}
