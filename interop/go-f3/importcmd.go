package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"github.com/filecoin-project/go-f3/certstore"
	"github.com/filecoin-project/go-f3/manifest"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	carv2 "github.com/ipld/go-car/v2"
	"github.com/klauspost/compress/zstd"
)

// outcome is the one-line verdict printed by import and validate.
type outcome struct {
	Result string `json:"result"`
	Error  string `json:"error"`
}

func outcomeOf(err error) outcome {
	if err != nil {
		return outcome{Result: "reject", Error: err.Error()}
	}
	return outcome{Result: "accept", Error: ""}
}

// crashError marks a recovered panic.
type crashError struct{ msg string }

func (e *crashError) Error() string { return e.msg }

func toOutcome(err error) outcome {
	var ce *crashError
	if errors.As(err, &ce) {
		return outcome{Result: "crash", Error: ce.msg}
	}
	return outcomeOf(err)
}

// guard runs f, turning a panic into a crashError.
func guard(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &crashError{msg: fmt.Sprintf("panic: %v", r)}
		}
	}()
	return f()
}

// parseManifest reads {"InitialInstance": N, "InitialPowerTable": CID} where
// the CID is a string or go-f3's JSON form {"/": "..."} (so go-f3's full
// manifest JSON works too; the other fields do not matter to an import).
func parseManifest(path string) (*manifest.Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw struct {
		InitialInstance   uint64
		InitialPowerTable json.RawMessage
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", path, err)
	}
	m := &manifest.Manifest{InitialInstance: raw.InitialInstance}
	pt := bytes.TrimSpace(raw.InitialPowerTable)
	switch {
	case len(pt) == 0 || string(pt) == "null":
	case pt[0] == '"':
		var s string
		if err := json.Unmarshal(pt, &s); err != nil {
			return nil, err
		}
		if s != "" {
			if m.InitialPowerTable, err = cid.Decode(s); err != nil {
				return nil, fmt.Errorf("manifest InitialPowerTable: %w", err)
			}
		}
	default:
		if err := json.Unmarshal(pt, &m.InitialPowerTable); err != nil {
			return nil, fmt.Errorf("manifest InitialPowerTable: %w", err)
		}
	}
	return m, nil
}

// isCar tells a CAR (whose first block is a CBOR map: the CARv1 header or the
// CARv2 pragma) from raw F3Data (whose header block is a CBOR array).
func isCar(prefix []byte) bool {
	r := bytes.NewReader(prefix)
	if _, err := binary.ReadUvarint(r); err != nil {
		return false
	}
	b, err := r.ReadByte()
	if err != nil {
		return false
	}
	return b>>5 == 5
}

// zstdMagic is what Lotus looks for (it compares the last three bytes) to
// decompress a snapshot as a stream before reading the CAR.
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// importFile imports a raw F3Data file or a Filecoin snapshot CAR into ds,
// decompressing zstd input first as Lotus does.
func importFile(ctx context.Context, path string, m *manifest.Manifest, ds datastore.Batching) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var r *bufio.Reader = bufio.NewReaderSize(f, 1<<20)
	if head, _ := r.Peek(4); len(head) == 4 && bytes.Equal(head[1:], zstdMagic[1:]) {
		dec, err := zstd.NewReader(r)
		if err != nil {
			return fmt.Errorf("zstd: %w", err)
		}
		defer dec.Close()
		r = bufio.NewReaderSize(dec, 1<<20)
	}
	head, err := r.Peek(16)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return err
	}
	if isCar(head) {
		return importCar(ctx, r, m, ds)
	}
	return certstore.ImportSnapshotToDatastore(ctx, r, ds, m)
}

// importCar follows Lotus's ChainStore.Import: one root means the first block
// should be the SnapshotMetadata; if it does not decode the CAR is taken as
// v1. With F3Data set the next section's CID must equal it and its bytes go
// to go-f3's importer (the F3 bytes themselves are not hashed, as in Lotus,
// which reads that section with NextReader). The remaining blocks are read
// with go-car's integrity checks but not interpreted.
func importCar(ctx context.Context, r io.Reader, m *manifest.Manifest, ds datastore.Batching) error {
	br, err := carv2.NewBlockReader(r)
	if err != nil {
		return fmt.Errorf("loadcar failed: %w", err)
	}
	if len(br.Roots) == 0 {
		return errors.New("no roots in snapshot car file")
	}
	if len(br.Roots) == 1 {
		blk, err := br.Next()
		if err != nil {
			return fmt.Errorf("failed to read snapshot metadata block: %w", err)
		}
		var md SnapshotMetadata
		if err := md.UnmarshalCBOR(bytes.NewReader(blk.RawData())); err == nil {
			if md.F3Data != nil {
				c, f3r, _, err := br.NextReader()
				if err != nil {
					return fmt.Errorf("failed to read F3Data reader: %w", err)
				}
				if c != *md.F3Data {
					return errors.New("F3Data CID mismatch")
				}
				if err := certstore.ImportSnapshotToDatastore(ctx, bufio.NewReader(f3r), ds, m); err != nil {
					return fmt.Errorf("failed to import f3Data to datastore: %w", err)
				}
			}
			if len(md.HeadTipsetKey) == 0 {
				// Lotus continues with roots = HeadTipsetKey; nextTailCid = roots[0].
				panic("SnapshotMetadata.HeadTipsetKey is empty: Lotus's import indexes roots[0] (index out of range)")
			}
		}
	}
	for {
		_, err := br.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

const importChildCmd = "__import-child"

// defaultImportMemoryLimit bounds the child's address space, so that a
// hostile block length ends in an allocation failure we can report rather
// than in the machine swapping.
const defaultImportMemoryLimit = 8 << 30

func importMemoryLimit() uint64 {
	if s := os.Getenv("F3HARNESS_IMPORT_RLIMIT_AS"); s != "" {
		if v, err := strconv.ParseUint(s, 10, 64); err == nil {
			return v
		}
	}
	return defaultImportMemoryLimit
}

// runImportChild is the hidden subcommand: it runs one import in this
// process, under an address-space limit, and prints the outcome.
func runImportChild(args []string) int {
	lim := importMemoryLimit()
	if lim > 0 {
		_ = syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: lim, Max: lim})
	}
	o := importOutcome(args)
	printJSONLine(o)
	return 0
}

func importOutcome(args []string) outcome {
	pos, flags, err := parseArgs(args, map[string]bool{"manifest": true, "reopen": false})
	if err != nil || len(pos) != 1 {
		return outcome{Result: "reject", Error: fmt.Sprintf("usage: import FILE [--manifest FILE] [--reopen] (%v)", err)}
	}
	var m *manifest.Manifest
	if mp := flags["manifest"]; mp != "" {
		if m, err = parseManifest(mp); err != nil {
			return outcome{Result: "reject", Error: "bad manifest: " + err.Error()}
		}
	}
	ctx := context.Background()
	ds := newMemDatastore()
	err = guard(func() error { return importFile(ctx, pos[0], m, ds) })
	if err == nil && flags["reopen"] == "true" {
		// What a node does next: open the certificate store it imported
		// into and load the latest certificate.
		err = guard(func() error {
			_, err := certstore.OpenStore(ctx, ds)
			if errors.Is(err, certstore.ErrNotInitialized) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("reopening the imported certificate store: %w", err)
			}
			return nil
		})
	}
	return toOutcome(err)
}

// runImport re-executes this binary with the hidden subcommand and relays its
// verdict; a child that dies (for example a Go fatal "out of memory", which
// recover cannot catch) is reported as a crash with its first stderr line.
func runImport(args []string) int {
	printJSONLine(importViaChild(args))
	return 0
}

// runImportBatch imports each file in turn, each in a child process of its
// own as import does, and prints one JSON line per file, naming it: one call
// for a whole batch of differential cases.
func runImportBatch(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: import-batch FILE [FILE ...]")
		return 2
	}
	for _, f := range args {
		printJSONLine(struct {
			File string `json:"file"`
			outcome
		}{f, importViaChild([]string{f})})
	}
	return 0
}

func importViaChild(args []string) outcome {
	exe, err := os.Executable()
	if err != nil {
		return outcome{Result: "crash", Error: "cannot find own executable: " + err.Error()}
	}
	cmd := exec.Command(exe, append([]string{importChildCmd}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	runErr := cmd.Run()
	line := strings.TrimSpace(stdout.String())
	var o outcome
	if runErr == nil && json.Unmarshal([]byte(line), &o) == nil && o.Result != "" {
		return o
	}
	first := ""
	for _, l := range strings.Split(stderr.String(), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			first = l
			break
		}
	}
	if first == "" && runErr != nil {
		first = runErr.Error()
	}
	return outcome{Result: "crash", Error: first}
}

func printJSONLine(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(b))
}
