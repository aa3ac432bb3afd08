package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/filecoin-project/go-f3/gpbft"
)

// heapSampler records the peak of live heap objects while it runs.
type heapSampler struct {
	stop chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	peak uint64
}

func startHeapSampler() *heapSampler {
	h := &heapSampler{stop: make(chan struct{})}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			v := sample[0].Value.Uint64()
			h.mu.Lock()
			if v > h.peak {
				h.peak = v
			}
			h.mu.Unlock()
		}
	}
	read()
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				read()
				return
			case <-t.C:
				read()
			}
		}
	}()
	return h
}

func (h *heapSampler) Stop() uint64 {
	close(h.stop)
	h.wg.Wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.peak
}

type benchResult struct {
	File                        string   `json:"file"`
	Bytes                       int      `json:"bytes"`
	Certificates                int      `json:"certificates"`
	DecodeSeconds               float64  `json:"decode_seconds"`
	ImportSeconds               float64  `json:"import_seconds"`
	DecodeBytesPerSecond        float64  `json:"decode_bytes_per_second"`
	DecodeCertificatesPerSecond float64  `json:"decode_certificates_per_second"`
	ImportBytesPerSecond        float64  `json:"import_bytes_per_second"`
	ImportCertificatesPerSecond float64  `json:"import_certificates_per_second"`
	Import                      outcome  `json:"import"`
	ValidateSeconds             *float64 `json:"validate_seconds,omitempty"`
	ValidateCertsPerSecond      *float64 `json:"validate_certificates_per_second,omitempty"`
	Validation                  *outcome `json:"validation,omitempty"`
	PeakHeapBytes               uint64   `json:"peak_heap_bytes"`
	GoF3Version                 string   `json:"go_f3_version"`
	GOMAXPROCS                  int      `json:"gomaxprocs"`
}

func rate(n int, secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return float64(n) / secs
}

func runBench(args []string) int {
	pos, flags, err := parseArgs(args, map[string]bool{"validate": false, "network": true})
	if err != nil || len(pos) != 1 {
		fmt.Fprintln(os.Stderr, "usage: bench FILE [--validate] [--network NAME]")
		return 2
	}
	res, err := bench(pos[0], flags["validate"] == "true", gpbft.NetworkName(orDefault(flags["network"], fixtureNetwork)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	printJSONLine(res)
	return 0
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// bench measures go-f3's decoding (our framing plus go-f3's CBOR decoders),
// go-f3's import into an in-memory datastore and, optionally, go-f3's
// certificate validation with its BLS verifier. The F3 bytes are read into
// memory first; for a CAR the F3 section is used.
func bench(path string, validate bool, network gpbft.NetworkName) (*benchResult, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f3, _, err := f3BytesOf(data)
	if err != nil {
		return nil, err
	}
	data = nil
	runtime.GC()
	sampler := startHeapSampler()

	res := &benchResult{File: path, Bytes: len(f3), GoF3Version: goF3Version(), GOMAXPROCS: runtime.GOMAXPROCS(0)}
	t := time.Now()
	snap, err := decodeF3(f3)
	res.DecodeSeconds = time.Since(t).Seconds()
	if err != nil {
		sampler.Stop()
		return nil, fmt.Errorf("decoding: %w", err)
	}
	res.Certificates = len(snap.Certs)
	res.DecodeBytesPerSecond = rate(len(f3), res.DecodeSeconds)
	res.DecodeCertificatesPerSecond = rate(len(snap.Certs), res.DecodeSeconds)
	if !validate {
		snap = nil
	}
	runtime.GC()

	t = time.Now()
	res.Import = toOutcome(guard(func() error { return importF3(context.Background(), bytes.NewReader(f3), nil) }))
	res.ImportSeconds = time.Since(t).Seconds()
	res.ImportBytesPerSecond = rate(len(f3), res.ImportSeconds)
	res.ImportCertificatesPerSecond = rate(res.Certificates, res.ImportSeconds)

	if validate {
		runtime.GC()
		t = time.Now()
		o := toOutcome(guard(func() error { return validateSnapshot(snap, network) }))
		secs := time.Since(t).Seconds()
		r := rate(len(snap.Certs), secs)
		res.ValidateSeconds, res.ValidateCertsPerSecond, res.Validation = &secs, &r, &o
	}
	res.PeakHeapBytes = sampler.Stop()
	return res, nil
}
