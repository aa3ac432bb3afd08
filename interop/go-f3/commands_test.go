package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// What go-f3 v0.8.14 makes of mainnet's first ten certificates (instances
// 0 to 9) on the initial power table.
const (
	mainnetF3Cid           = "bafk2bzaceag56eznuqwekomqjstvvpnox24knrpnvevuujtxkuwblruf4dmp2"
	mainnetF3Bytes         = 161776
	mainnetInitialTableCid = "bafy2bzacecklgxd2eksmodvhgurqvorkg3wamgqkrunir3al2gchv2cikgmbu"
	mainnetFinalTableCid   = "bafy2bzaceb5yxdkkdomvwpfejeie5iagpx6ete6qnaaq7x4gt4w7isdi6xp2i"
)

func realDataPath(name string) string { return filepath.Join(defaultRealDataDir, name) }

func assembleMainnet(t *testing.T) *assembled {
	t.Helper()
	a, err := assembleFiles(realDataPath(realDataPowerTableFile), realDataPath(realDataCertificatesFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAssembleRealData(t *testing.T) {
	a := assembleMainnet(t)
	if a.Cid.String() != mainnetF3Cid || len(a.Data) != mainnetF3Bytes {
		t.Fatalf("F3 data %s (%d bytes), want %s (%d bytes)", a.Cid, len(a.Data), mainnetF3Cid, mainnetF3Bytes)
	}
	if a.Header.Version != 1 || a.Header.FirstInstance != 0 || a.Header.LatestInstance != 9 || len(a.Header.InitialPowerTable) != 1560 {
		t.Fatalf("header %d %d %d, %d entries", a.Header.Version, a.Header.FirstInstance, a.Header.LatestInstance, len(a.Header.InitialPowerTable))
	}

	// The command: F3 data and the CAR around it.
	dir := t.TempDir()
	out := filepath.Join(dir, "m.f3")
	res, err := assembleCommand(realDataPath(realDataPowerTableFile), realDataPath(realDataCertificatesFile), nil, false, out)
	if err != nil {
		t.Fatal(err)
	}
	if res.F3Cid != mainnetF3Cid || res.Bytes != mainnetF3Bytes || res.InitialPowerTableCid != mainnetInitialTableCid ||
		res.FinalPowerTableCid != mainnetFinalTableCid || res.Certificates != 10 || res.MetadataCid != nil {
		t.Fatalf("assemble printed %+v", res)
	}
	written, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(written, a.Data) {
		t.Fatal("assemble wrote other bytes than the export")
	}
	carPath := filepath.Join(dir, "m.car")
	res, err = assembleCommand(realDataPath(realDataPowerTableFile), realDataPath(realDataCertificatesFile), nil, true, carPath)
	if err != nil {
		t.Fatal(err)
	}
	car, err := os.ReadFile(carPath)
	if err != nil {
		t.Fatal(err)
	}
	f3, info, err := f3BytesOf(car)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f3, a.Data) || res.F3Cid != mainnetF3Cid || res.Bytes != len(car) || res.MetadataCid != info.MetadataCid.String() {
		t.Fatalf("CAR: %+v", res)
	}
	if len(info.Metadata.HeadTipsetKey) != 2 || info.Metadata.Version != 2 {
		t.Fatalf("CAR metadata %+v", info.Metadata)
	}
	for _, p := range []string{out, carPath} {
		if err := validateFile(p, realDataNetwork); err != nil {
			t.Errorf("%s: validation under %q: %v", p, realDataNetwork, err)
		}
		if err := validateFile(p, fixtureNetwork); err == nil {
			t.Errorf("%s: validates under %q", p, fixtureNetwork)
		}
		if o := importViaChild([]string{p}); o.Result != "accept" {
			t.Errorf("%s: import %+v", p, o)
		}
	}
}

// The same certificates given as NDJSON, one per line, give the same bytes.
func TestAssembleNDJSON(t *testing.T) {
	raw, err := os.ReadFile(realDataPath(realDataCertificatesFile))
	if err != nil {
		t.Fatal(err)
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatal(err)
	}
	var nd bytes.Buffer
	for _, c := range list {
		if err := json.Compact(&nd, c); err != nil {
			t.Fatal(err)
		}
		nd.WriteByte('\n')
	}
	p := filepath.Join(t.TempDir(), "certs.ndjson")
	if err := os.WriteFile(p, nd.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := assembleFiles(realDataPath(realDataPowerTableFile), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Cid.String() != mainnetF3Cid {
		t.Fatalf("from NDJSON: %s", a.Cid)
	}

	// Errors name what is wrong.
	one := uint64(1)
	if _, err := assembleFiles(realDataPath(realDataPowerTableFile), p, &one); err == nil ||
		!strings.Contains(err.Error(), "certificate 0 (instance 0)") {
		t.Errorf("first instance 1 with a certificate for 0: %v", err)
	}
	dup := append(append([]byte(nil), nd.Bytes()...), bytes.SplitAfter(nd.Bytes(), []byte("\n"))[9]...)
	if err := os.WriteFile(p, dup, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := assembleFiles(realDataPath(realDataPowerTableFile), p, nil); err == nil ||
		!strings.Contains(err.Error(), "certificate 10 (instance 9) repeats") {
		t.Errorf("repeated certificate: %v", err)
	}
	if err := os.WriteFile(p, []byte("{\"GPBFTInstance\": \"x\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := assembleFiles(realDataPath(realDataPowerTableFile), p, nil); err == nil ||
		!strings.Contains(err.Error(), "certificate 0") {
		t.Errorf("bad JSON: %v", err)
	}
}

func jsonValue(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestDumpRealData: dumping the assembled F3 data gives back the input.
// go-f3 tags PowerTableDelta `omitempty`, so its JSON has no PowerTableDelta
// key where the certificate has no delta; the input file writes `[]` there.
// That is the one difference allowed.
func TestDumpRealData(t *testing.T) {
	a := assembleMainnet(t)
	var out bytes.Buffer
	if err := dumpF3(a.Data, &out); err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSuffix(out.Bytes(), []byte("\n")), []byte("\n"))
	if len(lines) != 11 {
		t.Fatalf("%d lines, want the header and 10 certificates", len(lines))
	}
	hdr := jsonValue(t, lines[0]).(map[string]any)
	pt, err := os.ReadFile(realDataPath(realDataPowerTableFile))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(hdr["InitialPowerTable"], jsonValue(t, pt)) {
		t.Error("header power table differs from the input table")
	}
	delete(hdr, "InitialPowerTable")
	if want := map[string]any{"Version": 1.0, "FirstInstance": 0.0, "LatestInstance": 9.0}; !reflect.DeepEqual(hdr, want) {
		t.Errorf("header %v", hdr)
	}
	raw, err := os.ReadFile(realDataPath(realDataCertificatesFile))
	if err != nil {
		t.Fatal(err)
	}
	input := jsonValue(t, raw).([]any)
	omitted := 0
	for i, line := range lines[1:] {
		got := jsonValue(t, line).(map[string]any)
		want := input[i].(map[string]any)
		if d, ok := want["PowerTableDelta"].([]any); ok && len(d) == 0 {
			if _, present := got["PowerTableDelta"]; !present {
				delete(want, "PowerTableDelta")
				omitted++
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("certificate %d: dump differs from the input\n got  %s", i, line)
		}
	}
	if omitted != 9 {
		t.Errorf("%d certificates without PowerTableDelta, want 9 (instances 0 to 8)", omitted)
	}

	// The same from the CAR, and from a zstd copy of it.
	car, _, _, err := snapshotCarAround(a)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	zst := enc.EncodeAll(car, nil)
	dir := t.TempDir()
	for name, data := range map[string][]byte{"m.car": car, "m.car.zst": zst} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		in, err := readInput(p)
		if err != nil {
			t.Fatal(err)
		}
		var o bytes.Buffer
		if err := dumpF3(in, &o); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(o.Bytes(), out.Bytes()) {
			t.Errorf("%s: dump differs from the F3 data's", name)
		}
	}

	// A truncated stream: what decodes is written, then the error.
	var part bytes.Buffer
	if err := dumpF3(a.Data[:len(a.Data)-10], &part); err == nil {
		t.Error("truncated F3 data dumped without error")
	}
	if !bytes.HasPrefix(out.Bytes(), part.Bytes()) || bytes.Count(part.Bytes(), []byte("\n")) != 10 {
		t.Error("truncated F3 data: the header and 9 certificates should come out first")
	}
}

// testValidateChildHook makes the validation worker panic on a file named
// "panic-here" (recovered: the worker goes on) and die on "die-here" (a
// panic on another goroutine, which nothing recovers).
func testValidateChildHook(path string) {
	switch filepath.Base(path) {
	case "panic-here":
		panic("test panic")
	case "die-here":
		go func() { panic("test fatal") }()
		time.Sleep(time.Minute)
	}
}

func TestValidateBatch(t *testing.T) {
	fx := func(n string) string { return filepath.Join(vectorsDir, n) }
	files := []string{
		fx("tiny.f3"), fx("tiny-bad-signature.f3"), fx("no-such-file.f3"), "panic-here", fx("car-v2-tiny.car"),
		"die-here", fx("tiny.f3"), "die-here", "die-here", fx("tiny-truncated.f3"),
	}
	type verdict struct {
		file string
		o    outcome
	}
	var got []verdict
	validateBatchFiles(files, fixtureNetwork, func(f string, o outcome) { got = append(got, verdict{f, o}) })
	if len(got) != len(files) {
		t.Fatalf("%d verdicts for %d files", len(got), len(files))
	}
	want := []string{"accept", "reject", "reject", "crash", "accept", "crash", "accept", "crash", "crash", "reject"}
	for i, v := range got {
		if v.file != files[i] || v.o.Result != want[i] {
			t.Errorf("%d: %s: %+v, want %s", i, v.file, v.o, want[i])
		}
		if v.o.Result != "crash" && v.file != "die-here" && v.file != "panic-here" {
			direct := toOutcome(guard(func() error { return validateFile(v.file, fixtureNetwork) }))
			if direct != v.o {
				t.Errorf("%s: batch says %+v, validate says %+v", v.file, v.o, direct)
			}
		}
	}
	if got[3].o.Error != "panic: test panic" || !strings.HasPrefix(got[5].o.Error, "panic: test fatal") {
		t.Errorf("crash messages %q, %q", got[3].o.Error, got[5].o.Error)
	}

}
