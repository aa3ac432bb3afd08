package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/zstd"
)

// readInput reads a whole file, decompressing it first when it is zstd (the
// same test as importFile's, which follows Lotus).
func readInput(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) < 4 || !bytes.Equal(data[1:4], zstdMagic[1:]) {
		return data, nil
	}
	dec, err := zstd.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("zstd: %w", err)
	}
	defer dec.Close()
	out, err := io.ReadAll(dec)
	if err != nil {
		return nil, fmt.Errorf("zstd: %w", err)
	}
	return out, nil
}

// dumpF3 writes the snapshot header and then every certificate, one JSON
// line each, marshalled with encoding/json from go-f3's own types: the
// certificate lines are what a Lotus RPC client receives from
// Filecoin.F3GetCertificate. What decodes before an error is written before
// the error is returned.
func dumpF3(data []byte, w io.Writer) error {
	f3, _, err := f3BytesOf(data)
	if err != nil {
		return err
	}
	snap, decErr := decodeF3(f3)
	if snap == nil {
		return decErr
	}
	line := func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		b = append(b, '\n')
		_, err = w.Write(b)
		return err
	}
	if err := line(&snap.Header); err != nil {
		return fmt.Errorf("snapshot header: %w", err)
	}
	for i, c := range snap.Certs {
		if err := line(c); err != nil {
			return fmt.Errorf("certificate block %d (instance %d): %w", i, c.GPBFTInstance, err)
		}
	}
	return decErr
}

func runDump(args []string) int {
	pos, _, err := parseArgs(args, map[string]bool{})
	if err != nil || len(pos) != 1 {
		fmt.Fprintln(os.Stderr, "usage: dump FILE")
		return 2
	}
	data, err := readInput(pos[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "dump:", err)
		return 1
	}
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	err = guard(func() error { return dumpF3(data, w) })
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dump:", err)
		return 1
	}
	return 0
}
