package main

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/ipfs/go-cid"
)

func mustCid(t *testing.T, s string) cid.Cid {
	t.Helper()
	c, err := cid.Decode(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestMetadataEncoding pins the exact bytes of the metadata block: a 3-entry
// map, keys "F3Data", "Version", "HeadTipsetKey" in that order, CIDs as tag
// 42 byte strings with the 0x00 multibase prefix, F3Data null when absent.
func TestMetadataEncoding(t *testing.T) {
	head := mustCid(t, "bafy2bzaceadtoium264vjny6yilckbwe3asl7fx7akj5jely25jfyzngouqty")
	var buf bytes.Buffer
	if err := (&SnapshotMetadata{Version: 2, HeadTipsetKey: []cid.Cid{head}}).MarshalCBOR(&buf); err != nil {
		t.Fatal(err)
	}
	want := "a3" + "66" + hex.EncodeToString([]byte("F3Data")) + "f6" +
		"67" + hex.EncodeToString([]byte("Version")) + "02" +
		"6d" + hex.EncodeToString([]byte("HeadTipsetKey")) + "81" +
		"d82a" + "5827" + "00" + hex.EncodeToString(head.Bytes())
	if got := hex.EncodeToString(buf.Bytes()); got != want {
		t.Fatalf("encoding\n got  %s\n want %s", got, want)
	}
	var back SnapshotMetadata
	if err := back.UnmarshalCBOR(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	if back.Version != 2 || back.F3Data != nil || len(back.HeadTipsetKey) != 1 || back.HeadTipsetKey[0] != head {
		t.Fatalf("round trip: %+v", back)
	}
}

func TestMetadataDecodingLeniency(t *testing.T) {
	head := mustCid(t, "bafy2bzaceadtoium264vjny6yilckbwe3asl7fx7akj5jely25jfyzngouqty")
	hb := hex.EncodeToString(head.Bytes())
	cases := []struct {
		name string
		hex  string
		ok   bool
	}{
		// Keys in another order, plus an unknown key: accepted.
		{"reordered+unknown", "a3" + "6756657273696f6e" + "05" + "63666f6f" + "82f6f5" + "6d" + hex.EncodeToString([]byte("HeadTipsetKey")) + "81d82a5827" + "00" + hb, true},
		// An empty map decodes to the zero value.
		{"empty map", "a0", true},
		// A CBOR array (a block header) does not decode.
		{"array", "8400010203", false},
		// Version must be an unsigned integer.
		{"negative version", "a1" + "6756657273696f6e" + "20", false},
	}
	for _, c := range cases {
		b, err := hex.DecodeString(c.hex)
		if err != nil {
			t.Fatal(err)
		}
		var m SnapshotMetadata
		err = m.UnmarshalCBOR(bytes.NewReader(b))
		if (err == nil) != c.ok {
			t.Errorf("%s: err=%v, want ok=%v", c.name, err, c.ok)
		}
	}
}
